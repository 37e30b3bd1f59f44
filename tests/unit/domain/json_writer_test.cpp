// The JSON writer writes byte for byte what boost::json::serialize writes for the same values, so
// the routes that moved to it answer exactly as before: every byte value in strings, integers at
// their limits, nesting, and tasks of every shape (both styles).
#include "domain/json_writer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "domain/task_json.h"
#include "support/task_samples.h"

namespace todo::domain {
namespace {

std::string written_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(JsonWriter, EveryByteIsEscapedAsBoostJsonEscapesIt) {
  for (int c = 0; c < 256; ++c) {
    const std::string text = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(written_string(text), boost::json::serialize(boost::json::string(text))) << c;
  }
}

TEST(JsonWriter, RandomStringsMatchBoostJson) {
  std::mt19937 random(4711);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 40);
  for (int i = 0; i < 2000; ++i) {
    std::string text(static_cast<std::size_t>(length(random)), '\0');
    for (char& c : text) c = static_cast<char>(byte(random));
    ASSERT_EQ(written_string(text), boost::json::serialize(boost::json::string(text)));
  }
  EXPECT_EQ(written_string(""), "\"\"");
  EXPECT_EQ(written_string("Grüße / \"quoted\" \\ \x7f"), "\"Grüße / \\\"quoted\\\" \\\\ \x7f\"");
}

TEST(JsonWriter, NestedValuesMatchBoostJson) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("empty_object").begin_object().end_object();
  w.key("empty_array").begin_array().end_array();
  w.key("numbers").begin_array();
  for (std::int64_t n : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42},
                         std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max()})
    w.integer(n);
  w.end_array();
  w.key("nested").begin_array().begin_object().key("a").null().end_object().begin_array()
      .boolean(true).boolean(false).end_array().string("x").end_array();
  w.key("k\"ey").string("v\n");
  w.end_object();
  const boost::json::value expected = {
      {"empty_object", boost::json::object()},
      {"empty_array", boost::json::array()},
      {"numbers", {0, -1, 42, std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max()}},
      {"nested", boost::json::array{boost::json::object{{"a", nullptr}},
                                    boost::json::array{true, false}, "x"}},
      {"k\"ey", "v\n"}};
  EXPECT_EQ(out, boost::json::serialize(expected));
}

// The task as task_to_json builds it, serialized; the seed style's "none" set in the object.
std::string through_the_dom(const Task& task, TaskJsonStyle style) {
  boost::json::object o = task_to_json(task);
  if (style == TaskJsonStyle::kSeed && !task.recurrence) o["recurrence"] = "none";
  return boost::json::serialize(o);
}

TEST(JsonWriter, TasksOfEveryShapeMatchTheDomInBothStyles) {
  std::vector<Task> tasks = {testing::sample_task(), testing::bare_task()};
  Task odd = testing::sample_task();
  odd.title = "Line\nbreak \"quoted\" \t tab \x01 and ünïcödé ✓";
  odd.description = std::string("nul\0inside", 10);
  odd.tags = {"a\\b", "", "x/y"};
  odd.reminders = {0, 1, 40320};
  odd.due_at = testing::at("1970-01-01T00:00:00Z");
  odd.completed_at = testing::at("9999-12-31T23:59:59.999Z");
  odd.version = std::numeric_limits<std::int64_t>::max();
  odd.all_day = true;
  odd.series_id.reset();
  odd.status = TaskStatus::kCompleted;
  odd.recurrence_mode = RecurrenceMode::kStrict;
  tasks.push_back(odd);
  Task far = testing::bare_task();
  far.created_at = Timestamp{} - std::chrono::hours(24 * 366 * 2000);  // year < 0: snprintf path
  far.updated_at = Timestamp{} + std::chrono::hours(24 * 366 * 9000);   // year > 9999
  far.recurrence = "FREQ=DAILY";
  tasks.push_back(far);
  for (const auto& task : tasks) {
    for (auto style : {TaskJsonStyle::kApi, TaskJsonStyle::kSeed}) {
      EXPECT_EQ(task_json_text(task, style), through_the_dom(task, style)) << task.title;
    }
  }
  // Tasks as the elements of a list, after other values: the writer puts the commas.
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("items").begin_array();
  boost::json::array items;
  for (const auto& task : tasks) {
    write_task_json(w, task);
    items.push_back(task_to_json(task));
  }
  w.end_array().key("next_cursor").null().end_object();
  EXPECT_EQ(out, boost::json::serialize(
                     boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}}));
}

}  // namespace
}  // namespace todo::domain

// Frames from task-updates CloudEvents and the parsing of client messages.
#include "services/sync/frames.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <optional>
#include <random>
#include <string>

namespace todo::services::sync {
namespace {

namespace json = boost::json;

TEST(FramesTest, TaskSyncBecomesATaskFrame) {
  auto frame = frame_from_event(
      R"({"type":"com.todo.task.sync","data":{"task_id":"t1","user_id":"u1","sequence":2,)"
      R"("user_seq":7,"action":"updated","changed_fields":{"title":"x"},"task":{"id":"t1"}}})");
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->user_id, "u1");
  EXPECT_EQ(frame->seq, 7);
  EXPECT_EQ(json::parse(frame->text),
            json::parse(R"({"type":"task.updated","seq":7,"task_id":"t1","task":{"id":"t1"},)"
                        R"("changed_fields":{"title":"x"}})"));
}

TEST(FramesTest, ADeleteHasNoTask) {
  auto frame = frame_from_event(
      R"({"type":"com.todo.task.sync","data":{"task_id":"t1","user_id":"u1","user_seq":8,)"
      R"("action":"deleted","changed_fields":{}}})");
  ASSERT_TRUE(frame);
  auto parsed = json::parse(frame->text).as_object();
  EXPECT_EQ(parsed.at("type"), "task.deleted");
  EXPECT_FALSE(parsed.contains("task"));
}

TEST(FramesTest, OtherTypesGoOutAsTheirData) {
  auto frame = frame_from_event(
      R"({"type":"com.todo.reminder.fired","data":{"task_id":"t1","user_id":"u1","title":"x"}})");
  ASSERT_TRUE(frame);
  EXPECT_FALSE(frame->seq);
  EXPECT_EQ(json::parse(frame->text),
            json::parse(R"({"type":"reminder.fired","task_id":"t1","user_id":"u1","title":"x"})"));
}

TEST(FramesTest, EventsWithoutAUserAreRefused) {
  EXPECT_FALSE(frame_from_event("not json"));
  EXPECT_FALSE(frame_from_event(R"({"type":"com.todo.task.sync","data":{"task_id":"t"}})"));
  EXPECT_FALSE(frame_from_event(R"({"type":"com.todo.task.sync","data":{"user_id":"u"}})"));
}

// ---- differential: the frames as the document-building rendering wrote them -----------------

std::optional<std::int64_t> reference_integer(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  return std::nullopt;
}

// frame_from_event as it was before it wrote text: a second document, then serialize().
std::optional<std::string> reference_frame(std::string_view cloud_event) {
  boost::system::error_code ec;
  json::value parsed = json::parse(cloud_event, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& event = parsed.as_object();
  const json::value* type_value = event.if_contains("type");
  const json::string* type = type_value ? type_value->if_string() : nullptr;
  const json::value* data_value = event.if_contains("data");
  if (!type || !data_value || !data_value->is_object()) return std::nullopt;
  const json::object& data = data_value->as_object();
  const json::value* user = data.if_contains("user_id");
  if (!user || !user->is_string() || user->as_string().empty()) return std::nullopt;
  const auto seq = reference_integer(data, "user_seq");
  json::object out;
  if (*type == "com.todo.task.sync") {
    const json::value* action = data.if_contains("action");
    const json::value* task_id = data.if_contains("task_id");
    if (!action || !action->is_string() || !task_id || !task_id->is_string() || !seq) {
      return std::nullopt;
    }
    out["type"] = "task." + std::string(action->as_string());
    out["seq"] = *seq;
    out["task_id"] = *task_id;
    if (const json::value* task = data.if_contains("task")) out["task"] = *task;
    const json::value* changed = data.if_contains("changed_fields");
    out["changed_fields"] = changed ? *changed : json::value(json::object{});
  } else {
    std::string_view kind = *type;
    if (kind.starts_with("com.todo.")) kind.remove_prefix(9);
    out["type"] = kind;
    if (seq) out["seq"] = *seq;
    for (const auto& member : data) {
      if (member.key() == "type" || member.key() == "user_seq") continue;
      out[member.key()] = member.value();
    }
  }
  return json::serialize(out);
}

// Random events: task syncs and other types, members present or not, keys that collide with the
// frame's own ("type", "seq", "user_seq"), strings with escapes and non-ASCII text, nested values.
class EventMaker {
 public:
  explicit EventMaker(unsigned seed) : rng_(seed) {}

  std::string event() {
    json::object data;
    const bool sync = pick(3) != 0;
    if (pick(10) != 0) data["user_id"] = pick(8) == 0 ? json::value("") : json::value(text());
    if (pick(6) != 0) data["user_seq"] = pick(10) == 0 ? json::value(text()) : json::value(number());
    if (sync) {
      if (pick(8) != 0) data["action"] = pick(3) == 0 ? "deleted" : "updated";
      if (pick(8) != 0) data["task_id"] = json::value(text());
      if (pick(3) != 0) data["task"] = nested(2);
      if (pick(3) != 0) data["changed_fields"] = nested(1);
    }
    const char* extra_keys[] = {"seq", "type", "title", "due", "\u00e9t\u00e9", "a\"b"};
    for (int i = pick(4); i > 0; --i) {
      data[json::string(extra_keys[pick(6)])] = value(2);
    }
    json::object event;
    event["specversion"] = "1.0";
    event["type"] = sync ? "com.todo.task.sync" : (pick(2) ? "com.todo.reminder.fired" : "other");
    event["data"] = std::move(data);
    return json::serialize(event);
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<unsigned>(n)); }
  std::int64_t number() { return static_cast<std::int64_t>(rng_() % 100000) - 10; }
  std::string text() {
    static const char* parts[] = {"a", "Z", "\"", "\\", "\n", "\t", "\x01", "\x1f", "/",
                                  "\u00e9", "\u2603", "\U0001F600", " ", "{", "]"};
    std::string out;
    for (int i = pick(8); i > 0; --i) out += parts[pick(15)];
    return out;
  }
  json::value value(int depth) {
    switch (pick(depth > 0 ? 7 : 5)) {
      case 0: return json::value(text());
      case 1: return json::value(number());
      case 2: return json::value(pick(2) == 0);
      case 3: return json::value(nullptr);
      case 4: return json::value(static_cast<double>(number()) / 8.0);
      default: return nested(depth - 1);
    }
  }
  json::value nested(int depth) {
    if (pick(2) == 0) {
      json::array a;
      for (int i = pick(4); i > 0; --i) a.push_back(value(depth));
      return a;
    }
    json::object o;
    for (int i = pick(4); i > 0; --i) o[json::string(text())] = value(depth);
    return o;
  }

  std::mt19937 rng_;
};

TEST(FramesTest, FramesAreByteForByteWhatTheDocumentRenderingWrote) {
  EventMaker maker(20261207);
  int framed = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string event = maker.event();
    const auto want = reference_frame(event);
    const auto got = frame_from_event(event);
    ASSERT_EQ(got.has_value(), want.has_value()) << event;
    if (!got) continue;
    ++framed;
    ASSERT_EQ(got->text, *want) << event;
  }
  EXPECT_GT(framed, 5000);  // the events are not all refused
}

TEST(FramesTest, TheFixedFramesAreWhatSerializingTheirDocumentGives) {
  EXPECT_EQ(hello_frame(42), json::serialize(json::object{{"type", "hello"}, {"seq", 42}}));
  EXPECT_EQ(resync_required_frame(7, "cursor \"old\"\n"),
            json::serialize(json::object{
                {"type", "resync-required"}, {"since", 7}, {"reason", "cursor \"old\"\n"}}));
  EXPECT_EQ(error_frame("bad", "\x01 é"),
            json::serialize(json::object{{"type", "error"}, {"code", "bad"}, {"message", "\x01 é"}}));
}

TEST(FramesTest, ClientMessages) {
  EXPECT_TRUE(std::holds_alternative<LegacyPing>(parse_client_message("ping")));
  EXPECT_TRUE(std::holds_alternative<Ping>(parse_client_message(R"({"type":"ping"})")));
  auto resume = parse_client_message(R"({"type":"resume","since":42})");
  ASSERT_TRUE(std::holds_alternative<Resume>(resume));
  EXPECT_EQ(std::get<Resume>(resume).since, 42);
  auto auth = parse_client_message(R"({"type":"auth","token":"abc"})");
  ASSERT_TRUE(std::holds_alternative<Auth>(auth));
  EXPECT_EQ(std::get<Auth>(auth).token, "abc");
  EXPECT_EQ(std::get<Invalid>(parse_client_message("{")).code, "invalid-json");
  EXPECT_EQ(std::get<Invalid>(parse_client_message("[]")).code, "invalid-json");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"nope"})")).code, "unknown-type");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"resume","since":-1})")).code,
            "invalid-field");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"resume","since":1.5})")).code,
            "invalid-field");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"auth"})")).code, "invalid-field");
}

}  // namespace
}  // namespace todo::services::sync

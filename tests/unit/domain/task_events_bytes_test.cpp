// The events are written as text (domain::JsonWriter); they were built as Boost.JSON documents and
// serialized. This keeps that rendering as the reference and checks, over random tasks and
// changes of every action, that each event is byte for byte what it produced: the outbox, the
// audit chain's payloads and every consumer see the same bytes as before.
#include "domain/task_events.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <random>

#include "domain/ids.h"
#include "domain/recurrence_rule.h"
#include "domain/task_json.h"
#include "domain/time_format.h"
#include "support/seeded_random.h"
#include "support/task_samples.h"

namespace todo::domain {
namespace {

// The rendering before issue 17, through a DOM (src/domain/task_events.cpp at a7c2904).
namespace reference {

namespace json = boost::json;

constexpr std::array<std::string_view, 11> kApiFields = {
    "title",   "description", "status",     "priority",        "tags",     "due_date",
    "all_day", "timezone",    "recurrence", "recurrence_mode", "reminders"};

json::array time_array(const std::vector<Timestamp>& times) {
  json::array out;
  for (const Timestamp t : times) out.emplace_back(format_rfc3339(t));
  return out;
}

json::array string_array(const std::vector<std::string>& values) {
  json::array out;
  for (const std::string& v : values) out.emplace_back(v);
  return out;
}

std::vector<std::string> fields_with_value(const json::object& task) {
  std::vector<std::string> names;
  for (const std::string_view name : kApiFields) {
    if (!task.at(name).is_null()) names.emplace_back(name);
  }
  return names;
}

template <class MakeData>
OutgoingEvent envelope(const TaskChange& change, RandomSource& random, std::string_view topic,
                       int partitions, std::string key, std::string type, MakeData make_data) {
  OutgoingEvent event;
  event.topic = std::string(topic);
  event.partition = partition_for(key, partitions);
  event.key = std::move(key);
  event.id = new_uuid_v7(change.time, random);
  event.type = std::move(type);
  const json::object cloud_event{
      {"specversion", "1.0"},
      {"type", event.type},
      {"source", change.source},
      {"id", event.id},
      {"time", format_rfc3339(change.time)},
      {"datacontenttype", "application/json"},
      {"subject", change.after.id},
      {"data", make_data(event.id)},
  };
  event.json = json::serialize(cloud_event);
  return event;
}

json::object event_payload(const Task& task, const std::vector<std::string>& changed) {
  json::object payload;
  payload["title"] = task.title;
  if (task.description) payload["description"] = task.description.value();
  payload["status"] = to_string(task.status);
  payload["priority"] = to_string(task.priority);
  payload["tags"] = string_array(task.tags);
  if (task.due_at) payload["due_date"] = format_rfc3339(task.due_at.value());
  payload["timezone"] = task.timezone;
  if (task.recurrence) {
    const RecurrenceSummary summary = summarize_recurrence(task.recurrence.value());
    payload["recurring_pattern"] = summary.pattern;
    payload["recurring_interval"] = summary.interval;
    payload["rrule"] = summary.rrule;
  }
  payload["recurrence_mode"] = to_string(task.recurrence_mode);
  json::array reminders;
  for (const int minutes : task.reminders) reminders.emplace_back(minutes);
  payload["reminders"] = std::move(reminders);
  if (task.series_id) payload["series_id"] = task.series_id.value();
  payload["changed_fields"] = string_array(changed);
  return payload;
}

OutgoingEvent task_event(const TaskChange& change, const json::object& after_json,
                         RandomSource& random) {
  const Task& after = change.after;
  std::vector<std::string> changed;
  json::object before;
  if (change.action == TaskAction::kCreated) {
    changed = fields_with_value(after_json);
  } else if (change.action != TaskAction::kDeleted) {
    changed = change.changed;
    if (change.before) {
      const json::object before_json = task_to_json(change.before.value());
      for (const std::string& name : changed) {
        const json::value* old = before_json.if_contains(name);
        if (old && !old->is_null()) before[name] = *old;
      }
    }
  }
  return envelope(change, random, kTaskEventsTopic, kTaskEventsPartitions, after.id,
                  "com.todo.task." + std::string(to_string(change.action)),
                  [&](const std::string& id) {
                    return json::object{
                        {"task_id", after.id},         {"user_id", after.user_id},
                        {"sequence", after.version},   {"idempotency_key", id},
                        {"actor", change.actor},       {"payload", event_payload(after, changed)},
                        {"before", std::move(before)},
                    };
                  });
}

OutgoingEvent sync_event(const TaskChange& change, const json::object& after_json,
                         std::int64_t user_seq, RandomSource& random) {
  const Task& after = change.after;
  json::object changed;
  if (change.action == TaskAction::kCreated) {
    for (const std::string_view name : kApiFields) changed[name] = after_json.at(name);
  } else if (change.action != TaskAction::kDeleted) {
    for (const std::string& name : change.changed) {
      if (const json::value* now = after_json.if_contains(name)) changed[name] = *now;
    }
  }
  return envelope(change, random, kTaskUpdatesTopic, kTaskUpdatesPartitions, after.user_id,
                  "com.todo.task.sync", [&](const std::string&) {
                    json::object data{
                        {"task_id", after.id},
                        {"user_id", after.user_id},
                        {"sequence", after.version},
                        {"user_seq", user_seq},
                        {"action", to_string(change.action)},
                        {"changed_fields", std::move(changed)},
                    };
                    if (change.action != TaskAction::kDeleted) data["task"] = after_json;
                    return data;
                  });
}

std::optional<OutgoingEvent> reminder_event(const TaskChange& change, RandomSource& random) {
  const Task& after = change.after;
  const std::vector<Timestamp> previous =
      change.before ? reminder_instants(change.before.value()) : std::vector<Timestamp>{};
  const std::vector<Timestamp> next = reminder_instants(after);
  if (previous == next) return std::nullopt;
  const bool cancel = next.empty();
  return envelope(change, random, kRemindersTopic, kRemindersPartitions, after.id,
                  cancel ? "com.todo.reminder.cancel" : "com.todo.reminder.schedule",
                  [&](const std::string&) {
                    json::object data{
                        {"task_id", after.id}, {"user_id", after.user_id}, {"title", after.title}};
                    if (after.due_at) data["due_date"] = format_rfc3339(after.due_at.value());
                    if (!cancel) data["reminder_time"] = format_rfc3339(next.front());
                    data["reminder_times"] = time_array(next);
                    data["notification_channels"] = json::array{"email"};
                    if (change.owner != nullptr) {
                      const User& owner = *change.owner;
                      data["user_email"] = owner.reminder_email.value_or(owner.email);
                    }
                    data["timezone"] = after.timezone;
                    return data;
                  });
}

std::vector<OutgoingEvent> task_change_events(const TaskChange& change, RandomSource& random) {
  std::vector<OutgoingEvent> events;
  const json::object after_json = task_to_json(change.after);
  events.push_back(task_event(change, after_json, random));
  events.push_back(sync_event(change, after_json, change.user_seq, random));
  if (auto reminders = reminder_event(change, random)) events.push_back(std::move(*reminders));
  return events;
}

}  // namespace reference

class RandomTasks {
 public:
  explicit RandomTasks(unsigned seed) : random_(seed) {}

  // Any byte but NUL-free ASCII control characters, quotes, backslashes and UTF-8 sequences.
  std::string text(int max_length) {
    static const std::array<std::string_view, 12> pieces = {
        "a", "Z", " ", "\"", "\\", "\n", "\x01", "\x7f", "\xC3\xA9", "\xE2\x82\xAC",
        "\xF0\x9F\x93\x85", "/"};
    std::string out;
    const int length = pick(0, max_length);
    for (int i = 0; i < length; ++i) out += pieces[static_cast<std::size_t>(pick(0, 11))];
    return out;
  }

  Task task() {
    Task t = testing::sample_task();
    t.id = "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a" + std::to_string(pick(10, 99));
    t.title = text(12);
    t.description = coin() ? std::optional<std::string>(text(8)) : std::nullopt;
    t.status = coin() ? TaskStatus::kPending : TaskStatus::kCompleted;
    t.priority = std::array{Priority::kLow, Priority::kMedium, Priority::kHigh}[pick(0, 2)];
    t.tags.clear();
    for (int i = pick(0, 3); i > 0; --i) t.tags.push_back(text(5));
    t.due_at = coin() ? std::optional<Timestamp>(testing::at("2026-12-01T08:00:00Z") +
                                                 std::chrono::minutes(pick(-100000, 100000)))
                      : std::nullopt;
    t.all_day = coin();
    t.timezone = coin() ? "Europe/Berlin" : "UTC";
    static const std::array<std::optional<std::string>, 5> rules = {
        std::nullopt, "daily", "monthly", "FREQ=WEEKLY;INTERVAL=2", "FREQ=DAILY;COUNT=3"};
    t.recurrence = rules[static_cast<std::size_t>(pick(0, 4))];
    t.recurrence_mode =
        std::array{RecurrenceMode::kDue, RecurrenceMode::kStrict, RecurrenceMode::kCompletion}
            [pick(0, 2)];
    t.series_id = coin() ? std::optional<std::string>(t.id) : std::nullopt;
    t.reminders.clear();
    for (int i = pick(0, 3); i > 0; --i) t.reminders.push_back(pick(0, 10080));
    t.version = pick(1, 1000);
    t.completed_at = t.status == TaskStatus::kCompleted
                         ? std::optional<Timestamp>(testing::at("2026-11-20T10:00:00Z"))
                         : std::nullopt;
    return t;
  }

  int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }
  bool coin() { return pick(0, 1) == 1; }

 private:
  std::mt19937 random_;
};

TEST(TaskEventBytes, EveryEventIsWhatTheDomRenderingWrote) {
  RandomTasks random(2026);
  User owner = testing::sample_owner();
  User other = owner;
  other.reminder_email = "reminders+\"x\"@example.com";
  for (int round = 0; round < 3000; ++round) {
    TaskChange c;
    c.action = std::array{TaskAction::kCreated, TaskAction::kUpdated, TaskAction::kCompleted,
                          TaskAction::kDeleted}[random.pick(0, 3)];
    c.after = random.task();
    if (c.action != TaskAction::kCreated) {
      Task before = random.coin() ? random.task() : c.after;
      before.id = c.after.id;
      c.before = before;
      c.changed = changed_fields(before, c.after);
      // Names a caller could pass that the task object lacks, or twice.
      if (random.pick(0, 9) == 0) c.changed.push_back("not_a_field");
      if (random.pick(0, 9) == 0 && !c.changed.empty()) c.changed.push_back(c.changed.front());
      if (random.pick(0, 9) == 0) c.changed.push_back("series_id");
    }
    if (c.action == TaskAction::kDeleted) c.after.deleted_at = testing::at("2026-11-21T00:00:00Z");
    c.actor = random.coin() ? "user:" + owner.id : "system:recurring";
    c.source = random.coin() ? "todo-api" : "recurring-task-service";
    c.user_seq = random.pick(0, 1 << 30);
    const int who = random.pick(0, 2);
    c.owner = who == 0 ? nullptr : (who == 1 ? &owner : &other);
    c.time = testing::at("2026-11-05T12:00:00.123Z") + std::chrono::microseconds(round * 7919);

    testing::SeededRandom ids_now{static_cast<std::uint64_t>(round)};
    testing::SeededRandom ids_then{static_cast<std::uint64_t>(round)};
    const auto now = task_change_events(c, ids_now);
    const auto then = reference::task_change_events(c, ids_then);
    ASSERT_EQ(now.size(), then.size()) << round;
    for (std::size_t i = 0; i < now.size(); ++i) {
      ASSERT_EQ(now[i].json, then[i].json) << "round " << round << ", " << then[i].topic;
      EXPECT_EQ(now[i].topic, then[i].topic);
      EXPECT_EQ(now[i].partition, then[i].partition);
      EXPECT_EQ(now[i].key, then[i].key);
      EXPECT_EQ(now[i].id, then[i].id);
      EXPECT_EQ(now[i].type, then[i].type);
    }
  }
}

}  // namespace
}  // namespace todo::domain

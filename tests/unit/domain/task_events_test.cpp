// The CloudEvents of task changes: the three topics, their partitions, and the absent-not-null
// rule of the event payloads.
#include "domain/task_events.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "domain/ids.h"
#include "domain/task_json.h"
#include "support/seeded_random.h"
#include "support/task_samples.h"

namespace todo::domain {
namespace {

namespace json = boost::json;
using testing::at;

// Vectors from a small independent Python port of Kafka's Utils.murmur2 (seed 0x9747b28c,
// m 0x5bd1e995, r 24), which reproduces the values of Kafka's UtilsTest.testMurmur2 ("21" ->
// -973932308, "foobar" -> -790332482, "abc" -> 479470107, ...):
//   partition = (murmur2(key.encode()) & 0x7fffffff) % partitions
// Modulo 2147483647 shows the positive hash itself, which is below that for every key here.
TEST(PartitionFor, MatchesKafkasDefaultPartitioner) {
  constexpr int kAll = 2147483647;
  EXPECT_EQ(partition_for("21", kAll), 1173551340);                         // murmur2 = -973932308
  EXPECT_EQ(partition_for("foobar", kAll), 1357151166);                     // -790332482
  EXPECT_EQ(partition_for("a-little-bit-long-string", kAll), 1161502112);   // -985981536
  EXPECT_EQ(partition_for("a-little-bit-longer-string", kAll), 661178819);  // -1486304829
  EXPECT_EQ(partition_for("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", kAll),
            2088585677);  // -58897971
  EXPECT_EQ(partition_for("abc", kAll), 479470107);
  EXPECT_EQ(partition_for("", kAll), 275646681);
  EXPECT_EQ(partition_for("key", kAll), 1067546281);  // murmur2 = -1079937367
  EXPECT_EQ(partition_for("a", kAll), 584102524);
  EXPECT_EQ(partition_for("\xC3\xBC"
                          "ber",
                          kAll),
            429217731);  // "über" as UTF-8 bytes
}

TEST(PartitionFor, ModuloThePartitionCount) {
  EXPECT_EQ(partition_for("21", 3), 0);
  EXPECT_EQ(partition_for("foobar", 3), 0);
  EXPECT_EQ(partition_for("a-little-bit-long-string", 3), 2);
  EXPECT_EQ(partition_for("abc", 3), 0);
  EXPECT_EQ(partition_for("key", 3), 1);
  EXPECT_EQ(partition_for("a", 3), 1);
  EXPECT_EQ(partition_for("0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b", 3), 2);
  EXPECT_EQ(partition_for("foobar", 10), 6);
  EXPECT_EQ(partition_for("a-little-bit-longer-string", 10), 9);
  EXPECT_EQ(partition_for("anything", 1), 0);
}

TEST(TaskAction, Names) {
  EXPECT_EQ(to_string(TaskAction::kCreated), "created");
  EXPECT_EQ(to_string(TaskAction::kUpdated), "updated");
  EXPECT_EQ(to_string(TaskAction::kCompleted), "completed");
  EXPECT_EQ(to_string(TaskAction::kDeleted), "deleted");
}

class TaskEvents : public ::testing::Test {
 protected:
  TaskChange change(TaskAction action, std::optional<Task> before, Task after) {
    TaskChange c;
    c.action = action;
    c.before = std::move(before);
    c.after = std::move(after);
    if (c.before) c.changed = changed_fields(c.before.value(), c.after);
    c.actor = "user:" + owner_.id;
    c.source = "todo-api";
    c.user_seq = 42;
    c.owner = &owner_;
    c.time = at("2026-11-05T12:00:00.123Z");
    return c;
  }

  std::vector<OutgoingEvent> events(const TaskChange& c) { return task_change_events(c, random_); }

  static const OutgoingEvent* find(const std::vector<OutgoingEvent>& events,
                                   std::string_view topic) {
    for (const OutgoingEvent& e : events) {
      if (e.topic == topic) return &e;
    }
    return nullptr;
  }

  // The parsed CloudEvent on `topic`, after checking the envelope against the OutgoingEvent.
  static json::object cloud_event(const std::vector<OutgoingEvent>& events,
                                  std::string_view topic) {
    const OutgoingEvent* event = find(events, topic);
    if (event == nullptr) {
      ADD_FAILURE() << "no event on " << topic;
      return {};
    }
    json::object ce = json::parse(event->json).as_object();
    EXPECT_EQ(ce.at("specversion"), "1.0");
    EXPECT_EQ(ce.at("type"), json::value(event->type));
    EXPECT_EQ(ce.at("source"), "todo-api");
    EXPECT_EQ(ce.at("id"), json::value(event->id));
    EXPECT_TRUE(is_uuid(event->id));
    EXPECT_EQ(ce.at("time"), "2026-11-05T12:00:00.123Z");
    EXPECT_EQ(ce.at("datacontenttype"), "application/json");
    EXPECT_EQ(ce.at("subject"), json::value(testing::sample_task().id));
    EXPECT_EQ(ce.size(), 8u);
    return ce;
  }

  static json::object data(const std::vector<OutgoingEvent>& events, std::string_view topic) {
    return cloud_event(events, topic).at("data").as_object();
  }

  User owner_ = testing::sample_owner();
  testing::SeededRandom random_{7};
};

TEST_F(TaskEvents, CreatedProducesAllThreeTopics) {
  const Task task = testing::sample_task();
  const auto out = events(change(TaskAction::kCreated, std::nullopt, task));
  ASSERT_EQ(out.size(), 3u);

  const OutgoingEvent& history = out[0];
  EXPECT_EQ(history.topic, kTaskEventsTopic);
  EXPECT_EQ(history.type, "com.todo.task.created");
  EXPECT_EQ(history.key, task.id);
  EXPECT_EQ(history.partition, partition_for(task.id, 3));
  EXPECT_EQ(history.partition, 2);

  const OutgoingEvent& sync = out[1];
  EXPECT_EQ(sync.topic, kTaskUpdatesTopic);
  EXPECT_EQ(sync.type, "com.todo.task.sync");
  EXPECT_EQ(sync.key, task.user_id);
  EXPECT_EQ(sync.partition, partition_for(task.user_id, 3));

  const OutgoingEvent& reminders = out[2];
  EXPECT_EQ(reminders.topic, kRemindersTopic);
  EXPECT_EQ(reminders.type, "com.todo.reminder.schedule");
  EXPECT_EQ(reminders.key, task.id);
  EXPECT_EQ(reminders.partition, 0);

  const std::set<std::string> ids{out[0].id, out[1].id, out[2].id};
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(TaskEvents, CreatedTaskEventCarriesThePayload) {
  const Task task = testing::sample_task();
  const auto out = events(change(TaskAction::kCreated, std::nullopt, task));
  const json::object d = data(out, kTaskEventsTopic);
  const json::value expected = json::parse(R"({
    "task_id": "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
    "user_id": "0193a4b2-0000-7000-8000-00000000000a",
    "sequence": 3,
    "actor": "user:0193a4b2-0000-7000-8000-00000000000a",
    "payload": {
      "title": "Pay rent", "description": "Transfer to the landlord", "status": "pending",
      "priority": "high", "tags": ["home", "money"], "due_date": "2026-12-01T08:00:00.000Z",
      "timezone": "Europe/Berlin", "recurring_pattern": "monthly", "recurring_interval": 1,
      "rrule": "FREQ=MONTHLY", "recurrence_mode": "due", "reminders": [15, 60],
      "series_id": "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
      "changed_fields": ["title", "description", "status", "priority", "tags", "due_date",
                         "all_day", "timezone", "recurrence", "recurrence_mode", "reminders"]},
    "before": {}})");
  json::object without_key = d;
  EXPECT_EQ(without_key.at("idempotency_key"), json::value(out[0].id));
  without_key.erase("idempotency_key");
  EXPECT_EQ(json::value(without_key), expected);
}

TEST_F(TaskEvents, CreatedSyncEventHasEveryFieldAndTheTask) {
  const Task task = testing::sample_task();
  const auto out = events(change(TaskAction::kCreated, std::nullopt, task));
  const json::object d = data(out, kTaskUpdatesTopic);
  EXPECT_EQ(d.at("task_id"), json::value(task.id));
  EXPECT_EQ(d.at("user_id"), json::value(task.user_id));
  EXPECT_EQ(d.at("sequence"), 3);
  EXPECT_EQ(d.at("user_seq"), 42);
  EXPECT_EQ(d.at("action"), "created");
  EXPECT_EQ(d.at("task"), task_to_json(task));
  const json::value expected_changed = json::parse(R"({
    "title": "Pay rent", "description": "Transfer to the landlord", "status": "pending",
    "priority": "high", "tags": ["home", "money"], "due_date": "2026-12-01T08:00:00.000Z",
    "all_day": false, "timezone": "Europe/Berlin", "recurrence": "monthly",
    "recurrence_mode": "due", "reminders": [15, 60]})");
  EXPECT_EQ(d.at("changed_fields"), expected_changed);
  EXPECT_EQ(d.size(), 7u);
}

TEST_F(TaskEvents, CreatedRemindersEventSchedulesTheFullSet) {
  const auto out = events(change(TaskAction::kCreated, std::nullopt, testing::sample_task()));
  const json::value expected = json::parse(R"({
    "task_id": "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
    "user_id": "0193a4b2-0000-7000-8000-00000000000a",
    "title": "Pay rent", "due_date": "2026-12-01T08:00:00.000Z",
    "reminder_time": "2026-12-01T07:00:00.000Z",
    "reminder_times": ["2026-12-01T07:00:00.000Z", "2026-12-01T07:45:00.000Z"],
    "notification_channels": ["email"], "user_email": "alice@example.com",
    "timezone": "Europe/Berlin"})");
  EXPECT_EQ(json::value(data(out, kRemindersTopic)), expected);
}

TEST_F(TaskEvents, RemindersGoToTheReminderAddressWhenSet) {
  owner_.reminder_email = "alerts@example.org";
  const auto out = events(change(TaskAction::kCreated, std::nullopt, testing::sample_task()));
  EXPECT_EQ(data(out, kRemindersTopic).at("user_email"), "alerts@example.org");
}

TEST_F(TaskEvents, OptionalMembersAreAbsentNotNull) {
  const Task task = testing::bare_task();
  const auto out = events(change(TaskAction::kCreated, std::nullopt, task));
  ASSERT_EQ(out.size(), 2u);  // no due date: no reminders
  const json::object payload = data(out, kTaskEventsTopic).at("payload").as_object();
  for (const char* name : {"description", "due_date", "recurring_pattern", "recurring_interval",
                           "rrule", "series_id"}) {
    EXPECT_FALSE(payload.contains(name)) << name;
  }
  for (const auto& member : payload) EXPECT_FALSE(member.value().is_null()) << member.key();
  EXPECT_EQ(payload.at("changed_fields"),
            json::parse(R"(["title", "status", "priority", "tags", "all_day", "timezone",
                            "recurrence_mode", "reminders"])"));
  // The sync event carries the API's task object, where null is the contract.
  const json::object sync = data(out, kTaskUpdatesTopic);
  EXPECT_TRUE(sync.at("changed_fields").at("description").is_null());
  EXPECT_TRUE(sync.at("task").at("due_date").is_null());
}

TEST_F(TaskEvents, UpdatedCarriesOldAndNewValuesOfTheChangedFields) {
  const Task before = testing::sample_task();
  Task after = before;
  after.title = "Pay the rent";
  after.description.reset();
  after.tags = {"home"};
  after.recurrence = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU";
  after.version = 4;
  const auto out = events(change(TaskAction::kUpdated, before, after));
  ASSERT_EQ(out.size(), 2u);  // the reminder instants did not move

  const json::object history = data(out, kTaskEventsTopic);
  EXPECT_EQ(cloud_event(out, kTaskEventsTopic).at("type"), "com.todo.task.updated");
  EXPECT_EQ(history.at("sequence"), 4);
  const json::object payload = history.at("payload").as_object();
  EXPECT_EQ(payload.at("changed_fields"),
            json::parse(R"(["title", "description", "tags", "recurrence"])"));
  EXPECT_FALSE(payload.contains("description"));
  EXPECT_EQ(payload.at("recurring_pattern"), "custom");
  EXPECT_EQ(payload.at("recurring_interval"), 2);
  EXPECT_EQ(payload.at("rrule"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");
  EXPECT_EQ(history.at("before"), json::parse(R"({"title": "Pay rent",
      "description": "Transfer to the landlord", "tags": ["home", "money"],
      "recurrence": "monthly"})"));

  const json::object sync = data(out, kTaskUpdatesTopic);
  EXPECT_EQ(sync.at("action"), "updated");
  EXPECT_EQ(sync.at("changed_fields"), json::parse(R"({"title": "Pay the rent",
      "description": null, "tags": ["home"], "recurrence": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"})"));
  EXPECT_EQ(sync.at("task"), task_to_json(after));
}

// Consumers that validate types never see null: an empty old value is left out of `before`, and
// changed_fields still names the field.
TEST_F(TaskEvents, AnEmptyOldValueIsAbsentFromBefore) {
  const Task before = testing::bare_task();
  Task after = before;
  after.description = "Now described";
  after.due_at = at("2026-12-24T17:00:00Z");
  after.version = 2;
  const auto out = events(change(TaskAction::kUpdated, before, after));
  const json::object d = data(out, kTaskEventsTopic);
  EXPECT_EQ(d.at("before"), json::object{});
  const json::array& changed = d.at("payload").at("changed_fields").as_array();
  EXPECT_NE(std::find(changed.begin(), changed.end(), json::value("description")), changed.end());
}

TEST_F(TaskEvents, MovingTheDueDateReschedulesTheReminders) {
  const Task before = testing::sample_task();
  Task after = before;
  after.due_at = at("2026-12-02T08:00:00Z");
  const auto out = events(change(TaskAction::kUpdated, before, after));
  ASSERT_EQ(out.size(), 3u);
  const json::object d = data(out, kRemindersTopic);
  EXPECT_EQ(cloud_event(out, kRemindersTopic).at("type"), "com.todo.reminder.schedule");
  EXPECT_EQ(d.at("reminder_time"), "2026-12-02T07:00:00.000Z");
  EXPECT_EQ(d.at("reminder_times"),
            json::parse(R"(["2026-12-02T07:00:00.000Z", "2026-12-02T07:45:00.000Z"])"));
  EXPECT_EQ(data(out, kTaskEventsTopic).at("before"),
            json::parse(R"({"due_date": "2026-12-01T08:00:00.000Z"})"));
}

TEST_F(TaskEvents, CompletingCancelsTheReminders) {
  const Task before = testing::sample_task();
  Task after = before;
  after.status = TaskStatus::kCompleted;
  after.completed_at = at("2026-11-05T12:00:00.123Z");
  after.version = 4;
  const auto out = events(change(TaskAction::kCompleted, before, after));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].type, "com.todo.task.completed");
  const json::object history = data(out, kTaskEventsTopic);
  EXPECT_EQ(history.at("payload").at("status"), "completed");
  EXPECT_EQ(history.at("payload").at("changed_fields"), json::parse(R"(["status"])"));
  EXPECT_EQ(history.at("before"), json::parse(R"({"status": "pending"})"));
  EXPECT_EQ(data(out, kTaskUpdatesTopic).at("action"), "completed");

  EXPECT_EQ(out[2].type, "com.todo.reminder.cancel");
  const json::object reminders = data(out, kRemindersTopic);
  EXPECT_FALSE(reminders.contains("reminder_time"));
  EXPECT_EQ(reminders.at("reminder_times"), json::array());
  EXPECT_EQ(reminders.at("due_date"), "2026-12-01T08:00:00.000Z");
  EXPECT_EQ(reminders.at("notification_channels"), json::parse(R"(["email"])"));
  for (const auto& member : reminders) EXPECT_FALSE(member.value().is_null()) << member.key();
}

TEST_F(TaskEvents, ReopeningSchedulesAgain) {
  Task before = testing::sample_task();
  before.status = TaskStatus::kCompleted;
  before.completed_at = at("2026-11-04T12:00:00Z");
  Task after = before;
  after.status = TaskStatus::kPending;
  after.completed_at.reset();
  after.version = 5;
  const auto out = events(change(TaskAction::kUpdated, before, after));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].type, "com.todo.task.updated");
  EXPECT_EQ(data(out, kTaskEventsTopic).at("before"), json::parse(R"({"status": "completed"})"));
  EXPECT_EQ(out[2].type, "com.todo.reminder.schedule");
  EXPECT_EQ(data(out, kRemindersTopic).at("reminder_times").as_array().size(), 2u);
}

TEST_F(TaskEvents, RemovingTheDueDateCancelsWithoutADueDate) {
  const Task before = testing::sample_task();
  Task after = before;
  after.due_at.reset();
  const auto out = events(change(TaskAction::kUpdated, before, after));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].type, "com.todo.reminder.cancel");
  const json::object reminders = data(out, kRemindersTopic);
  EXPECT_FALSE(reminders.contains("due_date"));
  EXPECT_FALSE(reminders.contains("reminder_time"));
}

TEST_F(TaskEvents, DeletedHasNoChangesAndNoTask) {
  const Task before = testing::sample_task();
  Task after = before;
  after.deleted_at = at("2026-11-05T12:00:00.123Z");
  after.version = 4;
  TaskChange c = change(TaskAction::kDeleted, before, after);
  c.changed.clear();
  const auto out = events(c);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].type, "com.todo.task.deleted");
  const json::object history = data(out, kTaskEventsTopic);
  EXPECT_EQ(history.at("payload").at("changed_fields"), json::array());
  EXPECT_EQ(history.at("before"), json::object());
  EXPECT_EQ(history.at("payload").at("title"), "Pay rent");

  const json::object sync = data(out, kTaskUpdatesTopic);
  EXPECT_EQ(sync.at("action"), "deleted");
  EXPECT_EQ(sync.at("changed_fields"), json::object());
  EXPECT_FALSE(sync.contains("task"));

  EXPECT_EQ(out[2].type, "com.todo.reminder.cancel");
}

TEST_F(TaskEvents, DeletingATaskWithoutRemindersSendsNoReminderEvent) {
  const Task before = testing::bare_task();
  Task after = before;
  after.deleted_at = at("2026-11-05T12:00:00.123Z");
  const auto out = events(change(TaskAction::kDeleted, before, after));
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(TaskEvents, IdsAreDistinctAcrossChanges) {
  std::set<std::string> ids;
  const Task task = testing::sample_task();
  for (int i = 0; i < 20; ++i) {
    for (const OutgoingEvent& e : events(change(TaskAction::kCreated, std::nullopt, task))) {
      ids.insert(e.id);
      EXPECT_EQ(json::parse(e.json).at("id"), json::value(e.id));
    }
  }
  EXPECT_EQ(ids.size(), 60u);
}

TEST_F(TaskEvents, SourceAndActorComeFromTheChange) {
  Task before = testing::sample_task();
  Task after = before;
  after.title = "Next";
  TaskChange c = change(TaskAction::kUpdated, before, after);
  c.source = "recurring-task-service";
  c.actor = "system:recurring";
  const auto out = events(c);
  const json::object ce = json::parse(out[0].json).as_object();
  EXPECT_EQ(ce.at("source"), "recurring-task-service");
  EXPECT_EQ(ce.at("data").at("actor"), "system:recurring");
}

// The write path renders events before the change counter is known and splices it in inside the
// transaction: the result must be byte for byte the direct rendering, for every action and for
// counters of any width, with texts that look like the counter's member name.
TEST_F(TaskEvents, SplicedRenderingEqualsTheDirectOne) {
  Task before = testing::sample_task();
  before.title = R"(sneaky "user_seq":-7340987112096541 title)";
  before.description = "\"user_seq\":1";
  Task after = before;
  after.title = "renamed";
  after.status = TaskStatus::kCompleted;
  after.reminders = {};
  Task tombstone = before;
  tombstone.deleted_at = at("2026-11-05T12:00:00.123Z");
  const std::vector<TaskChange> changes = {change(TaskAction::kCreated, std::nullopt, before),
                                           change(TaskAction::kUpdated, before, after),
                                           change(TaskAction::kCompleted, before, after),
                                           change(TaskAction::kDeleted, before, tombstone)};
  for (const TaskChange& base : changes) {
    for (const std::int64_t seq : {std::int64_t{0}, std::int64_t{1}, std::int64_t{42},
                                   std::int64_t{9'007'199'254'740'993}}) {
      TaskChange c = base;
      c.user_seq = seq;
      testing::SeededRandom direct_random{11};
      testing::SeededRandom pending_random{11};
      const auto direct = task_change_events(c, direct_random);
      c.user_seq = -1;  // not used by the pending rendering
      const auto pending = pending_task_change_events(c, pending_random);
      ASSERT_EQ(direct.size(), pending.size());
      for (std::size_t i = 0; i < direct.size(); ++i) {
        SCOPED_TRACE(direct[i].topic + " " + std::string(to_string(c.action)));
        EXPECT_EQ(pending[i].json(seq), direct[i].json);
        EXPECT_EQ(pending[i].topic, direct[i].topic);
        EXPECT_EQ(pending[i].partition, direct[i].partition);
        EXPECT_EQ(pending[i].key, direct[i].key);
        EXPECT_EQ(pending[i].id, direct[i].id);
        EXPECT_EQ(pending[i].type, direct[i].type);
        EXPECT_EQ(pending[i].has_user_seq, direct[i].topic == kTaskUpdatesTopic);
      }
    }
  }
}

}  // namespace
}  // namespace todo::domain

// The recurring service behind a real log bus on every backend, with a manual clock: the next
// occurrence is created once — not again for a redelivery, a reopen-and-complete, or an old
// occurrence completed late — and deleting the pending occurrence or running out of COUNT ends
// the series.
#include "services/recurring/recurring_service.h"

#include "bus/log_bus.h"
#include "domain/task_events.h"
#include "domain/time_format.h"
#include "store/outbox.h"
#include "store/store_test_support.h"
#include "support/task_owner.h"
#include "support/seeded_random.h"
#include "support/tzdata_catalog.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace todo::services::recurring {
namespace {

using domain::Patch;

const domain::Timestamp kNow = domain::parse_rfc3339("2026-10-12T10:00:00Z").value();

class RecurringServiceTest : public store::testing::BackendTest {
 protected:
  explicit RecurringServiceTest(domain::QuotaLimits quotas = {})
      : database_(open_database()),
        tasks_({*database_, zones_, clock_, random_}, quotas),
        recurring_(tasks_, zones_, clock_),
        bus_(*database_, clock_, random_, bus_options()) {
    owner_ = testing::insert_task_owner(*database_, clock_.now());
    // As todo serve subscribes it: plan() outside the writer, apply() in the transaction.
    bus_.subscribe(recurring_.subscription(*database_));
  }

  // No handler call may fail: the unique (series_id, occurrence_index) would also refuse a
  // second occurrence, but by failing (retries, then a dead letter), not by knowing better.
  void TearDown() override {
    for (const auto& p : bus_.stats()) {
      EXPECT_EQ(p.retried, 0) << "partition " << p.partition;
      EXPECT_EQ(p.dead_lettered, 0) << "partition " << p.partition;
    }
  }

  static bus::LogBusOptions bus_options() {
    bus::LogBusOptions options;
    options.partitions = {{std::string(domain::kTaskEventsTopic), domain::kTaskEventsPartitions}};
    return options;
  }

  domain::Task create(std::string recurrence, std::string due = "2026-10-13T09:00") {
    domain::TaskInput input;
    input.title = Patch<std::string>::of("Water the plants");
    input.tags = Patch<std::vector<std::string>>::of({"home"});
    input.due_date = Patch<std::string>::of(std::move(due));
    input.timezone = Patch<std::string>::of("Europe/Berlin");
    input.recurrence = Patch<std::string>::of(std::move(recurrence));
    input.reminders = Patch<std::vector<std::int64_t>>::of({15});
    auto created = tasks_.create(owner_.id, input, std::nullopt,
                                 [](const domain::Task&) { return store::StoredResponse{}; });
    EXPECT_TRUE(created) << (created ? "" : created.error().detail);
    return created.value().task;
  }

  void set_status(const std::string& id, domain::TaskStatus status) {
    auto done = tasks_.set_status(owner_.id, id, status, std::nullopt);
    ASSERT_TRUE(done) << done.error().detail;
  }
  void complete(const std::string& id) { set_status(id, domain::TaskStatus::kCompleted); }
  void reopen(const std::string& id) { set_status(id, domain::TaskStatus::kPending); }

  // Every task of the series, tombstones included, by occurrence index.
  std::vector<domain::Task> series(const std::string& series_id) {
    auto ids = store::read_value(*database_, [&](store::Transaction& s) {
      std::vector<std::string> out;
      for (const auto& row : s.query("SELECT id FROM tasks WHERE series_id = $1 "
                                     "ORDER BY occurrence_index", {series_id})) {
        out.push_back(row.text(0));
      }
      return out;
    });
    std::vector<domain::Task> out;
    store::TaskRepository repository([](std::string_view t) { return std::string(t); });
    for (const auto& id : ids) {
      out.push_back(*store::read_value(*database_, [&](store::Transaction& s) {
        return repository.find(s, owner_.id, id, true);
      }));
    }
    return out;
  }

  std::vector<boost::json::object> events_of(const std::string& task_id) {
    auto rows = store::read_value(*database_, [&](store::Transaction& s) {
      return s.query("SELECT payload FROM outbox WHERE topic = 'task-events' AND key = $1 "
                     "ORDER BY \"offset\"", {task_id});
    });
    std::vector<boost::json::object> out;
    for (const auto& row : rows) out.push_back(boost::json::parse(row.text(0)).as_object());
    return out;
  }

  domain::ManualClock clock_{kNow};
  todo::testing::SeededRandom random_;
  todo::testing::TzdataCatalog zones_;
  std::unique_ptr<store::Database> database_;
  tasks::TaskService tasks_;
  RecurringService recurring_;
  bus::LogBus bus_;
  domain::User owner_;
};

TEST_P(RecurringServiceTest, CompletingCreatesTheNextOccurrenceAsTheRecurringService) {
  auto first = create("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");  // Tue 13 Oct 2026, 09:00 CEST
  complete(first.id);
  bus_.poll_once();

  auto all = series(first.id);
  ASSERT_EQ(all.size(), 2u);
  const auto& next = all[1];
  EXPECT_EQ(next.occurrence_index, 1);
  EXPECT_EQ(next.series_id, first.id);
  EXPECT_EQ(next.status, domain::TaskStatus::kPending);
  EXPECT_EQ(next.title, "Water the plants");
  EXPECT_EQ(next.tags, std::vector<std::string>{"home"});
  EXPECT_EQ(next.reminders, std::vector<int>{15});
  EXPECT_EQ(next.timezone, "Europe/Berlin");
  EXPECT_EQ(next.recurrence, first.recurrence);
  // Two weeks later, after the end of summer time (25 Oct): still 09:00, now CET.
  EXPECT_EQ(domain::format_rfc3339(*next.due_at), "2026-10-27T08:00:00.000Z");
  EXPECT_EQ(all[0].status, domain::TaskStatus::kCompleted);  // kept as history

  auto events = events_of(next.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("type"), "com.todo.task.created");
  EXPECT_EQ(events[0].at("source"), "recurring-task-service");
  EXPECT_EQ(events[0].at("data").at("actor"), "system:recurring");

  EXPECT_EQ(bus_.poll_once(), 1);  // its own created event: nothing to do for it
  EXPECT_EQ(series(first.id).size(), 2u);
}

TEST_P(RecurringServiceTest, ARedeliveredCompletionCreatesNothingMore) {
  auto first = create("daily");
  complete(first.id);
  bus_.poll_once();
  ASSERT_EQ(series(first.id).size(), 2u);
  // Deliver the completed event again, past the bus's dedupe (as a Kafka redelivery could).
  auto payload = boost::json::serialize(events_of(first.id).back());
  database_->write([&](store::Transaction& tx) {
    recurring_.handle(bus::Event{"task-events", 0, 99, first.id, "redelivered", payload, kNow}, tx);
  });
  EXPECT_EQ(series(first.id).size(), 2u);
}

// plan() only reads, so it can run outside the writer (in a read transaction); apply() then runs
// statements only, and refuses a plan whose task changed in between.
TEST_P(RecurringServiceTest, APlanMadeOutsideTheWriterIsAppliedOnlyWhileItStillHolds) {
  auto first = create("daily");
  complete(first.id);
  const auto completed = events_of(first.id).back();
  const bus::Event event{"task-events", 0, 1, first.id, "e1", boost::json::serialize(completed),
                         kNow};
  auto plan = store::read_value(*database_,
                                [&](store::Transaction& s) { return recurring_.plan(event, s); });
  EXPECT_EQ(plan.action, Plan::Action::kCreateNext);
  ASSERT_TRUE(plan.next);
  EXPECT_EQ(plan.next->task.occurrence_index, 1);

  // The task changes before the plan is written: the plan is stale and writes nothing.
  reopen(first.id);
  complete(first.id);
  const bool stale_applied = store::write_value(
      *database_, [&](store::Transaction& tx) { return recurring_.apply(plan, tx); });
  EXPECT_FALSE(stale_applied);
  EXPECT_EQ(series(first.id).size(), 1U);

  // Planned again from the task as it is now, it is written.
  plan = store::read_value(*database_,
                           [&](store::Transaction& s) { return recurring_.plan(event, s); });
  EXPECT_TRUE(store::write_value(
      *database_, [&](store::Transaction& tx) { return recurring_.apply(plan, tx); }));
  ASSERT_EQ(series(first.id).size(), 2U);
  // The bus then delivers both completions: the series already has its next occurrence.
  bus_.poll_once();
  bus_.poll_once();
  EXPECT_EQ(series(first.id).size(), 2U);
}

TEST_P(RecurringServiceTest, ReopeningAndCompletingAgainCreatesNoSecondOccurrence) {
  auto first = create("daily");
  complete(first.id);
  bus_.poll_once();
  reopen(first.id);
  complete(first.id);
  bus_.poll_once();
  EXPECT_EQ(series(first.id).size(), 2u);
}

TEST_P(RecurringServiceTest, CompletingAnOldOccurrenceWhenANewerOneExistsCreatesNothing) {
  auto first = create("daily");
  complete(first.id);
  bus_.poll_once();
  auto second = series(first.id)[1];
  complete(second.id);
  bus_.poll_once();
  ASSERT_EQ(series(first.id).size(), 3u);
  reopen(second.id);
  complete(second.id);
  bus_.poll_once();
  EXPECT_EQ(series(first.id).size(), 3u);
}

TEST_P(RecurringServiceTest, DeletingThePendingOccurrenceEndsTheSeries) {
  auto first = create("weekly");
  complete(first.id);
  bus_.poll_once();
  auto second = series(first.id)[1];
  ASSERT_TRUE(tasks_.remove(owner_.id, second.id, std::nullopt));
  bus_.poll_once();
  reopen(first.id);
  complete(first.id);
  bus_.poll_once();
  EXPECT_EQ(series(first.id).size(), 2u);  // the first and the deleted second, nothing new
}

TEST_P(RecurringServiceTest, CountEndsTheSeries) {
  auto first = create("FREQ=DAILY;COUNT=2");
  complete(first.id);
  bus_.poll_once();
  auto all = series(first.id);
  ASSERT_EQ(all.size(), 2u);
  complete(all[1].id);
  bus_.poll_once();
  EXPECT_EQ(series(first.id).size(), 2u);
}

TEST_P(RecurringServiceTest, ATaskWithoutRecurrenceCreatesNothing) {
  domain::TaskInput input;
  input.title = Patch<std::string>::of("once");
  auto created = tasks_.create(owner_.id, input, std::nullopt,
                               [](const domain::Task&) { return store::StoredResponse{}; });
  ASSERT_TRUE(created);
  complete(created->task.id);
  bus_.poll_once();
  EXPECT_EQ(store::read_value(*database_, [](store::Transaction& s) {
              return s.query_one("SELECT COUNT(*) FROM tasks")->integer(0);
            }),
            1);
}

TEST_P(RecurringServiceTest, AMalformedEventThrowsAndWritesNothing) {
  database_->write([&](store::Transaction& tx) {
    EXPECT_THROW(recurring_.handle(bus::Event{"task-events", 0, 0, "k", "id", "not json", kNow}, tx),
                 bus::PermanentFailure);
    EXPECT_THROW(recurring_.handle(bus::Event{"task-events", 0, 0, "k", "id",
                                              R"({"type":"com.todo.task.completed","data":{}})", kNow},
                                   tx),
                 bus::PermanentFailure);
  });
}

// A next occurrence beyond the owner's task quota is skipped — counted, logged, the event done (no
// retry, no dead letter: TearDown checks) — and completing the occurrence again once there is room
// creates it.
class RecurringQuotaTest : public RecurringServiceTest {
 protected:
  RecurringQuotaTest() : RecurringServiceTest(two_tasks()) {}
  static domain::QuotaLimits two_tasks() {
    domain::QuotaLimits limits;
    limits.tasks = 2;
    return limits;
  }
  void drain() {
    while (bus_.poll_once() > 0) {
    }
  }
};

TEST_P(RecurringQuotaTest, ANextOccurrenceBeyondTheQuotaIsSkippedAndCountedNotRetried) {
  auto first = create("daily");
  domain::TaskInput input;
  input.title = Patch<std::string>::of("fills the quota");
  auto other = tasks_.create(owner_.id, input, std::nullopt,
                             [](const domain::Task&) { return store::StoredResponse{}; });
  ASSERT_TRUE(other);
  complete(first.id);
  drain();
  EXPECT_EQ(series(first.id).size(), 1u);
  EXPECT_EQ(recurring_.skipped_for_quota(), 1u);
  EXPECT_NE(recurring_.prometheus_text().find(
                "todo_recurring_skipped_total{reason=\"quota-exceeded\"} 1\n"),
            std::string::npos)
      << recurring_.prometheus_text();

  ASSERT_TRUE(tasks_.remove(owner_.id, other->task.id, std::nullopt));
  reopen(first.id);
  complete(first.id);
  drain();
  auto all = series(first.id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].occurrence_index, 1);
  EXPECT_EQ(all[1].status, domain::TaskStatus::kPending);
  EXPECT_EQ(recurring_.skipped_for_quota(), 1u);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(RecurringServiceTest);
TODO_STORE_TEST_ON_EVERY_BACKEND(RecurringQuotaTest);

}  // namespace
}  // namespace todo::services::recurring

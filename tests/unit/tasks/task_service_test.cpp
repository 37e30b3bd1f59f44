// TaskService on a real SQLite file with a manual clock: versions and change counters, no-op
// writes, and the sync cursor that outlives the kept tombstones (410 resync-required).
#include "tasks/task_service.h"

#include "domain/time_format.h"
#include "store/outbox.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store_test_support.h"
#include "support/task_owner.h"
#include "support/seeded_random.h"
#include "support/tzdata_catalog.h"

#include <gtest/gtest.h>

namespace todo::tasks {
namespace {

using domain::Patch;
using std::chrono::hours;

class TaskServiceTest : public ::testing::Test {
 protected:
  TaskServiceTest()
      : database_(store::open_sqlite({dir_.path() / "todo.db"})),
        tasks_({*database_, zones_, clock_, random_}) {
    owner_ = testing::insert_task_owner(*database_, clock_.now());
  }

  domain::Task create(std::string title) {
    domain::TaskInput input;
    input.title = Patch<std::string>::of(std::move(title));
    auto created = tasks_.create(owner_.id, input, std::nullopt,
                                 [](const domain::Task&) { return store::StoredResponse{}; });
    EXPECT_TRUE(created) << (created ? "" : created.error().detail);
    return created.value().task;
  }

  std::int64_t outbox_size() {
    return store::read_value(*database_, [](store::Transaction& s) {
      return s.query_one("SELECT count(*) FROM outbox").value().integer(0);
    });
  }

  store::testing::TempDir dir_;
  domain::ManualClock clock_{domain::Timestamp{} + hours(24 * 365 * 56)};
  todo::testing::SeededRandom random_;
  todo::testing::TzdataCatalog zones_;
  std::unique_ptr<store::Database> database_;
  TaskService tasks_;
  domain::User owner_;
};

TEST_F(TaskServiceTest, EveryChangeTakesTheNextVersionAndUserSeq) {
  auto a = create("first");
  auto b = create("second");
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.change_seq, 1);
  EXPECT_EQ(b.change_seq, 2);
  auto done = tasks_.set_status(owner_.id, a.id, domain::TaskStatus::kCompleted, std::nullopt);
  ASSERT_TRUE(done);
  EXPECT_EQ(done.value().version, 2);
  EXPECT_EQ(done.value().change_seq, 3);
  EXPECT_TRUE(done.value().completed_at.has_value());
}

TEST_F(TaskServiceTest, ANoOpChangeWritesNothing) {
  auto a = create("same");
  auto events_before = outbox_size();
  auto again = tasks_.set_status(owner_.id, a.id, domain::TaskStatus::kPending, std::nullopt);
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value().version, 1);
  EXPECT_EQ(outbox_size(), events_before);
}

TEST_F(TaskServiceTest, StaleIfMatchIsAConflictCarryingTheCurrentTask) {
  auto a = create("versioned");
  auto stale = tasks_.set_status(owner_.id, a.id, domain::TaskStatus::kCompleted, 7);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, domain::ErrorCode::kVersionConflict);
  ASSERT_EQ(stale.error().extensions.size(), 1u);
  EXPECT_EQ(stale.error().extensions[0].first, "task");
}

TEST_F(TaskServiceTest, SyncBeforePurgedTombstonesRequiresAResync) {
  auto a = create("to delete");
  create("kept");
  ASSERT_TRUE(tasks_.remove(owner_.id, a.id, std::nullopt));
  auto before_purge = tasks_.sync(owner_.id, 0, 100);
  ASSERT_TRUE(before_purge);
  EXPECT_EQ(before_purge.value().items.size(), 2u);  // the tombstone and the kept task

  clock_.advance(hours(24 * 31));
  tasks_.purge(hours(24 * 30));
  auto old_cursor = tasks_.sync(owner_.id, 0, 100);
  ASSERT_FALSE(old_cursor);
  EXPECT_EQ(old_cursor.error().code, domain::ErrorCode::kResyncRequired);

  auto current = tasks_.sync(owner_.id, 3, 100);  // the cursor after the deletion
  ASSERT_TRUE(current);
  EXPECT_TRUE(current.value().items.empty());
  EXPECT_EQ(current.value().cursor, 3);
}

TEST_F(TaskServiceTest, ACursorAheadOfTheServerRequiresAResync) {
  create("one");
  auto ahead = tasks_.sync(owner_.id, 99, 100);
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().code, domain::ErrorCode::kResyncRequired);
}

TEST_F(TaskServiceTest, ARecurringTaskIsAnchoredOnItsDueDateAndReanchoredWhenItMoves) {
  domain::TaskInput input;
  input.title = Patch<std::string>::of("Rent");
  input.due_date = Patch<std::string>::of("2026-01-31T09:00");
  input.timezone = Patch<std::string>::of("Europe/Berlin");
  input.recurrence = Patch<std::string>::of("FREQ=DAILY;COUNT=10");
  auto created = tasks_.create(owner_.id, input, std::nullopt,
                               [](const domain::Task&) { return store::StoredResponse{}; });
  ASSERT_TRUE(created);
  const domain::Task task = created.value().task;
  ASSERT_TRUE(task.recurrence_anchor);
  EXPECT_EQ(domain::format_local_date_time(*task.recurrence_anchor), "2026-01-31T09:00:00");
  EXPECT_EQ(task.recurrence_anchor_index, 0);
  EXPECT_EQ(tasks_.get(owner_.id, task.id).value().recurrence_anchor, task.recurrence_anchor);

  // Moved by two days: re-anchored there; it is still the first occurrence of its series.
  domain::TaskInput move;
  move.due_date = Patch<std::string>::of("2026-02-02T10:00");
  auto moved = tasks_.update(owner_.id, task.id, move, false, std::nullopt);
  ASSERT_TRUE(moved);
  EXPECT_EQ(domain::format_local_date_time(*moved.value().recurrence_anchor),
            "2026-02-02T10:00:00");
  EXPECT_EQ(moved.value().recurrence_anchor_index, 0);

  // A title change keeps the anchor; a new rule anchors again.
  domain::TaskInput retitle;
  retitle.title = Patch<std::string>::of("Rent, again");
  EXPECT_EQ(
      tasks_.update(owner_.id, task.id, retitle, false, std::nullopt).value().recurrence_anchor,
      moved.value().recurrence_anchor);
  domain::TaskInput rule;
  rule.recurrence = Patch<std::string>::of("weekly");
  auto reruled = tasks_.update(owner_.id, task.id, rule, false, std::nullopt);
  ASSERT_TRUE(reruled);
  EXPECT_EQ(reruled.value().recurrence_anchor, moved.value().recurrence_anchor);
  EXPECT_EQ(tasks_.get(owner_.id, task.id).value().recurrence_anchor_index, 0);

  domain::TaskInput stop;
  stop.recurrence = Patch<std::string>::null();
  auto plain = tasks_.update(owner_.id, task.id, stop, false, std::nullopt);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain.value().recurrence_anchor);
}

}  // namespace
}  // namespace todo::tasks

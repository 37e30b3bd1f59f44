// Resume reads from the log: one user's task-updates after a seq, in order, in one snapshot with
// the user's counter; resync-required when retention took a needed event, when the cursor is
// ahead, or when more changes are missing than a connection may be behind.
#include "services/sync/change_log.h"

#include <gtest/gtest.h>

#include "store/open_database.h"
#include "store/outbox.h"
#include "store/store_test_support.h"
#include "store/user_repository.h"
#include "support/task_owner.h"

namespace todo::services::sync {
namespace {

using store::testing::TempDir;

constexpr auto kStart = domain::Timestamp(std::chrono::seconds(1'800'000'000));

class ChangeLogTest : public ::testing::Test {
 protected:
  ChangeLogTest() {
    store::DatabaseOptions options;
    options.path = dir_.path() / "todo.db";
    database_ = store::open_database(options);
    owner_ = todo::testing::insert_task_owner(*database_, kStart);
  }

  // A change of `user`: its counter moves on and its task-updates event is appended.
  void change(const std::string& user) {
    database_->write([&](store::Transaction& tx) {
      const auto seq = store::UserRepository{}.next_change_seq(tx, user);
      const std::string id = "e-" + user + "-" + std::to_string(seq);
      store::OutboxRepository{}.append(
          tx,
          {"task-updates", 0, user, id,
           R"({"type":"com.todo.task.sync","data":{"task_id":"t","user_id":")" + user +
               R"(","user_seq":)" + std::to_string(seq) +
               R"(,"action":"updated","changed_fields":{},"task":{}}})"},
          kStart);
    });
  }

  TempDir dir_;
  std::unique_ptr<store::Database> database_;
  domain::User owner_;
};

// The query a resume runs is served by the partial index outbox_user_changes (migration 0009):
// its literal topic proves the index's predicate.
TEST_F(ChangeLogTest, TheResumeQueryIsServedByTheChangeIndex) {
  const auto plan = store::read_value(*database_, [&](store::Transaction& s) {
    std::string details;
    for (const auto& row :
         s.query("EXPLAIN QUERY PLAN " + std::string(ChangeLog::changes_query(s.dialect())),
                 {owner_.id, std::int64_t{0}, std::int64_t{10}}))
      details += row.text(3) + "\n";
    return details;
  });
  EXPECT_NE(plan.find("USING INDEX outbox_user_changes"), std::string::npos) << plan;
}

TEST_F(ChangeLogTest, ReplaysTheUsersChangesAfterTheCursorInOrder) {
  domain::User other = owner_;
  other.id = "01900000-0000-7000-8000-000000000002";
  other.email = "other@example.com";
  database_->write([&](store::Transaction& tx) { store::UserRepository{}.insert(tx, other); });
  for (int i = 0; i < 5; ++i) {
    change(owner_.id);
    change(other.id);
  }
  ChangeLog log(*database_, 100);
  EXPECT_EQ(log.current_seq(owner_.id), 5);
  auto replay = log.since(owner_.id, 2);
  ASSERT_FALSE(replay.resync_reason);
  EXPECT_EQ(replay.current, 5);
  ASSERT_EQ(replay.frames.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(replay.frames[i].seq, static_cast<std::int64_t>(3 + i));
    EXPECT_EQ(replay.frames[i].user_id, owner_.id);
  }
  EXPECT_TRUE(log.since(owner_.id, 5).frames.empty());
  EXPECT_FALSE(log.since(owner_.id, 5).resync_reason);
}

TEST_F(ChangeLogTest, APurgedEventMeansResyncRequired) {
  for (int i = 0; i < 4; ++i) change(owner_.id);
  database_->write([&](store::Transaction& tx) {
    tx.execute("DELETE FROM outbox WHERE event_id = $1", {"e-" + owner_.id + "-2"});
  });
  ChangeLog log(*database_, 100);
  EXPECT_TRUE(log.since(owner_.id, 0).resync_reason);
  EXPECT_TRUE(log.since(owner_.id, 1).resync_reason);
  auto after = log.since(owner_.id, 2);
  EXPECT_FALSE(after.resync_reason);
  EXPECT_EQ(after.frames.size(), 2u);
}

TEST_F(ChangeLogTest, ACursorAheadOrTooFarBehindMeansResyncRequired) {
  for (int i = 0; i < 6; ++i) change(owner_.id);
  ChangeLog log(*database_, 3);
  EXPECT_TRUE(log.since(owner_.id, 7).resync_reason);
  EXPECT_TRUE(log.since(owner_.id, 2).resync_reason);
  EXPECT_EQ(log.since(owner_.id, 3).frames.size(), 3u);
}

}  // namespace
}  // namespace todo::services::sync

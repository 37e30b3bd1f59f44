// The write path of TaskService: one read, the computation outside the writer, one write that
// checks the version read (compare-and-set). A write that lands between the read and the write
// makes the change start over from the new state (or a 412 with If-Match, or 503 after
// kWriteAttempts); the owner's change counter and the events' user_seq never skip a number.
#include "tasks/task_service.h"

#include "store/outbox.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store_test_support.h"
#include "support/task_owner.h"
#include "support/seeded_random.h"
#include "support/tzdata_catalog.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace todo::tasks {
namespace {

using domain::Patch;

// A Database that counts reads and writes and can run something just before a write: another
// request's change landing between this request's read and its write.
class InterposingDatabase final : public store::Database {
 public:
  explicit InterposingDatabase(store::Database& inner) : inner_(inner) {}

  store::Dialect dialect() const override { return inner_.dialect(); }
  void read(const std::function<void(store::Transaction&)>& work) override {
    ++reads;
    inner_.read(work);
  }
  void write(const std::function<void(store::Transaction&)>& work) override {
    ++writes;
    if (before_write) before_write();
    inner_.write(work);
  }
  bool ping() override { return inner_.ping(); }
  store::CommitListenerId add_commit_listener(store::CommitListener listener) override {
    return inner_.add_commit_listener(std::move(listener));
  }
  void remove_commit_listener(store::CommitListenerId id) override {
    inner_.remove_commit_listener(id);
  }

  std::function<void()> before_write;
  int reads = 0;
  int writes = 0;

 private:
  store::Database& inner_;
};

class TaskWritePathTest : public ::testing::Test {
 protected:
  TaskWritePathTest()
      : database_(store::open_sqlite({dir_.path() / "todo.db"})),
        interposing_(*database_),
        tasks_({interposing_, zones_, clock_, random_}),
        other_({*database_, zones_, clock_, other_random_}) {
    owner_ = testing::insert_task_owner(*database_, clock_.now());
  }

  static domain::TaskInput titled(std::string title) {
    domain::TaskInput input;
    input.title = Patch<std::string>::of(std::move(title));
    return input;
  }

  domain::Task create(std::string title) {
    auto created = tasks_.create(owner_.id, titled(std::move(title)), std::nullopt,
                                 [](const domain::Task&) { return store::StoredResponse{}; });
    EXPECT_TRUE(created) << (created ? "" : created.error().detail);
    return created.value().task;
  }

  // Another request changes the task's description through the same database.
  void change_elsewhere(const std::string& id, std::string description) {
    domain::TaskInput input;
    input.description = Patch<std::string>::of(std::move(description));
    auto changed = other_.update(owner_.id, id, input, false, std::nullopt);
    ASSERT_TRUE(changed) << changed.error().detail;
  }

  // The user_seq of every task-updates event, in outbox order.
  std::vector<std::int64_t> user_seqs() {
    return store::read_value(*database_, [](store::Transaction& s) {
      std::vector<std::int64_t> out;
      for (const auto& row :
           s.query("SELECT payload FROM outbox WHERE topic = 'task-updates' ORDER BY rowid")) {
        out.push_back(boost::json::parse(row.text(0)).at("data").at("user_seq").as_int64());
      }
      return out;
    });
  }

  std::int64_t owner_change_seq() {
    return store::read_value(*database_, [&](store::Transaction& s) {
      return store::UserRepository{}.find_by_id(s, owner_.id).value().change_seq;
    });
  }

  store::testing::TempDir dir_;
  domain::ManualClock clock_{domain::Timestamp{} + std::chrono::hours(24 * 365 * 56)};
  todo::testing::SeededRandom random_;
  todo::testing::SeededRandom other_random_{99};
  todo::testing::TzdataCatalog zones_;
  std::unique_ptr<store::Database> database_;
  InterposingDatabase interposing_;
  TaskService tasks_;
  TaskService other_;
  domain::User owner_;
};

TEST_F(TaskWritePathTest, AChangeIsOneReadAndOneWrite) {
  const auto task = create("first");
  EXPECT_EQ(interposing_.reads, 1);
  EXPECT_EQ(interposing_.writes, 1);
  ASSERT_TRUE(tasks_.update(owner_.id, task.id, titled("renamed"), false, std::nullopt));
  EXPECT_EQ(interposing_.reads, 2);
  EXPECT_EQ(interposing_.writes, 2);
  // Nothing changes: no write at all.
  ASSERT_TRUE(tasks_.update(owner_.id, task.id, titled("renamed"), false, std::nullopt));
  EXPECT_EQ(interposing_.writes, 2);
}

TEST_F(TaskWritePathTest, AWriteBetweenReadAndWriteMakesTheChangeStartOverFromTheNewState) {
  const auto task = create("first");
  bool once = true;
  interposing_.before_write = [&] {
    if (std::exchange(once, false)) change_elsewhere(task.id, "written in between");
  };
  auto renamed = tasks_.update(owner_.id, task.id, titled("renamed"), false, std::nullopt);
  ASSERT_TRUE(renamed) << renamed.error().detail;
  EXPECT_EQ(renamed->version, 3);
  EXPECT_EQ(renamed->title, "renamed");
  EXPECT_EQ(renamed->description, "written in between");  // not lost
  EXPECT_EQ(interposing_.reads, 3);                       // create, then two attempts
  EXPECT_EQ(interposing_.writes, 3);
  // Counters without gaps: the failed attempt allocated none.
  EXPECT_EQ(renamed->change_seq, 3);
  EXPECT_EQ(owner_change_seq(), 3);
  EXPECT_EQ(user_seqs(), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(tasks_.get(owner_.id, task.id)->change_seq, 3);
}

TEST_F(TaskWritePathTest, WithIfMatchAWriteInBetweenIsAConflictCarryingTheCurrentTask) {
  const auto task = create("first");
  int in_between = 0;
  interposing_.before_write = [&] {
    change_elsewhere(task.id, "written in between " + std::to_string(++in_between));
  };
  auto stale = tasks_.set_status(owner_.id, task.id, domain::TaskStatus::kCompleted, 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, domain::ErrorCode::kVersionConflict);
  ASSERT_EQ(stale.error().extensions.size(), 1U);
  EXPECT_NE(stale.error().extensions[0].second.find("\"version\":2"), std::string::npos);
  auto removed = tasks_.remove(owner_.id, task.id, 2);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, domain::ErrorCode::kVersionConflict);
  EXPECT_EQ(user_seqs(), (std::vector<std::int64_t>{1, 2, 3}));  // only the others' changes
  EXPECT_EQ(in_between, 2);
}

TEST_F(TaskWritePathTest, ATaskThatKeepsChangingEndsInA503AfterBoundedAttempts) {
  const auto task = create("first");
  int in_between = 0;
  interposing_.before_write = [&] {
    change_elsewhere(task.id, "change " + std::to_string(++in_between));
  };
  auto lost = tasks_.update(owner_.id, task.id, titled("renamed"), false, std::nullopt);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, domain::ErrorCode::kOverloaded);
  EXPECT_EQ(lost.error().retry_after_seconds, 1);
  EXPECT_EQ(in_between, kWriteAttempts);
  const auto now = tasks_.get(owner_.id, task.id).value();
  EXPECT_EQ(now.title, "first");
  EXPECT_EQ(now.version, 1 + kWriteAttempts);
  EXPECT_EQ(owner_change_seq(), 1 + kWriteAttempts);
}

TEST_F(TaskWritePathTest, ADeletionInBetweenIsNotFound) {
  const auto task = create("first");
  interposing_.before_write = [&] { ASSERT_TRUE(other_.remove(owner_.id, task.id, std::nullopt)); };
  auto gone = tasks_.update(owner_.id, task.id, titled("renamed"), false, std::nullopt);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, domain::ErrorCode::kTaskNotFound);
}

TEST_F(TaskWritePathTest, AnIdempotencyKeyUsedInBetweenIsReplayed) {
  const IdempotencyKey key{"k1", "hash-1"};
  const auto render = [](const domain::Task& task) {
    store::StoredResponse r;
    r.status = 201;
    r.body = task.title;
    return r;
  };
  bool once = true;
  interposing_.before_write = [&] {
    if (!std::exchange(once, false)) return;
    auto first = other_.create(owner_.id, titled("the first"), key, render);
    ASSERT_TRUE(first);
  };
  auto second = tasks_.create(owner_.id, titled("the second"), key, render);
  ASSERT_TRUE(second) << second.error().detail;
  ASSERT_TRUE(second->replay);
  EXPECT_EQ(second->replay->body, "the first");
  EXPECT_EQ(user_seqs(), (std::vector<std::int64_t>{1}));
  // A replay from the read alone writes nothing.
  const int writes = interposing_.writes;
  auto third = tasks_.create(owner_.id, titled("the second"), key, render);
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->replay);
  EXPECT_EQ(interposing_.writes, writes);
  auto other_request = tasks_.create(owner_.id, titled("else"), IdempotencyKey{"k1", "hash-2"},
                                     render);
  ASSERT_FALSE(other_request);
  EXPECT_EQ(other_request.error().code, domain::ErrorCode::kIdempotencyMismatch);
}

TEST_F(TaskWritePathTest, ARuleThatCannotBeCountedWhenReanchoredIsRefused) {
  domain::TaskInput input = titled("leap mondays");
  input.due_date = Patch<std::string>::of("2044-02-29T09:00");
  input.timezone = Patch<std::string>::of("UTC");
  input.recurrence = Patch<std::string>::of("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=50");
  auto created = tasks_.create(owner_.id, input, std::nullopt,
                               [](const domain::Task&) { return store::StoredResponse{}; });
  ASSERT_TRUE(created) << created.error().detail;
  // Its series began four centuries earlier (as after many completions): moving it must count
  // the occurrences from there to its due date, more days than one computation may look at.
  database_->write([&](store::Transaction& s) {
    s.execute("UPDATE tasks SET recurrence_anchor = '1644-02-29T09:00:00' WHERE id = $1",
              {created->task.id});
  });
  domain::TaskInput move;
  move.due_date = Patch<std::string>::of("2044-03-01T09:00");
  auto refused = tasks_.update(owner_.id, created->task.id, move, false, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, domain::ErrorCode::kValidation);
  ASSERT_EQ(refused.error().fields.size(), 1U);
  EXPECT_EQ(refused.error().fields[0].field, "recurrence");
  EXPECT_NE(refused.error().fields[0].reason.find("matches too rarely to count"),
            std::string::npos)
      << refused.error().fields[0].reason;
  // A change that does not move it needs no counting.
  ASSERT_TRUE(tasks_.update(owner_.id, created->task.id, titled("renamed"), false, std::nullopt));
}

}  // namespace
}  // namespace todo::tasks

// Quotas on the task write path: every kind of change keeps the owner's usage exact, a change
// beyond a quota is refused with nothing written (no row, no event, no change counter), deleting
// makes room again, and concurrent creates never pass the last slot together.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/sqlite/sqlite_database.h"
#include "store/store_test_support.h"
#include "store/usage_repository.h"
#include "support/seeded_random.h"
#include "support/task_owner.h"
#include "support/tzdata_catalog.h"
#include "tasks/task_service.h"

namespace todo::tasks {
namespace {

using domain::Patch;
using std::chrono::hours;

domain::QuotaLimits limits() {
  domain::QuotaLimits l;
  l.tasks = 3;
  l.tags = 3;
  l.bytes = 1000;
  return l;
}

class TaskQuotaTest : public ::testing::Test {
 protected:
  TaskQuotaTest()
      : database_(store::open_sqlite({dir_.path() / "todo.db"})),
        tasks_({*database_, zones_, clock_, random_}, limits()) {
    owner_ = testing::insert_task_owner(*database_, clock_.now());
  }

  domain::Result<CreatedTask> try_create(std::string title, std::vector<std::string> tags = {}) {
    domain::TaskInput input;
    input.title = Patch<std::string>::of(std::move(title));
    input.tags = Patch<std::vector<std::string>>::of(std::move(tags));
    return tasks_.create(owner_.id, input, std::nullopt,
                         [](const domain::Task&) { return store::StoredResponse{}; });
  }

  domain::Task create(std::string title, std::vector<std::string> tags = {}) {
    auto created = try_create(std::move(title), std::move(tags));
    EXPECT_TRUE(created) << (created ? "" : created.error().detail);
    return created.value().task;
  }

  domain::Usage usage() {
    return store::read_value(*database_, [&](store::Transaction& s) {
      return store::UsageRepository{}.find(s, owner_.id);
    });
  }

  std::int64_t count(const char* sql) {
    return store::read_value(
        *database_, [&](store::Transaction& s) { return s.query_one(sql).value().integer(0); });
  }

  static std::string quota_of(const domain::Error& e) {
    for (const auto& [name, json] : e.extensions) {
      if (name == "quota") return json;
    }
    return "<none>";
  }

  store::testing::TempDir dir_;
  domain::ManualClock clock_{domain::Timestamp{} + hours(24 * 365 * 56)};
  todo::testing::SeededRandom random_;
  todo::testing::TzdataCatalog zones_;
  std::unique_ptr<store::Database> database_;
  TaskService tasks_;
  domain::User owner_;
};

TEST_F(TaskQuotaTest, EveryChangeKeepsTheUsageExact) {
  auto a = create("alpha", {"x", "y"});
  auto b = create("beta", {"y"});
  EXPECT_EQ(usage().tasks, 2);
  EXPECT_EQ(usage().tags, 2);
  EXPECT_EQ(usage().bytes, 5 + 2 + 4 + 1);

  domain::TaskInput patch;
  patch.description = Patch<std::string>::of("twelve bytes");
  patch.tags = Patch<std::vector<std::string>>::of({"z"});
  ASSERT_TRUE(tasks_.update(owner_.id, a.id, patch, false, std::nullopt));
  EXPECT_EQ(usage().bytes, 5 + 12 + 1 + 4 + 1);
  EXPECT_EQ(usage().tags, 2);  // y (b), z (a)

  ASSERT_TRUE(tasks_.set_status(owner_.id, b.id, domain::TaskStatus::kCompleted, std::nullopt));
  EXPECT_EQ(usage().tasks, 2);  // a completed task is still stored

  ASSERT_TRUE(tasks_.remove(owner_.id, b.id, std::nullopt));
  EXPECT_EQ(usage().tasks, 1);
  EXPECT_EQ(usage().tags, 1);
  EXPECT_EQ(usage().bytes, 5 + 12 + 1);
  // The bookkeeping agrees with a full count of the live tasks.
  EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE deleted_at IS NULL"), usage().tasks);
  EXPECT_EQ(count("SELECT count(*) FROM user_tags"), usage().tags);
}

TEST_F(TaskQuotaTest, ACreateBeyondTheTaskQuotaWritesNothingUntilADeleteMakesRoom) {
  create("one");
  auto two = create("two");
  create("three");
  const auto events = count("SELECT count(*) FROM outbox");
  const auto seq = count("SELECT change_seq FROM users");

  auto refused = try_create("four");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, domain::ErrorCode::kQuotaExceeded);
  EXPECT_EQ(quota_of(refused.error()), "\"tasks\"");
  EXPECT_EQ(count("SELECT count(*) FROM tasks"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), events);
  EXPECT_EQ(count("SELECT change_seq FROM users"), seq);

  ASSERT_TRUE(tasks_.remove(owner_.id, two.id, std::nullopt));
  EXPECT_TRUE(try_create("four"));
  EXPECT_FALSE(try_create("five"));
}

TEST_F(TaskQuotaTest, ARefusedCreateLeavesItsIdempotencyKeyFreeForARetry) {
  create("one");
  auto two = create("two");
  create("three");
  domain::TaskInput input;
  input.title = Patch<std::string>::of("four");
  const IdempotencyKey key{"retry-me", "hash-of-the-request"};
  const auto render = [](const domain::Task&) {
    store::StoredResponse r;
    r.status = 201;
    r.body = "{}";
    return r;
  };
  auto refused = tasks_.create(owner_.id, input, key, render);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, domain::ErrorCode::kQuotaExceeded);
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys"), 0);

  ASSERT_TRUE(tasks_.remove(owner_.id, two.id, std::nullopt));
  auto created = tasks_.create(owner_.id, input, key, render);
  ASSERT_TRUE(created) << created.error().detail;
  EXPECT_FALSE(created->replay);
  EXPECT_EQ(created->task.title, "four");
}

TEST_F(TaskQuotaTest, AnUpdateAddingANewTagBeyondTheTagQuotaIsRefused) {
  auto a = create("a", {"one", "two", "three"});
  domain::TaskInput patch;
  patch.tags = Patch<std::vector<std::string>>::of({"one", "two", "three", "four"});
  auto refused = tasks_.update(owner_.id, a.id, patch, false, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(quota_of(refused.error()), "\"tags\"");
  EXPECT_EQ(tasks_.get(owner_.id, a.id).value().version, 1);
  // Swapping one tag for another keeps the count.
  patch.tags = Patch<std::vector<std::string>>::of({"one", "two", "four"});
  EXPECT_TRUE(tasks_.update(owner_.id, a.id, patch, false, std::nullopt));
}

TEST_F(TaskQuotaTest, AnUpdateGrowingTheTextBeyondTheByteQuotaIsRefused) {
  auto a = create("a");
  domain::TaskInput patch;
  patch.description = Patch<std::string>::of(std::string(1000, 'd'));
  auto refused = tasks_.update(owner_.id, a.id, patch, false, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(quota_of(refused.error()), "\"bytes\"");
  patch.description = Patch<std::string>::of(std::string(999, 'd'));
  EXPECT_TRUE(tasks_.update(owner_.id, a.id, patch, false, std::nullopt));
  EXPECT_EQ(usage().bytes, 1000);
}

TEST_F(TaskQuotaTest, ConcurrentCreatesNeverPassTheLastSlotTogether) {
  create("one");
  create("two");
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = try_create("racer " + std::to_string(i));
      if (r) {
        ++created;
      } else if (r.error().code == domain::ErrorCode::kQuotaExceeded) {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(count("SELECT count(*) FROM tasks"), 3);
}

}  // namespace
}  // namespace todo::tasks

// Account usage in the store: moved by each change, refused (writing nothing) beyond a limit,
// distinct tags counted through the per-tag counts, and migration 0008's backfill.
#include "store/usage_repository.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/migrations.h"
#include "store/user_repository.h"
#include "store_test_support.h"

namespace todo::store {
namespace {

class UsageRepositoryTest : public testing::BackendTest {
 protected:
  void SetUp() override {
    testing::BackendTest::SetUp();
    db_ = open_database();
    insert_user("u1", "a@example.com");
  }

  void insert_user(const std::string& id, const std::string& email) {
    db_->write([&](Transaction& s) {
      s.execute("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, 'h', 1)",
                {id, email});
    });
  }

  domain::Result<void> apply(const domain::UsageChange& change, const domain::QuotaLimits& limits) {
    return write_value(*db_, [&](Transaction& s) { return usage_.apply(s, "u1", change, limits); });
  }

  domain::Usage usage(const std::string& user = "u1") {
    return read_value(*db_, [&](Transaction& s) { return usage_.find(s, user); });
  }

  std::int64_t tag_rows() {
    return read_value(*db_, [](Transaction& s) {
      return s.query_one("SELECT count(*) FROM user_tags").value().integer(0);
    });
  }

  static domain::UsageChange insert_with(std::int64_t bytes, std::vector<std::string> tags) {
    domain::UsageChange c;
    c.tasks = 1;
    c.bytes = bytes;
    c.added_tags = std::move(tags);
    return c;
  }

  std::unique_ptr<Database> db_;
  UsageRepository usage_;
  domain::QuotaLimits limits_{3, 2, 100, 5};
};

TEST_P(UsageRepositoryTest, AnAccountWithoutWritesUsesNothing) {
  const auto u = usage();
  EXPECT_EQ(u.tasks, 0);
  EXPECT_EQ(u.tags, 0);
  EXPECT_EQ(u.bytes, 0);
}

TEST_P(UsageRepositoryTest, ChangesMoveTheUsageAndTagsCountOncePerAccount) {
  ASSERT_TRUE(apply(insert_with(10, {"home", "work"}), limits_));
  ASSERT_TRUE(apply(insert_with(20, {"home"}), limits_));
  auto u = usage();
  EXPECT_EQ(u.tasks, 2);
  EXPECT_EQ(u.tags, 2);
  EXPECT_EQ(u.bytes, 30);

  domain::UsageChange drop_home;  // the first task loses "home": the second still has it
  drop_home.bytes = -4;
  drop_home.removed_tags = {"home"};
  ASSERT_TRUE(apply(drop_home, limits_));
  EXPECT_EQ(usage().tags, 2);

  domain::UsageChange delete_second;
  delete_second.tasks = -1;
  delete_second.bytes = -20;
  delete_second.removed_tags = {"home"};
  ASSERT_TRUE(apply(delete_second, limits_));
  u = usage();
  EXPECT_EQ(u.tasks, 1);
  EXPECT_EQ(u.tags, 1);  // "work" only
  EXPECT_EQ(u.bytes, 6);
  EXPECT_EQ(tag_rows(), 1);
}

TEST_P(UsageRepositoryTest, EachQuotaRefusesTheChangeThatWouldPassItAndWritesNothing) {
  ASSERT_TRUE(apply(insert_with(50, {"a"}), limits_));
  ASSERT_TRUE(apply(insert_with(50, {"b"}), limits_));  // bytes now exactly at the limit

  auto bytes = apply(insert_with(1, {}), limits_);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, domain::ErrorCode::kQuotaExceeded);
  EXPECT_EQ(bytes.error().extensions.at(0).second, "\"bytes\"");
  EXPECT_EQ(bytes.error().extensions.at(1).second, "100");
  EXPECT_EQ(bytes.error().extensions.at(2).second, "100");

  auto tags = apply(insert_with(0, {"c"}), limits_);
  ASSERT_FALSE(tags);
  EXPECT_EQ(tags.error().extensions.at(0).second, "\"tags\"");
  EXPECT_EQ(tags.error().extensions.at(2).second, "2");
  EXPECT_EQ(tag_rows(), 2);  // "c" was not recorded

  ASSERT_TRUE(apply(insert_with(0, {"a"}), limits_));  // a known tag is no new one
  auto tasks = apply(insert_with(0, {}), limits_);
  ASSERT_FALSE(tasks);
  EXPECT_EQ(tasks.error().extensions.at(0).second, "\"tasks\"");
  EXPECT_EQ(tasks.error().extensions.at(2).second, "3");

  const auto u = usage();
  EXPECT_EQ(u.tasks, 3);
  EXPECT_EQ(u.tags, 2);
  EXPECT_EQ(u.bytes, 100);
}

TEST_P(UsageRepositoryTest, OverALoweredLimitShrinkingIsStillAllowed) {
  ASSERT_TRUE(apply(insert_with(90, {"a", "b"}), domain::QuotaLimits{0, 0, 0, 0}));
  ASSERT_TRUE(apply(insert_with(90, {"c"}), domain::QuotaLimits{0, 0, 0, 0}));
  domain::UsageChange shorten;
  shorten.bytes = -10;
  shorten.removed_tags = {"a"};
  ASSERT_TRUE(apply(shorten, limits_));  // bytes 170 > 100, tags 3 > 2: both go down
  EXPECT_EQ(usage().bytes, 170);
}

TEST_P(UsageRepositoryTest, DeletingTheAccountDeletesItsUsage) {
  ASSERT_TRUE(apply(insert_with(5, {"a"}), limits_));
  db_->write([](Transaction& s) { s.execute("DELETE FROM users WHERE id = 'u1'"); });
  EXPECT_EQ(usage().tasks, 0);
  EXPECT_EQ(tag_rows(), 0);
}

TEST_P(UsageRepositoryTest, TheMigrationBackfillsTheUsageOfExistingTasks) {
  insert_user("u2", "b@example.com");
  db_->write([](Transaction& s) {
    // Tasks written before 0008: forget the usage, as if it had never been kept.
    const char* insert =
        "INSERT INTO tasks (id, user_id, title, title_key, description, search_text, status, "
        "priority, tags, all_day, timezone, recurrence, recurrence_mode, occurrence_index, "
        "reminders, version, change_seq, created_at, updated_at, deleted_at) VALUES "
        "($1, $2, $3, '', $4, '', 'pending', 2, $5, 0, 'UTC', $6, 'due', 0, '', 1, $7, 1, 1, $8)";
    s.execute(insert, {"t1", "u1", "Pay rent", "before the 3rd \xE2\x9C\x93", "\nhome\nmoney\n",
                       "monthly", std::int64_t{1}, std::monostate{}});
    s.execute(insert, {"t2", "u1", "Call", std::monostate{}, "\nhome\n", std::monostate{},
                       std::int64_t{2}, std::monostate{}});
    s.execute(insert, {"t3", "u1", "Gone", "long gone", "\nold\n", std::monostate{},
                       std::int64_t{3}, std::int64_t{5}});  // a tombstone counts for nothing
    s.execute(insert, {"t4", "u2", "Other", std::monostate{}, "", std::monostate{}, std::int64_t{1},
                       std::monostate{}});
    s.execute("DROP TABLE user_usage");
    s.execute("DROP TABLE user_tags");
  });
  // Run 0008 itself again (apply_migrations would not: later migrations are recorded already).
  const auto& all = migrations_for(db_->dialect());
  auto quotas = std::find_if(all.begin(), all.end(),
                             [](const Migration& m) { return m.name == "0008_quotas"; });
  ASSERT_NE(quotas, all.end());
  db_->write([&](Transaction& s) { s.execute_script(quotas->sql); });
  const auto u1 = usage("u1");
  EXPECT_EQ(u1.tasks, 2);
  EXPECT_EQ(u1.tags, 2);
  EXPECT_EQ(u1.bytes, (8 + 18 + 9 + 7) + (4 + 4));
  const auto u2 = usage("u2");
  EXPECT_EQ(u2.tasks, 1);
  EXPECT_EQ(u2.tags, 0);
  EXPECT_EQ(u2.bytes, 5);
  EXPECT_EQ(
      read_value(
          *db_,
          [](Transaction& s) {
            return s.query_one("SELECT tasks FROM user_tags WHERE user_id = 'u1' AND tag = 'home'")
                .value()
                .integer(0);
          }),
      2);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(UsageRepositoryTest);

}  // namespace
}  // namespace todo::store

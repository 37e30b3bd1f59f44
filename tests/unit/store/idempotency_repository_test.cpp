// IdempotencyRepository against a migrated SQLite file: keep the first response, refuse a second,
// purge old ones.
#include "store/idempotency_repository.h"

#include <gtest/gtest.h>

#include "domain/time_format.h"
#include "store/user_repository.h"
#include "store_test_support.h"

namespace todo::store {
namespace {

using domain::from_micros;

constexpr std::int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

domain::Timestamp at(std::int64_t seconds_after_t0) {
  return from_micros(kT0 + seconds_after_t0 * 1'000'000);
}

domain::User user(std::string id) {
  domain::User u;
  u.email = id + "@example.com";
  u.id = std::move(id);
  u.password_hash = "hash";
  u.created_at = at(0);
  return u;
}

StoredResponse response(std::string user_id, std::string key, std::int64_t created) {
  StoredResponse r;
  r.user_id = std::move(user_id);
  r.key = std::move(key);
  r.request_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  r.status = 201;
  r.headers = "Location: /api/tasks/t1\nETag: \"1\"\n";
  r.body = R"({"id":"t1","title":"Pay rent"})";
  r.created_at = at(created);
  return r;
}

class IdempotencyRepositoryTest : public testing::BackendTest {
 protected:
  void SetUp() override {
    db_ = open_database();
    db_->write([&](Transaction& s) {
      UserRepository users;
      users.insert(s, user("alice"));
      users.insert(s, user("bob"));
    });
  }

  std::optional<StoredResponse> find(std::string_view user_id, std::string_view key) {
    return read_value(*db_, [&](Transaction& s) { return keys_.find(s, user_id, key); });
  }
  void insert(const StoredResponse& r) {
    db_->write([&](Transaction& s) { keys_.insert(s, r); });
  }

  std::unique_ptr<Database> db_;
  IdempotencyRepository keys_;
};

TEST_P(IdempotencyRepositoryTest, StoredResponseIsFoundWithEveryField) {
  EXPECT_FALSE(find("alice", "k1"));
  const auto r = response("alice", "k1", 5);
  insert(r);
  const auto found = find("alice", "k1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found.value().user_id, r.user_id);
  EXPECT_EQ(found.value().key, r.key);
  EXPECT_EQ(found.value().request_hash, r.request_hash);
  EXPECT_EQ(found.value().status, r.status);
  EXPECT_EQ(found.value().headers, r.headers);
  EXPECT_EQ(found.value().body, r.body);
  EXPECT_EQ(found.value().created_at, r.created_at);
  EXPECT_FALSE(find("alice", "k2"));
  EXPECT_FALSE(find("bob", "k1"));  // keys are per user
}

TEST_P(IdempotencyRepositoryTest, ASecondResponseForTheSameKeyIsAConstraintViolation) {
  insert(response("alice", "k1", 5));
  auto second = response("alice", "k1", 6);
  second.body = "{}";
  EXPECT_THROW(insert(second), ConstraintViolation);
  EXPECT_EQ(find("alice", "k1").value().created_at, at(5));  // the first one stays
  insert(response("bob", "k1", 6));                          // another user's key
  EXPECT_EQ(find("bob", "k1").value().created_at, at(6));
}

TEST_P(IdempotencyRepositoryTest, AKeyNeedsAnExistingUser) {
  EXPECT_THROW(insert(response("nobody", "k1", 5)), ConstraintViolation);
}

TEST_P(IdempotencyRepositoryTest, PurgeDeletesResponsesCreatedBefore) {
  insert(response("alice", "old", 10));
  insert(response("bob", "old", 19));
  insert(response("alice", "edge", 20));
  insert(response("alice", "new", 30));
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) { return keys_.purge(s, at(20)); }), 2);
  EXPECT_FALSE(find("alice", "old"));
  EXPECT_FALSE(find("bob", "old"));
  EXPECT_TRUE(find("alice", "edge"));  // created exactly at `before` is not before it
  EXPECT_TRUE(find("alice", "new"));
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) { return keys_.purge(s, at(20)); }), 0);
  insert(response("alice", "old", 40));  // a purged key can be used again
  EXPECT_EQ(find("alice", "old").value().created_at, at(40));
}

TODO_STORE_TEST_ON_EVERY_BACKEND(IdempotencyRepositoryTest);

}  // namespace
}  // namespace todo::store

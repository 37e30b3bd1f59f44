// UserRepository and RefreshTokenRepository against a migrated SQLite file.
#include "store/user_repository.h"

#include <gtest/gtest.h>

#include "domain/time_format.h"
#include "store_test_support.h"

namespace todo::store {
namespace {

using domain::from_micros;

constexpr std::int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

domain::Timestamp at(std::int64_t seconds_after_t0) {
  return from_micros(kT0 + seconds_after_t0 * 1'000'000);
}

domain::User alice() {
  domain::User u;
  u.id = "0190f8a0-0000-7000-8000-000000000001";
  u.email = "alice@example.com";
  u.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  u.display_name = "Alice \xF0\x9F\x8C\xB8";
  u.timezone = "Europe/Berlin";
  u.role = domain::Role::kAdmin;
  u.change_seq = 17;
  u.default_reminders = {15, 60, 1440};
  u.reminder_email = "alerts@example.com";
  u.created_at = from_micros(kT0 + 123);  // microseconds survive
  u.last_login_at = at(3600);
  return u;
}

domain::User bob() {
  domain::User u;
  u.id = "0190f8a0-0000-7000-8000-000000000002";
  u.email = "bob@example.com";
  u.password_hash = "hash";
  u.created_at = at(0);
  return u;
}

void expect_same(const domain::User& a, const domain::User& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.password_hash, b.password_hash);
  EXPECT_EQ(a.display_name, b.display_name);
  EXPECT_EQ(a.timezone, b.timezone);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.change_seq, b.change_seq);
  EXPECT_EQ(a.default_reminders, b.default_reminders);
  EXPECT_EQ(a.reminder_email, b.reminder_email);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_login_at, b.last_login_at);
}

RefreshToken token(std::string id, std::string family, std::int64_t expires) {
  RefreshToken t;
  t.id = id;
  t.user_id = bob().id;
  t.token_hash = "hash-of-" + id;
  t.family_id = std::move(family);
  t.expires_at = at(expires);
  t.created_at = at(0);
  return t;
}

class UserRepositoryTest : public testing::BackendTest {
 protected:
  void SetUp() override { db_ = open_database(); }

  std::optional<domain::User> by_id(std::string_view id) {
    return read_value(*db_, [&](Transaction& s) { return users_.find_by_id(s, id); });
  }
  std::optional<RefreshToken> by_hash(std::string_view hash) {
    return read_value(*db_, [&](Transaction& s) { return tokens_.find_by_hash(s, hash); });
  }

  std::unique_ptr<Database> db_;
  UserRepository users_;
  RefreshTokenRepository tokens_;
};

TEST_P(UserRepositoryTest, InsertedUserIsFoundByIdAndByEmail) {
  db_->write([&](Transaction& s) {
    users_.insert(s, alice());
    users_.insert(s, bob());
  });
  auto found = by_id(alice().id);
  ASSERT_TRUE(found);
  expect_same(*found, alice());
  auto by_email =
      read_value(*db_, [&](Transaction& s) { return users_.find_by_email(s, "bob@example.com"); });
  ASSERT_TRUE(by_email);
  expect_same(*by_email, bob());  // empty reminders, no reminder e-mail, never logged in
}

TEST_P(UserRepositoryTest, UnknownUserIsNotFound) {
  EXPECT_FALSE(by_id("nobody"));
  EXPECT_FALSE(read_value(*db_, [&](Transaction& s) { return users_.find_by_email(s, "x@y.z"); }));
}

TEST_P(UserRepositoryTest, DuplicateEmailIsAConstraintViolation) {
  db_->write([&](Transaction& s) { users_.insert(s, bob()); });
  auto twin = alice();
  twin.email = bob().email;
  EXPECT_THROW(db_->write([&](Transaction& s) { users_.insert(s, twin); }), ConstraintViolation);
  EXPECT_EQ(read_value(*db_, [&](Transaction& s) { return users_.count(s); }), 1);
}

TEST_P(UserRepositoryTest, UpdateProfileWritesOnlyTheProfileFields) {
  db_->write([&](Transaction& s) { users_.insert(s, alice()); });
  auto changed = alice();
  changed.display_name = "Al";
  changed.timezone = "America/New_York";
  changed.role = domain::Role::kUser;
  changed.default_reminders = {};
  changed.reminder_email = std::nullopt;
  changed.email = "ignored@example.com";
  changed.password_hash = "ignored";
  changed.change_seq = 99;
  db_->write([&](Transaction& s) { users_.update_profile(s, changed); });

  auto expected = alice();
  expected.display_name = "Al";
  expected.timezone = "America/New_York";
  expected.role = domain::Role::kUser;
  expected.default_reminders = {};
  expected.reminder_email = std::nullopt;
  expect_same(*by_id(alice().id), expected);
}

TEST_P(UserRepositoryTest, ChangingAMissingUserIsAnError) {
  EXPECT_THROW(db_->write([&](Transaction& s) { users_.update_profile(s, bob()); }), DatabaseError);
  EXPECT_THROW(db_->write([&](Transaction& s) { users_.set_role(s, "nobody", domain::Role::kAdmin); }),
               DatabaseError);
  EXPECT_THROW(db_->write([&](Transaction& s) { users_.record_login(s, "nobody", at(1)); }),
               DatabaseError);
}

TEST_P(UserRepositoryTest, SetRoleRecordLoginAndCount) {
  EXPECT_EQ(read_value(*db_, [&](Transaction& s) { return users_.count(s); }), 0);
  db_->write([&](Transaction& s) {
    users_.insert(s, alice());
    users_.insert(s, bob());
    users_.set_role(s, bob().id, domain::Role::kAdmin);
    users_.record_login(s, bob().id, at(42));
  });
  const auto b = by_id(bob().id);
  EXPECT_EQ(b->role, domain::Role::kAdmin);
  EXPECT_EQ(b->last_login_at, at(42));
  EXPECT_EQ(by_id(alice().id)->last_login_at, at(3600));
  EXPECT_EQ(read_value(*db_, [&](Transaction& s) { return users_.count(s); }), 2);
}

TEST_P(UserRepositoryTest, CorruptStoredValuesAreReportedNotGuessed) {
  db_->write([&](Transaction& s) { users_.insert(s, bob()); });
  db_->write([&](Transaction& s) {
    s.execute("UPDATE users SET default_reminders = '15,,60' WHERE id = $1", {bob().id});
  });
  EXPECT_THROW(by_id(bob().id), DatabaseError);
  db_->write([&](Transaction& s) {
    s.execute("UPDATE users SET default_reminders = '15,' WHERE id = $1", {bob().id});
  });
  EXPECT_THROW(by_id(bob().id), DatabaseError);
}

TEST_P(UserRepositoryTest, NextChangeSeqIncrementsEachUsersOwnCounter) {
  db_->write([&](Transaction& s) {
    users_.insert(s, alice());  // change_seq 17
    users_.insert(s, bob());    // change_seq 0
  });
  const auto next = [&](std::string_view id) {
    return write_value(*db_, [&](Transaction& s) { return users_.next_change_seq(s, id); });
  };
  EXPECT_EQ(next(alice().id), 18);
  EXPECT_EQ(next(alice().id), 19);
  EXPECT_EQ(next(bob().id), 1);
  EXPECT_EQ(next(alice().id), 20);
  EXPECT_EQ(write_value(*db_,
                        [&](Transaction& s) {
                          users_.next_change_seq(s, bob().id);
                          return users_.next_change_seq(s, bob().id);
                        }),
            3);
  EXPECT_EQ(by_id(alice().id)->change_seq, 20);
  EXPECT_EQ(by_id(bob().id)->change_seq, 3);
}

TEST_P(UserRepositoryTest, NextChangeSeqOfAMissingUserIsAnError) {
  EXPECT_THROW(db_->write([&](Transaction& s) { users_.next_change_seq(s, "nobody"); }), DatabaseError);
}

TEST_P(UserRepositoryTest, NextChangeSeqIsRolledBackWithItsWrite) {
  db_->write([&](Transaction& s) { users_.insert(s, bob()); });
  EXPECT_THROW(db_->write([&](Transaction& s) {
    users_.next_change_seq(s, bob().id);
    throw std::runtime_error("the rest of the change failed");
  }),
               std::runtime_error);
  EXPECT_EQ(by_id(bob().id)->change_seq, 0);
}

TEST_P(UserRepositoryTest, RefreshTokenRoundTrip) {
  db_->write([&](Transaction& s) {
    users_.insert(s, bob());
    auto t = token("t1", "f1", 100);
    t.revoked_at = at(5);
    t.replaced_by = "t2";
    tokens_.insert(s, t);
    tokens_.insert(s, token("t2", "f1", 200));
  });
  const auto t1 = by_hash("hash-of-t1");
  ASSERT_TRUE(t1);
  EXPECT_EQ(t1->id, "t1");
  EXPECT_EQ(t1->user_id, bob().id);
  EXPECT_EQ(t1->token_hash, "hash-of-t1");
  EXPECT_EQ(t1->family_id, "f1");
  EXPECT_EQ(t1->expires_at, at(100));
  EXPECT_EQ(t1->revoked_at, at(5));
  EXPECT_EQ(t1->replaced_by, "t2");
  EXPECT_EQ(t1->created_at, at(0));
  const auto t2 = by_hash("hash-of-t2");
  ASSERT_TRUE(t2);
  EXPECT_EQ(t2->revoked_at, std::nullopt);
  EXPECT_EQ(t2->replaced_by, std::nullopt);
  EXPECT_FALSE(by_hash("unknown"));
}

TEST_P(UserRepositoryTest, RefreshTokenNeedsAUserAndAUniqueHash) {
  EXPECT_THROW(db_->write([&](Transaction& s) { tokens_.insert(s, token("t1", "f1", 100)); }),
               ConstraintViolation);
  db_->write([&](Transaction& s) {
    users_.insert(s, bob());
    tokens_.insert(s, token("t1", "f1", 100));
  });
  auto twin = token("t2", "f1", 100);
  twin.token_hash = "hash-of-t1";
  EXPECT_THROW(db_->write([&](Transaction& s) { tokens_.insert(s, twin); }), ConstraintViolation);
}

TEST_P(UserRepositoryTest, MarkRotatedSucceedsOnlyOnce) {
  db_->write([&](Transaction& s) {
    users_.insert(s, bob());
    tokens_.insert(s, token("t1", "f1", 100));
  });
  EXPECT_TRUE(
      write_value(*db_, [&](Transaction& s) { return tokens_.mark_rotated(s, "t1", "t2", at(10)); }));
  EXPECT_FALSE(
      write_value(*db_, [&](Transaction& s) { return tokens_.mark_rotated(s, "t1", "t3", at(11)); }));
  EXPECT_FALSE(
      write_value(*db_, [&](Transaction& s) { return tokens_.mark_rotated(s, "nope", "t3", at(11)); }));
  const auto t1 = by_hash("hash-of-t1");
  EXPECT_EQ(t1->revoked_at, at(10));
  EXPECT_EQ(t1->replaced_by, "t2");
}

TEST_P(UserRepositoryTest, RevokeFamilyRevokesOnlyItsLiveTokens) {
  db_->write([&](Transaction& s) {
    users_.insert(s, bob());
    auto old = token("t1", "f1", 100);
    old.revoked_at = at(1);
    tokens_.insert(s, old);
    tokens_.insert(s, token("t2", "f1", 100));
    tokens_.insert(s, token("t3", "f1", 100));
    tokens_.insert(s, token("t4", "f2", 100));
  });
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) { return tokens_.revoke_family(s, "f1", at(50)); }),
            2);
  EXPECT_EQ(by_hash("hash-of-t1")->revoked_at, at(1));  // untouched
  EXPECT_EQ(by_hash("hash-of-t2")->revoked_at, at(50));
  EXPECT_EQ(by_hash("hash-of-t3")->revoked_at, at(50));
  EXPECT_EQ(by_hash("hash-of-t4")->revoked_at, std::nullopt);
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) { return tokens_.revoke_family(s, "f1", at(60)); }),
            0);
}

TEST_P(UserRepositoryTest, PurgeExpiredDeletesTokensThatExpiredBefore) {
  db_->write([&](Transaction& s) {
    users_.insert(s, bob());
    tokens_.insert(s, token("t1", "f1", 10));
    tokens_.insert(s, token("t2", "f1", 20));
    tokens_.insert(s, token("t3", "f2", 30));
  });
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) { return tokens_.purge_expired(s, at(20)); }), 1);
  EXPECT_FALSE(by_hash("hash-of-t1"));
  EXPECT_TRUE(by_hash("hash-of-t2"));  // expiring exactly at `before` is not yet before it
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) { return tokens_.purge_expired(s, at(31)); }), 2);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(UserRepositoryTest);

}  // namespace
}  // namespace todo::store

// Login throttling with a manual clock: attackers cannot lock an owner out, guessing stays slow.
#include "auth/login_guard.h"

#include <gtest/gtest.h>

namespace todo::auth {
namespace {

using namespace std::chrono;
using Reason = LoginRefusal::Reason;

constexpr auto kOwner = "owner@example.com";
constexpr auto kHome = "198.51.100.7";      // where the owner signed in before
constexpr auto kAttacker = "203.0.113.66";  // never signed in

LoginPolicy small_policy() {
  LoginPolicy p;
  p.attempts_per_address = 1000;
  p.failures_per_account_address = 3;
  p.failures_per_account = 5;
  p.failure_window = minutes{15};
  p.slowdown_interval = seconds{10};
  p.known_lifetime = hours{24 * 30};
  p.known_capacity = 4;
  return p;
}

class LoginGuardTest : public ::testing::Test {
 protected:
  // One attempt with a wrong password: admitted, then recorded as failed.
  std::optional<LoginRefusal> fail(const std::string& account, const std::string& address) {
    auto refusal = guard_.admit(account, address);
    if (!refusal) guard_.record_failure(account, address);
    return refusal;
  }

  domain::ManualClock clock_{domain::Timestamp{} + seconds{1'767'225'600}};
  LoginGuard guard_{small_policy(), clock_};
};

TEST_F(LoginGuardTest, AnAttackersFailuresDoNotBlockTheOwnerElsewhere) {
  guard_.record_success(kOwner, kHome);
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    if (fail(kOwner, kAttacker)) ++refused;
    clock_.advance(seconds{1});
  }
  EXPECT_EQ(refused, 17) << "the attacker's address is stopped after 3 failures";
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt);
  guard_.record_success(kOwner, kHome);
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt) << "and again: never locked";
}

TEST_F(LoginGuardTest, AnUnknownAddressWaitsUntilItsFailuresLeaveTheWindow) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(fail(kOwner, kAttacker), std::nullopt);
    clock_.advance(seconds{60});
  }
  auto refusal = guard_.admit(kOwner, kAttacker);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->reason, Reason::kAccountAtAddress);
  EXPECT_EQ(refusal->retry_after, seconds{15 * 60 - 180}) << "until the first failure expires";
  EXPECT_EQ(guard_.admit("someone-else@example.com", kAttacker), std::nullopt)
      << "only this account is refused at this address";
  EXPECT_EQ(guard_.admit(kOwner, "192.0.2.1"), std::nullopt) << "another address is not affected";
  clock_.advance(seconds{15 * 60 - 180});
  EXPECT_EQ(guard_.admit(kOwner, kAttacker), std::nullopt);
}

TEST_F(LoginGuardTest, AKnownAddressIsOnlySlowedDownNeverLocked) {
  guard_.record_success(kOwner, kHome);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(fail(kOwner, kHome), std::nullopt);
  // Someone sharing the owner's address (a NAT) failed 3 times: one attempt per 10 s, no lock.
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt);
  guard_.record_failure(kOwner, kHome);
  for (int i = 0; i < 30; ++i) {
    auto refusal = guard_.admit(kOwner, kHome);
    if (refusal) {
      EXPECT_EQ(refusal->reason, Reason::kAccountAtAddress);
      EXPECT_LE(refusal->retry_after, seconds{10});
      EXPECT_GE(refusal->retry_after, seconds{1});
    } else {
      guard_.record_failure(kOwner, kHome);
    }
    clock_.advance(seconds{1});
  }
  if (!guard_.admit(kOwner, kHome)) guard_.record_failure(kOwner, kHome);
  auto refusal = guard_.admit(kOwner, kHome);
  ASSERT_TRUE(refusal);
  clock_.advance(refusal->retry_after);
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt) << "the owner gets through after waiting";
  guard_.record_success(kOwner, kHome);
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt) << "a success forgets the failures";
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt);
}

TEST_F(LoginGuardTest, ASuccessForgetsTheFailuresOfThatAddress) {
  ASSERT_EQ(fail(kOwner, kAttacker), std::nullopt);
  ASSERT_EQ(fail(kOwner, kAttacker), std::nullopt);
  ASSERT_EQ(guard_.admit(kOwner, kAttacker), std::nullopt);
  guard_.record_success(kOwner, kAttacker);
  EXPECT_TRUE(guard_.is_known(kOwner, kAttacker));
  ASSERT_EQ(fail(kOwner, kAttacker), std::nullopt);
  ASSERT_EQ(fail(kOwner, kAttacker), std::nullopt);
  EXPECT_EQ(guard_.admit(kOwner, kAttacker), std::nullopt)
      << "two failures after the success are below the limit of three";
}

TEST_F(LoginGuardTest, DistributedGuessingSlowsUnknownAddressesButNotTheOwner) {
  guard_.record_success(kOwner, kHome);
  // Five addresses fail once each: the account-wide cap (5) is reached without any address
  // reaching its own limit (3).
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(fail(kOwner, "10.0.0." + std::to_string(i)), std::nullopt);
  }
  EXPECT_EQ(guard_.admit(kOwner, "10.0.1.1"), std::nullopt) << "one attempt per interval";
  guard_.record_failure(kOwner, "10.0.1.1");
  auto refusal = guard_.admit(kOwner, "10.0.1.2");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->reason, Reason::kAccount);
  EXPECT_EQ(refusal->retry_after, seconds{10}) << "a short wait, not a lock";
  EXPECT_EQ(guard_.admit(kOwner, kHome), std::nullopt) << "the owner's address is exempt";
  EXPECT_EQ(guard_.admit("other@example.com", "10.0.1.2"), std::nullopt)
      << "other accounts are not slowed";
  clock_.advance(seconds{4});
  refusal = guard_.admit(kOwner, "10.0.1.3");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->retry_after, seconds{6});
  clock_.advance(seconds{6});
  EXPECT_EQ(guard_.admit(kOwner, "10.0.1.3"), std::nullopt);
  // Once the failures leave the window the account is no longer slowed.
  clock_.advance(minutes{15});
  EXPECT_EQ(guard_.admit(kOwner, "10.0.1.4"), std::nullopt);
  EXPECT_EQ(guard_.admit(kOwner, "10.0.1.5"), std::nullopt);
}

TEST_F(LoginGuardTest, EveryAttemptCountsAgainstItsAddress) {
  LoginPolicy policy = small_policy();
  policy.attempts_per_address = 2;
  LoginGuard guard(policy, clock_);
  EXPECT_EQ(guard.admit("a@example.com", kAttacker), std::nullopt);
  guard.record_success("a@example.com", kAttacker);
  EXPECT_EQ(guard.admit("b@example.com", kAttacker), std::nullopt);
  auto refusal = guard.admit("c@example.com", kAttacker);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->reason, Reason::kAddress);
  EXPECT_EQ(refusal->retry_after, seconds{60});
  EXPECT_EQ(guard.admit("c@example.com", kHome), std::nullopt);
}

TEST_F(LoginGuardTest, KnownAddressesExpire) {
  guard_.record_success(kOwner, kHome);
  clock_.advance(hours{24 * 30} - seconds{1});
  EXPECT_TRUE(guard_.is_known(kOwner, kHome));
  clock_.advance(seconds{1});
  EXPECT_FALSE(guard_.is_known(kOwner, kHome));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(fail(kOwner, kHome), std::nullopt);
  auto refusal = guard_.admit(kOwner, kHome);
  ASSERT_TRUE(refusal) << "an expired address is treated like any other";
  EXPECT_GT(refusal->retry_after, seconds{10});
}

TEST_F(LoginGuardTest, KnownAddressesAreBoundedLeastRecentlyUsedFirst) {
  for (int i = 0; i < 4; ++i) guard_.record_success("u" + std::to_string(i), kHome);
  clock_.advance(seconds{1});
  guard_.record_success("u0", kHome);  // used again: now the most recent
  guard_.record_success("u4", kHome);  // over capacity: u1 goes
  EXPECT_EQ(guard_.known_count(), 4u);
  EXPECT_TRUE(guard_.is_known("u0", kHome));
  EXPECT_FALSE(guard_.is_known("u1", kHome));
  EXPECT_TRUE(guard_.is_known("u4", kHome));
}

TEST_F(LoginGuardTest, AddressAndAccountCannotBeMixedUp) {
  // However the two strings split, one (account, address) pair never aliases another.
  guard_.record_success("b@example.com", "10.0.0.1 a");
  EXPECT_FALSE(guard_.is_known("a b@example.com", "10.0.0.1"));
  EXPECT_TRUE(guard_.is_known("b@example.com", "10.0.0.1 a"));
}

TEST_F(LoginGuardTest, OldFailuresAreForgottenAsTimePasses) {
  // Many attackers over many windows (the guard sweeps what left the window as time passes):
  // each window starts clean for every pair and every account.
  for (int window = 0; window < 4; ++window) {
    for (int a = 0; a < 100; ++a) {
      const std::string address = "10.1." + std::to_string(window) + "." + std::to_string(a);
      const std::string account = "user" + std::to_string(a) + "@example.com";
      for (int i = 0; i < 3; ++i) ASSERT_EQ(fail(account, address), std::nullopt);
      ASSERT_TRUE(guard_.admit(account, address));
    }
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(fail(kOwner, "10.2." + std::to_string(window) + "." + std::to_string(i)),
                std::nullopt);
    }
    ASSERT_EQ(guard_.admit(kOwner, "10.3.0.1"), std::nullopt);
    ASSERT_TRUE(guard_.admit(kOwner, "10.3.0.2")) << "slowed down within the window";
    clock_.advance(minutes{15});
    ASSERT_EQ(guard_.admit(kOwner, "10.3.0.3"), std::nullopt);
    ASSERT_EQ(guard_.admit(kOwner, "10.3.0.4"), std::nullopt)
        << "the account-wide count emptied with the window";
  }
}

}  // namespace
}  // namespace todo::auth

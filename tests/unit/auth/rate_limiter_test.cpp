// Sliding-window rate limiting with a manual clock.
#include "auth/rate_limiter.h"

#include <gtest/gtest.h>

namespace todo::auth {
namespace {

using namespace std::chrono;

class RateLimiterTest : public ::testing::Test {
 protected:
  domain::ManualClock clock_{domain::Timestamp{} + seconds{1'767'225'600}};
  RateLimiter limiter_{RateLimit{3, seconds{60}}, clock_};
};

TEST_F(RateLimiterTest, AllowsUpToTheLimitThenSaysHowLongToWait) {
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
  EXPECT_EQ(limiter_.try_acquire("k"), seconds{60});
  clock_.advance(seconds{10});
  EXPECT_EQ(limiter_.try_acquire("k"), seconds{50});
  clock_.advance(milliseconds{20'500});
  EXPECT_EQ(limiter_.try_acquire("k"), seconds{30}) << "29.5 s rounds up";
}

TEST_F(RateLimiterTest, RetryAfterIsAtLeastOneSecond) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("k"), std::nullopt);
  clock_.advance(seconds{60} - milliseconds{1});
  EXPECT_EQ(limiter_.try_acquire("k"), seconds{1});
  clock_.advance(milliseconds{1});
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt) << "the first attempt left the window";
}

TEST_F(RateLimiterTest, TheWindowSlides) {
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);  // t = 0
  clock_.advance(seconds{10});
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);  // t = 10
  clock_.advance(seconds{10});
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);  // t = 20
  clock_.advance(seconds{40});                         // t = 60: the first has expired
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
  EXPECT_EQ(limiter_.try_acquire("k"), seconds{10}) << "until the attempt at t = 10 expires";
  clock_.advance(seconds{10});
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
}

TEST_F(RateLimiterTest, RefusedAttemptsDoNotCount) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("k"), std::nullopt);
  for (int i = 0; i < 50; ++i) {
    clock_.advance(seconds{1});
    ASSERT_TRUE(limiter_.try_acquire("k").has_value());
  }
  clock_.advance(seconds{10});  // t = 60
  EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
}

TEST_F(RateLimiterTest, KeysAreIndependent) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("10.0.0.1"), std::nullopt);
  EXPECT_TRUE(limiter_.try_acquire("10.0.0.1").has_value());
  EXPECT_EQ(limiter_.try_acquire("10.0.0.2"), std::nullopt);
  EXPECT_EQ(limiter_.try_acquire("account:alice"), std::nullopt);
}

TEST_F(RateLimiterTest, ResetForgetsAKey) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("a"), std::nullopt);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("b"), std::nullopt);
  limiter_.reset("a");
  EXPECT_EQ(limiter_.try_acquire("a"), std::nullopt);
  EXPECT_TRUE(limiter_.try_acquire("b").has_value()) << "other keys keep their attempts";
  limiter_.reset("never-seen");  // harmless
}

TEST_F(RateLimiterTest, PruneKeepsAttemptsStillInTheWindow) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("k"), std::nullopt);
  clock_.advance(seconds{59});
  limiter_.prune();
  EXPECT_EQ(limiter_.try_acquire("k"), seconds{1});
}

TEST_F(RateLimiterTest, PruneForgetsExpiredAttempts) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("k"), std::nullopt);
  clock_.advance(seconds{60});
  limiter_.prune();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter_.try_acquire("k"), std::nullopt);
  EXPECT_TRUE(limiter_.try_acquire("k").has_value());
}

TEST_F(RateLimiterTest, ManyKeysOverManyWindowsStayCorrect) {
  // try_acquire sweeps old keys as time passes; the limit must still hold for live keys.
  for (int window = 0; window < 5; ++window) {
    for (int key = 0; key < 200; ++key) {
      ASSERT_EQ(limiter_.try_acquire("key" + std::to_string(window * 1000 + key)), std::nullopt);
    }
    for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter_.try_acquire("live"), std::nullopt);
    EXPECT_TRUE(limiter_.try_acquire("live").has_value());
    clock_.advance(seconds{61});
  }
}

TEST(RateLimiter, ZeroAttemptsRefusesEverything) {
  domain::ManualClock clock(domain::Timestamp{} + seconds{1'000});
  RateLimiter limiter(RateLimit{0, seconds{30}}, clock);
  EXPECT_EQ(limiter.try_acquire("k"), seconds{30});
}

}  // namespace
}  // namespace todo::auth

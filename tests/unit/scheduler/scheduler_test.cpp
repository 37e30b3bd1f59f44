// The scheduler driven by a manual clock and run_due() (no sleeping): instants, order, cancel,
// periodic jobs, jobs that schedule and throw, many timers; and its thread with the real clock.
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/time_format.h"

namespace todo::scheduler {
namespace {

using namespace std::chrono_literals;

const domain::Timestamp kStart = domain::parse_rfc3339("2026-03-01T12:00:00Z").value();

class SchedulerTest : public ::testing::Test {
 protected:
  domain::ManualClock clock_{kStart};
  Scheduler scheduler_{clock_};
  std::vector<std::string> ran_;
};

TEST_F(SchedulerTest, RunsAJobAtItsInstantNotBefore) {
  scheduler_.at(kStart + 10s, [&] { ran_.push_back("a"); });
  EXPECT_EQ(scheduler_.run_due(), 0);
  clock_.advance(10s - 1us);
  EXPECT_EQ(scheduler_.run_due(), 0);
  EXPECT_EQ(scheduler_.next_due(), kStart + 10s);
  clock_.advance(1us);
  EXPECT_EQ(scheduler_.run_due(), 1);
  EXPECT_EQ(ran_, std::vector<std::string>{"a"});
  clock_.advance(1h);
  EXPECT_EQ(scheduler_.run_due(), 0);  // one-shot
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(scheduler_.next_due(), std::nullopt);
}

TEST_F(SchedulerTest, RunsDueJobsEarliestFirstAndTiesInTheOrderAdded) {
  scheduler_.at(kStart + 3s, [&] { ran_.push_back("3s"); });
  scheduler_.at(kStart + 1s, [&] { ran_.push_back("1s-first"); });
  scheduler_.at(kStart + 2s, [&] { ran_.push_back("2s"); });
  scheduler_.at(kStart + 1s, [&] { ran_.push_back("1s-second"); });
  scheduler_.at(kStart - 1h, [&] { ran_.push_back("past"); });  // already due
  clock_.advance(2s);
  EXPECT_EQ(scheduler_.run_due(), 4);
  EXPECT_EQ(ran_, (std::vector<std::string>{"past", "1s-first", "1s-second", "2s"}));
  EXPECT_EQ(scheduler_.pending(), 1u);
}

TEST_F(SchedulerTest, ACancelledTimerNeverRuns) {
  const auto a = scheduler_.at(kStart + 1s, [&] { ran_.push_back("a"); });
  scheduler_.at(kStart + 1s, [&] { ran_.push_back("b"); });
  EXPECT_TRUE(scheduler_.cancel(a));
  EXPECT_FALSE(scheduler_.cancel(a));  // not pending any more
  EXPECT_FALSE(scheduler_.cancel(12345));
  clock_.advance(1s);
  EXPECT_EQ(scheduler_.run_due(), 1);
  EXPECT_EQ(ran_, std::vector<std::string>{"b"});
}

TEST_F(SchedulerTest, APeriodicJobRunsAtEachInstantAndSkipsThoseMissedInsteadOfBursting) {
  int runs = 0;
  const auto id = scheduler_.every("tick", 1h, [&] { ++runs; });
  EXPECT_EQ(scheduler_.next_due(), kStart + 1h);
  clock_.advance(59min);
  EXPECT_EQ(scheduler_.run_due(), 0);
  clock_.advance(1min);
  EXPECT_EQ(scheduler_.run_due(), 1);
  EXPECT_EQ(scheduler_.next_due(), kStart + 2h);  // from the instant it was due, not from now
  clock_.advance(1h + 30min);                     // late: 3 h has not come yet
  EXPECT_EQ(scheduler_.run_due(), 1);
  EXPECT_EQ(scheduler_.next_due(), kStart + 3h);
  clock_.advance(10h);  // e.g. the wall clock jumped: one run, not ten
  EXPECT_EQ(scheduler_.run_due(), 1);
  EXPECT_EQ(scheduler_.next_due(), clock_.now() + 1h);
  EXPECT_EQ(runs, 3);
  EXPECT_TRUE(scheduler_.cancel(id));
  clock_.advance(24h);
  EXPECT_EQ(scheduler_.run_due(), 0);
  EXPECT_THROW(scheduler_.every("never", 0s, [] {}), std::invalid_argument);
}

TEST_F(SchedulerTest, AJobMayScheduleAndCancelAndAThrowingJobStopsNothing) {
  TimerId later = 0;
  scheduler_.at(kStart + 1s, [&] { throw std::runtime_error("job bug"); });
  scheduler_.at(kStart + 1s, [&] {
    ran_.push_back("first");
    scheduler_.at(clock_.now(), [&] { ran_.push_back("added, due now"); });
    scheduler_.cancel(later);
  });
  later = scheduler_.at(kStart + 1s, [&] { ran_.push_back("cancelled by the first"); });
  clock_.advance(1s);
  EXPECT_EQ(scheduler_.run_due(), 3);
  EXPECT_EQ(ran_, (std::vector<std::string>{"first", "added, due now"}));
}

TEST_F(SchedulerTest, ThousandsOfTimersRunInInstantOrderWithHalfCancelled) {
  std::mt19937 random(7);
  std::vector<std::pair<domain::Timestamp, int>> expected;
  std::vector<domain::Timestamp> got;
  for (int i = 0; i < 20000; ++i) {
    const auto when = kStart + std::chrono::seconds(random() % 86400);
    const auto id = scheduler_.at(when, [&got, when] { got.push_back(when); });
    if (i % 2 == 0) {
      scheduler_.cancel(id);
    } else {
      expected.emplace_back(when, i);
    }
  }
  EXPECT_EQ(scheduler_.pending(), 10000u);
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  clock_.advance(12h);
  const auto half = scheduler_.run_due();
  clock_.advance(12h);
  EXPECT_EQ(half + scheduler_.run_due(), 10000);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i].first) << i;
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST(SchedulerThread, RunsTimersAtTheirInstantAndWakesForAnEarlierOne) {
  domain::SystemClock clock;
  // Re-checking the clock only hourly: only the wake-up on an earlier timer can run it in time.
  Scheduler scheduler(clock, SchedulerOptions{std::chrono::hours(1)});
  std::atomic<int> ran = 0;
  scheduler.at(clock.now() + 1h, [&] { ran += 100; });
  scheduler.start();
  scheduler.at(clock.now() + 20ms, [&] { ++ran; });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ran.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);  // polling for the outcome, with a deadline
  }
  EXPECT_EQ(ran.load(), 1);
  scheduler.stop();
  scheduler.stop();  // idempotent
  EXPECT_EQ(scheduler.pending(), 1u);
}

}  // namespace
}  // namespace todo::scheduler

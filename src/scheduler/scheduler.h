// Timers at instants of the injected Clock: one-shot jobs at a Timestamp, periodic jobs as a
// series of instants, cancel by id. Built for many timers (the reminder service arms one per
// reminder instant): a binary heap ordered by instant, O(log n) to add, cancel marks the timer
// gone and its heap entry is dropped when it surfaces.
//
// Production starts a thread that sleeps until the earliest instant (re-reading the clock at
// least every `recheck`, so a wall-clock jump is noticed) and runs what is due. Tests do not
// start it: they move a domain::ManualClock and call run_due(), without sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "domain/clock.h"

namespace todo::scheduler {

using TimerId = std::uint64_t;

struct SchedulerOptions {
  // The longest the thread sleeps without looking at the clock again: bounds how late a timer
  // fires after the wall clock jumps forward (a jump back only makes the thread re-check sooner).
  std::chrono::milliseconds recheck{1000};
};

class Scheduler {
 public:
  explicit Scheduler(const domain::Clock& clock, SchedulerOptions options = {});
  ~Scheduler();  // stops the thread; pending timers are dropped
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `job` once at `when` (at once, on the next run, when `when` is already past).
  TimerId at(domain::Timestamp when, std::function<void()> job);
  // Runs `job` at now + period, then every `period` after the instant it was due; an instant
  // that passed while the previous run was late (or the clock jumped) is skipped, not made up:
  // the next one is then now + period. `name` is for the log when the job throws.
  TimerId every(std::string name, std::chrono::microseconds period, std::function<void()> job);
  // True when the timer was pending: it will not run (again). A run already in progress finishes.
  bool cancel(TimerId id);

  std::size_t pending() const;
  // The earliest instant a timer waits for.
  std::optional<domain::Timestamp> next_due() const;

  // Runs every job due at clock.now() on the calling thread, earliest first (ties in the order
  // they were added), outside the lock: a job may add and cancel timers. A job that throws is
  // logged; the others still run. Returns how many ran.
  int run_due();

  // The production thread. start() after the jobs' dependencies exist; stop() before they go.
  void start();
  void stop();  // idempotent; waits for a job in progress

 private:
  struct Timer {
    std::string name;
    std::chrono::microseconds period{0};  // zero: one-shot
    std::shared_ptr<const std::function<void()>> job;
    domain::Timestamp due{};
  };
  struct Entry {
    domain::Timestamp due;
    std::uint64_t sequence;  // ties: first added first
    TimerId id;
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };

  void push(TimerId id, domain::Timestamp due);  // mutex_ held
  void drop_cancelled_top();                     // mutex_ held
  void loop();

  const domain::Clock& clock_;
  const SchedulerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<TimerId, Timer> timers_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  TimerId last_id_ = 0;
  std::uint64_t sequence_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace todo::scheduler

// Housekeeping: the core's one periodic job. Each component adds the purges of the data it owns
// (tombstones, idempotency keys, refresh tokens, consumed events, audit entries); they run in the
// order added, once an hour, on the scheduler's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "domain/clock.h"
#include "scheduler/scheduler.h"

namespace todo::app {

class Housekeeping {
 public:
  static constexpr std::chrono::hours kInterval{1};

  explicit Housekeeping(const domain::Clock& clock) : timers_(clock) {}

  // Only before start().
  void add(std::string name, std::function<void()> step);
  void start();
  // Waits for a run in progress; idempotent. Call before anything a step uses goes away.
  void stop();
  // Every step once, on the calling thread (what the periodic job runs).
  void run_once();

 private:
  struct Step {
    std::string name;
    std::function<void()> run;
  };
  std::vector<Step> steps_;
  scheduler::Scheduler timers_;
  bool started_ = false;
};

}  // namespace todo::app

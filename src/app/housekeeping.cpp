#include "app/housekeeping.h"

#include <stdexcept>

namespace todo::app {

void Housekeeping::add(std::string name, std::function<void()> step) {
  if (started_) throw std::logic_error("housekeeping: add() after start()");
  steps_.push_back({std::move(name), std::move(step)});
}

void Housekeeping::start() {
  if (started_) return;
  started_ = true;
  timers_.every("housekeeping", kInterval, [this] { run_once(); });
  timers_.start();
}

void Housekeeping::stop() { timers_.stop(); }

// A failing step ends the run (the scheduler logs it); the next run starts from the first again.
void Housekeeping::run_once() {
  for (const auto& step : steps_) step.run();
}

}  // namespace todo::app

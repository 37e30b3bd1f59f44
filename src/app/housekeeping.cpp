#include "app/housekeeping.h"

#include <stdexcept>

namespace todo::app {

void Housekeeping::add(std::string name, std::function<void()> step) {
  if (job_) throw std::logic_error("housekeeping: add() after start()");
  steps_.push_back({std::move(name), std::move(step)});
}

void Housekeeping::start() {
  if (job_) return;
  job_ = std::make_unique<PeriodicJob>("housekeeping", kInterval, [this] { run_once(); });
}

void Housekeeping::stop() { job_.reset(); }

// A failing step ends the run (PeriodicJob logs it); the next run starts from the first again.
void Housekeeping::run_once() {
  for (const auto& step : steps_) step.run();
}

}  // namespace todo::app

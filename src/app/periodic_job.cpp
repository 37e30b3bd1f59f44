// The thread waits on a condition variable, so destruction stops it at once.
#include "app/periodic_job.h"

#include "log/log.h"

namespace todo::app {

PeriodicJob::PeriodicJob(std::string name, std::chrono::seconds interval, std::function<void()> job)
    : name_(std::move(name)), interval_(interval), job_(std::move(job)), thread_([this] { loop(); }) {}

PeriodicJob::~PeriodicJob() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicJob::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    lock.unlock();
    try {
      job_();
    } catch (const std::exception& e) {
      log::error("periodic job failed", {{"job", name_}, {"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace todo::app

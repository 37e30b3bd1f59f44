// The heap holds (instant, sequence, id); the map holds the timers. A cancelled timer leaves its
// heap entry behind, skipped when it reaches the top (and swept when such leftovers dominate).
#include "scheduler/scheduler.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "log/log.h"

namespace todo::scheduler {
namespace {

// Leftover entries of cancelled timers are swept when they outnumber the live ones by this much.
constexpr std::size_t kSweepSlack = 1024;

}  // namespace

Scheduler::Scheduler(const domain::Clock& clock, SchedulerOptions options)
    : clock_(clock), options_(options) {}

Scheduler::~Scheduler() { stop(); }

TimerId Scheduler::at(domain::Timestamp when, std::function<void()> job) {
  std::lock_guard lock(mutex_);
  const TimerId id = ++last_id_;
  timers_.emplace(id, Timer{{},
                            std::chrono::microseconds(0),
                            std::make_shared<const std::function<void()>>(std::move(job)),
                            when});
  push(id, when);
  return id;
}

TimerId Scheduler::every(std::string name, std::chrono::microseconds period,
                         std::function<void()> job) {
  if (period <= std::chrono::microseconds(0)) {
    throw std::invalid_argument("Scheduler: the period of " + name + " must be positive");
  }
  std::lock_guard lock(mutex_);
  const TimerId id = ++last_id_;
  const auto first = clock_.now() + period;
  timers_.emplace(id, Timer{std::move(name), period,
                            std::make_shared<const std::function<void()>>(std::move(job)), first});
  push(id, first);
  return id;
}

bool Scheduler::cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  if (timers_.erase(id) == 0) return false;
  if (heap_.size() > 2 * timers_.size() + kSweepSlack) {
    std::vector<Entry> live;
    live.reserve(timers_.size());
    while (!heap_.empty()) {
      const Entry e = heap_.top();
      heap_.pop();
      const auto found = timers_.find(e.id);
      if (found != timers_.end() && found->second.due == e.due) live.push_back(e);
    }
    heap_ = decltype(heap_)(std::greater<>(), std::move(live));
  }
  return true;
}

std::size_t Scheduler::pending() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

std::optional<domain::Timestamp> Scheduler::next_due() const {
  std::lock_guard lock(mutex_);
  std::optional<domain::Timestamp> earliest;
  // The top may be a leftover; the map is authoritative (and this is not on a hot path).
  for (const auto& [id, timer] : timers_) {
    if (!earliest || timer.due < *earliest) earliest = timer.due;
  }
  return earliest;
}

void Scheduler::push(TimerId id, domain::Timestamp due) {
  const bool earliest = heap_.empty() || due < heap_.top().due;
  heap_.push(Entry{due, ++sequence_, id});
  if (earliest) wake_.notify_all();  // the thread may sleep towards a later instant
}

void Scheduler::drop_cancelled_top() {
  while (!heap_.empty()) {
    const auto found = timers_.find(heap_.top().id);
    if (found != timers_.end() && found->second.due == heap_.top().due) return;
    heap_.pop();
  }
}

int Scheduler::run_due() {
  int ran = 0;
  for (;;) {
    std::shared_ptr<const std::function<void()>> job;
    std::string name;
    TimerId id = 0;
    {
      std::lock_guard lock(mutex_);
      drop_cancelled_top();
      const auto now = clock_.now();
      if (heap_.empty() || heap_.top().due > now) break;
      id = heap_.top().id;
      heap_.pop();
      auto& timer = timers_.at(id);
      job = timer.job;
      name = timer.name;
      if (timer.period == std::chrono::microseconds(0)) {
        timers_.erase(id);
      } else {
        auto next = timer.due + timer.period;
        if (next <= now) next = now + timer.period;  // fell behind: skip, do not burst
        timer.due = next;
        push(id, next);
      }
    }
    try {
      (*job)();
    } catch (const std::exception& e) {
      log::error("scheduled job failed", {{"job", name}, {"timer", id}, {"error", e.what()}});
    } catch (...) {
      log::error("scheduled job failed",
                 {{"job", name}, {"timer", id}, {"error", "unknown exception"}});
    }
    ++ran;
  }
  return ran;
}

void Scheduler::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      drop_cancelled_top();
      std::chrono::microseconds wait = options_.recheck;
      if (!heap_.empty()) {
        wait = std::clamp<std::chrono::microseconds>(heap_.top().due - clock_.now(),
                                                     std::chrono::microseconds(0), wait);
      }
      if (wait > std::chrono::microseconds(0)) {
        // Woken early by stop() or by a timer earlier than the one waited for; either way
        // the loop looks again.
        wake_.wait_for(lock, wait);
        continue;
      }
    }
    run_due();
  }
}

}  // namespace todo::scheduler

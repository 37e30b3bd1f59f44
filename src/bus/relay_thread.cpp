#include "bus/relay_thread.h"

#include <exception>
#include <utility>

#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"

namespace todo::bus {

std::int64_t purge_shipped_outbox(store::Database& db, domain::Timestamp cutoff) {
  std::int64_t deleted = 0;
  db.write([&](store::Transaction& s) {
    deleted = store::OutboxRepository{}.purge_shipped(s, cutoff);
    store::ProcessedEventRepository{}.purge(s, cutoff);
  });
  if (deleted > 0) log::info("outbox retention", {{"deleted", deleted}});
  return deleted;
}

bool RelayThread::start(std::function<void()> loop) {
  {
    std::lock_guard lock(mutex_);
    if (started_) return false;
  }
  // Not under the mutex: a commit in progress calls notify(), which takes it. Only a commit that
  // appended to the log (or may have: another process's) gives the relay something to ship; its
  // own commits, which mark rows shipped, do not wake it.
  listener_.emplace(db_, [this](const store::LogAppends& appends) {
    if (!appends.empty()) notify();
  });
  std::lock_guard lock(mutex_);
  started_ = true;
  thread_ = std::thread([this, loop = std::move(loop)] {
    try {
      loop();
    } catch (const std::exception& e) {
      log::error("relay thread stopped on an unexpected error; the bus is not ready",
                 {{"error", e.what()}});
      std::lock_guard failed(mutex_);
      failed_ = true;
    } catch (...) {
      log::error("relay thread stopped on an unexpected error; the bus is not ready");
      std::lock_guard failed(mutex_);
      failed_ = true;
    }
  });
  return true;
}

bool RelayThread::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopping_) return false;
    stopping_ = true;
  }
  listener_.reset();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return true;
}

bool RelayThread::running() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopping_ && !failed_;
}

std::optional<std::uint64_t> RelayThread::next_round() const {
  std::lock_guard lock(mutex_);
  if (stopping_) return std::nullopt;
  return generation_;
}

bool RelayThread::stop_requested() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void RelayThread::wait(std::uint64_t seen, std::chrono::milliseconds timeout, bool commits_wake) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, timeout,
                 [&] { return stopping_ || (commits_wake && generation_ != seen); });
}

void RelayThread::notify() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wake_.notify_all();
}

}  // namespace todo::bus

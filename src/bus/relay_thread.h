// The thread an outbox relay ships on (the Kafka and the Dapr relay, ADRs 0021 and 0024): started
// and stopped once, woken by every commit of the database that appended to the log (a commit
// listener), and able to tell its round loop to end. The relays differ only in what a round does.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

// The event retention of a bus whose relay ships the outbox (Kafka, Dapr): shipped rows and dedupe
// rows older than `cutoff` go, in one write; unshipped rows stay whatever their age. Returns the
// outbox rows deleted.
std::int64_t purge_shipped_outbox(store::Database& db, domain::Timestamp cutoff);

class RelayThread {
 public:
  explicit RelayThread(store::Database& db) : db_(db) {}
  ~RelayThread() { stop(); }
  RelayThread(const RelayThread&) = delete;
  RelayThread& operator=(const RelayThread&) = delete;

  // Adds the commit listener and runs `loop` on a thread of its own; false (nothing done) when it
  // was started before. An exception out of `loop` is logged and leaves running() false.
  bool start(std::function<void()> loop);
  // Asks the loop to end, wakes it and joins the thread; false when it was not running.
  bool stop();
  // Started, not stopped, and the loop has not failed.
  bool running() const;

  // For the loop. The generation of appending commits seen at the start of a round, or nullopt
  // once stop() was asked: then the loop returns.
  std::optional<std::uint64_t> next_round() const;
  bool stop_requested() const;
  // Until an appending commit after generation `seen` (when `commits_wake`), stop() or `timeout`.
  void wait(std::uint64_t seen, std::chrono::milliseconds timeout, bool commits_wake = true);

 private:
  void notify();

  store::Database& db_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t generation_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  std::thread thread_;
  std::optional<store::ScopedCommitListener> listener_;
};

}  // namespace todo::bus

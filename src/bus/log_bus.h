// The embedded bus: consumers read the outbox table itself as the log, per partition in offset
// order, each group keeping its offsets in consumer_offsets. A commit wakes consumers at once
// (Database::set_commit_listener → notify()); a periodic poll is the safety net, and also picks
// up dead letters an operator marked for replay from another process.
#pragma once

#include "bus/bus.h"
#include "domain/clock.h"
#include "store/database.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace todo::bus {

struct LogBusOptions {
  std::map<std::string, int, std::less<>> partitions;  // topic -> partition count
  std::chrono::milliseconds poll_interval{1000};       // the safety net when no wake-up comes
  int batch_size = 256;                                // most events delivered in one transaction
};

class LogBus final : public Bus {
 public:
  LogBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
         LogBusOptions options);
  ~LogBus() override;  // stops
  LogBus(const LogBus&) = delete;
  LogBus& operator=(const LogBus&) = delete;

  // The topic must be in options.partitions. Throws std::logic_error after start().
  void subscribe(Subscription subscription) override;
  // One thread per subscription.
  void start() override;
  void stop() override;
  std::vector<PartitionStats> stats() const override;
  bool running() const override;

  // New events were committed: wake every consumer now. Cheap; safe from any thread.
  void notify();

  // One pass over every subscription, on the calling thread: dead letters marked for replay,
  // then each partition's events that are due. Returns how many events were consumed. Tests
  // drive the bus with this and a manual clock instead of start().
  int poll_once();

  // Retention: deletes log rows older than `max_age` that every group has consumed, and dedupe
  // rows older than `max_age`. Returns the number of log rows deleted.
  std::int64_t purge(std::chrono::microseconds max_age);

 private:
  struct Consumer;
  int poll(Consumer& consumer, bool check_replays);
  void publish_stats(Consumer& consumer, const std::map<int, std::int64_t>& heads);
  void run(Consumer& consumer);
  std::chrono::microseconds time_to_next_retry(const Consumer& consumer) const;

  store::Database& db_;
  const domain::Clock& clock_;
  domain::RandomSource& random_;
  const LogBusOptions options_;
  std::vector<std::unique_ptr<Consumer>> consumers_;

  mutable std::mutex mutex_;  // guards the fields below and every consumer's state for stats()
  std::condition_variable wake_;
  std::uint64_t generation_ = 0;  // bumped by notify()
  bool started_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Prometheus text of the bus counters (lag, committed offset, handled/retried/dead-lettered).
std::string prometheus_text(const std::vector<PartitionStats>& stats);

}  // namespace todo::bus

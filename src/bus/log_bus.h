// The embedded bus: consumers read the outbox table itself as the log, per partition in offset
// order. Durable groups keep their offsets in consumer_offsets; ephemeral fan-out subscriptions
// keep their position in memory only. A commit that appended to a partition wakes at once the
// consumers of that partition, and only those (the bus adds its own commit listener while it
// runs; a commit heard from another process wakes every consumer); a periodic poll is the safety
// net, and also picks up dead letters an operator marked for replay from another process.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "bus/consumer_runtime.h"
#include "bus/retry.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

struct LogBusOptions {
  std::map<std::string, int, std::less<>> partitions;  // topic -> partition count
  std::chrono::milliseconds poll_interval{1000};       // the safety net when no wake-up comes
  int batch_size = 256;                                // most events delivered in one transaction
  RetryPolicy retry;                                   // durable subscriptions' retry schedule
  // Several processes on one database (PostgreSQL): each partition of a durable group is leased
  // to one process at a time, the group's partitions spread evenly over its live processes, and
  // a process that stops renewing loses them after `lease_ttl` (ADR 0020). Off, this process
  // consumes every partition of its groups.
  bool share_partitions = false;
  std::string member;                        // this process in the leases; a UUID when empty
  std::chrono::milliseconds lease_ttl{5000};  // renewed every third of it
};

class LogBus final : public Bus {
 public:
  // Retry times on the steady clock.
  LogBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
         LogBusOptions options);
  LogBus(store::Database& db, const domain::Clock& clock, const MonotonicClock& monotonic,
         domain::RandomSource& random, LogBusOptions options);
  ~LogBus() override;  // stops
  LogBus(const LogBus&) = delete;
  LogBus& operator=(const LogBus&) = delete;

  // The topic must be in options.partitions. Throws std::logic_error after start().
  void subscribe(Subscription subscription) override;
  void subscribe_ephemeral(EphemeralSubscription subscription) override;
  // Places every ephemeral subscription at the log's head, adds the commit listener, and starts
  // one thread per subscription.
  void start() override;
  void stop() override;
  std::vector<PartitionStats> stats() const override;
  bool running() const override;

  // A commit appended `appends`: wakes now each consumer thread one of whose partitions is in it
  // (a durable group sharing its partitions with other processes: one it holds a lease on, or,
  // before its first poll, any of its topic), and every one for LogAppends::anything(). Cheap;
  // safe from any thread. The bus's commit listener calls it.
  void notify(const store::LogAppends& appends);
  // Wakes every consumer thread now.
  void notify();

  // How many times notify() woke the consumer thread of `topic` for `group` (a durable group, or
  // an ephemeral subscription's name) since the bus was made; nullopt when there is none. For
  // tests and diagnostics: it says a thread was not woken without waiting to see.
  std::optional<std::uint64_t> wake_ups(std::string_view group, std::string_view topic) const;

  // One pass over every subscription, on the calling thread: dead letters marked for replay,
  // then each partition's events that are due. Returns how many events were consumed. Tests
  // drive the bus with this and manual clocks instead of start().
  int poll_once();

  // Retention: deletes log rows older than `max_age` that every durable group has consumed, and
  // dedupe rows older than `max_age`. Ephemeral subscriptions hold nothing back. Returns the
  // number of log rows deleted.
  std::int64_t purge(std::chrono::microseconds max_age);

 private:
  struct Wakeup;
  struct Consumer;
  struct Fanout;
  int poll(Consumer& consumer, bool check_replays);
  void open_partitions(Consumer& consumer, const std::vector<int>& partitions);
  void balance(Consumer& consumer);
  void leave(Consumer& consumer);
  int poll(Fanout& fanout);
  void position(Fanout& fanout);
  void publish_stats(Consumer& consumer, const std::map<int, std::int64_t>& heads);
  void publish_stats(Fanout& fanout, const std::map<int, std::int64_t>& heads);
  void publish_held(Consumer& consumer);
  void run(Consumer& consumer);
  void run(Fanout& fanout);
  template <class Poll, class Wait>
  void run_loop(const std::string& name, const std::string& topic, Wakeup& wakeup, Poll&& poll,
                Wait&& max_wait);
  std::chrono::microseconds time_to_next_retry(const Consumer& consumer) const;
  std::chrono::microseconds time_to_next_balance(const Consumer& consumer) const;

  store::Database& db_;
  const domain::Clock& clock_;
  const MonotonicClock& monotonic_;
  domain::RandomSource& random_;
  const LogBusOptions options_;
  const std::string member_;
  const RuntimeContext context_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::vector<std::unique_ptr<Fanout>> fanouts_;

  // Guards the fields below, and every consumer's and fan-out's wake-up and state for stats().
  mutable std::mutex mutex_;
  bool started_ = false;
  bool stopping_ = false;
  int failed_threads_ = 0;  // consumer threads that ended on an error they could not handle
  std::vector<std::thread> threads_;
  std::optional<store::ScopedCommitListener> commit_listener_;  // while started
};

// Prometheus text of the bus counters (lag, committed offset, handled/retried/dead-lettered).
std::string prometheus_text(const std::vector<PartitionStats>& stats);

}  // namespace todo::bus

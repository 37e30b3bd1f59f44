// The consumer runtime every bus implementation shares: delivers one partition's events to a
// durable handler with exactly-once effect (handler writes, dedupe row and offset in one
// transaction), retries failures on the configured schedule, dead-letters an event after its last
// attempt (or at once on a permanent failure), keeps the attempt count across restarts so an event
// that kills the process cannot crash-loop it, and replays dead letters on request. It does not
// fetch: the bus hands it the events it read.
#pragma once

#include <any>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "bus/bus.h"
#include "bus/retry.h"
#include "domain/clock.h"
#include "store/consumer_repository.h"
#include "store/database.h"

namespace todo::bus {

// The partition count of `topic` in a bus's `partitions` (topic -> count); std::invalid_argument
// naming `bus` when the topic is not there.
int partitions_of(const std::map<std::string, int, std::less<>>& partitions,
                  const std::string& topic, std::string_view bus);

// What is done for one event before the write transaction, on the consumer thread: the check
// that it is a JSON object, and a two-phase handler's first phase. Its result, or what it threw.
struct Prepared {
  std::any value;
  std::exception_ptr error;
};

// Runs outside any transaction, so the writer thread spends no time on it.
Prepared prepare(const Subscription& subscription, const Event& event);

// What the runtime needs besides the subscription; shared by every partition of a bus.
struct RuntimeContext {
  store::Database& db;
  const domain::Clock& clock;       // wall time: dedupe rows, dead letters, offsets
  const MonotonicClock& monotonic;  // retry times
  domain::RandomSource& random;     // dead-letter ids
  const RetryPolicy& retry;
  // Whether each handled event leaves a dedupe row (processed_events) that makes a second
  // delivery of its id a no-op. A bus whose log cannot hold an event id twice (the outbox's unique
  // event_id) and that commits the offset in the handler's transaction has no second delivery to
  // absorb: the log bus turns this off, and its offsets then advance by compare-and-set
  // (ConsumerOffsetRepository::advance), so a batch consumed meanwhile by another process (an
  // expired lease) rolls back instead of taking effect twice. Kafka (the relay's crash window) and
  // Dapr (pushes) keep it.
  bool dedupe_rows = true;
};

// Where a partition starts after the process (re)starts, read in one snapshot.
struct PartitionStart {
  std::int64_t committed = 0;  // the group's committed offset: the next event to deliver
  // Attempts recorded by an earlier process on the event at `committed` (other records are stale).
  std::optional<store::DeliveryAttempts> attempts;
  // The earlier process may have been handling any event below this offset when it stopped
  // (committed + the batch size, or the log's head when smaller): those are delivered one at a
  // time, each after recording the attempt, so whichever one killed it is counted.
  std::int64_t in_flight_end = 0;
};

class PartitionConsumer {
 public:
  PartitionConsumer(const RuntimeContext& context, const Subscription& subscription, int partition,
                    const PartitionStart& start);

  int partition() const { return partition_; }
  // The next offset to deliver (the committed offset).
  std::int64_t next_offset() const { return next_offset_; }
  // False while the partition waits for its next retry.
  bool ready(MonotonicClock::TimePoint now) const { return !retry_at_ || now >= *retry_at_; }
  std::optional<MonotonicClock::TimePoint> retry_at() const { return retry_at_; }
  // Delivers `events` (consecutive, starting at next_offset()) up to the first failure, and
  // returns how many were consumed (handled, skipped as duplicates, or dead-lettered). In the
  // steady state all in one transaction; a retry, and each event an earlier process may have died
  // on, goes alone, after its attempt was recorded in a transaction of its own. Throws nothing: a
  // failed transaction counts as a failed attempt of its first event.
  int deliver(std::span<const Event> events);

  struct Counters {
    std::int64_t handled = 0;
    std::int64_t retried = 0;
    std::int64_t dead_lettered = 0;
  };
  Counters counters() const { return counters_; }

 private:
  bool recording_attempts() const {
    return next_offset_ < in_flight_end_ || failing_offset_ == next_offset_;
  }
  int prior_failures(const Event& event) const {
    return event.offset == failing_offset_ ? failures_ : 0;
  }
  int deliver_batch(std::span<const Event> events);
  int deliver_recorded(const Event& event);
  // Runs the handler on `event` inside `tx`; on failure either dead-letters it there (the last
  // attempt, or a permanent failure) and returns true, or returns false with `failure` set.
  bool attempt(store::Transaction& tx, const Event& event, Prepared& prepared, int attempt_number,
               std::optional<std::string>& failure, bool& dead_lettered);
  void commit(store::Transaction& tx, std::int64_t next_offset);
  void dead_letter(store::Transaction& tx, const Event& event, const std::string& error,
                   int attempts, bool permanent);
  void record_failure(const Event& event, const std::string& error, int failures);
  void database_unavailable(const store::DatabaseUnavailable& e);
  // Another process moved the partition's offset (without dedupe rows): go on from where it is.
  void offset_moved(const store::OffsetMoved& e);
  static constexpr std::chrono::milliseconds kUnavailableRetry{250};
  // Writes the attempt count of `event` in its own transaction; throws when it cannot.
  void record_attempts(const Event& event, int attempts);
  // record_attempts(), logging instead of throwing.
  void persist_attempts(const Event& event, int attempts);
  void finished_through(std::int64_t next_offset);
  // No event is failing any more: its attempts, error and retry time are dropped.
  void forget_failure();

  const RuntimeContext& context_;
  const Subscription& subscription_;
  const int partition_;
  std::int64_t next_offset_;
  std::int64_t in_flight_end_;
  // The event that is failing, how often it failed (or was started and never finished), the last
  // error seen by this process, and when it may be tried again.
  std::int64_t failing_offset_ = -1;
  int failures_ = 0;
  std::optional<std::string> last_error_;
  std::optional<MonotonicClock::TimePoint> retry_at_;
  bool attempts_recorded_ = false;  // a delivery_attempts row may exist for this partition
  Counters counters_;
};

// What became of one event a broker-side agent pushed to the app (the Dapr bus): it is delivered
// once per push, not fetched, so the runtime keeps no offset for it; the dedupe row and the
// handler's writes still commit in one transaction.
enum class PushedOutcome {
  kHandled,       // the handler ran and its writes committed with the dedupe row
  kDuplicate,     // the group had processed this event id already: the handler did not run
  kFailed,        // the handler failed and attempts remain: nothing was kept, push it again
  kDeadLettered,  // a permanent failure or the last attempt: written to <topic>.dlq
  kUnavailable,   // the database could not be reached: not an attempt, push it again
};

struct PushedResult {
  PushedOutcome outcome = PushedOutcome::kHandled;
  std::string error;  // with kFailed, kDeadLettered and kUnavailable
};

// Delivers one pushed event to a durable subscription as attempt `attempt_number` (1-based; the
// caller counts attempts, the context's retry policy says how many there are). An attempt number
// past the last (every transaction failed, so no dead letter could be written in one) dead-letters
// the event without running the handler. Throws nothing.
PushedResult deliver_pushed(const RuntimeContext& context, const Subscription& subscription,
                            const Event& event, int attempt_number);

// A dead letter as JSON: its id, group, topic, partition, offset, key, event_id, error,
// attempts, failed_at, status (and replay times when set), and `event`, the original CloudEvent
// (as text when it is not JSON). The payload of a <topic>.dlq message, and what `todo dlq list`
// prints.
std::string dead_letter_json(const store::DeadLetter& letter);

// Redelivers the subscription's dead letters an operator marked for replay (`todo dlq replay`),
// each in its own transaction with the dedupe row: success marks it replayed, failure marks it
// dead again with the new error. Returns how many were attempted.
int replay_dead_letters(store::Database& db, const domain::Clock& clock,
                        const Subscription& subscription);

}  // namespace todo::bus

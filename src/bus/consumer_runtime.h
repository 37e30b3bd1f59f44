// The consumer runtime every bus implementation shares: delivers one partition's events to a
// handler with exactly-once effect (handler writes, dedupe row and offset in one transaction),
// retries failures with backoff, dead-letters an event after its last retry, and replays dead
// letters on request. It does not fetch: the bus hands it the events it read.
#pragma once

#include "bus/bus.h"
#include "domain/clock.h"
#include "store/consumer_repository.h"
#include "store/database.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace todo::bus {

class PartitionConsumer {
 public:
  PartitionConsumer(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
                    const Subscription& subscription, int partition, std::int64_t next_offset);

  int partition() const { return partition_; }
  // The next offset to deliver (the committed offset).
  std::int64_t next_offset() const { return next_offset_; }
  // False while the partition waits for its next retry.
  bool ready(domain::Timestamp now) const { return !retry_at_ || now >= *retry_at_; }
  std::optional<domain::Timestamp> retry_at() const { return retry_at_; }

  // Delivers `events` (consecutive, starting at next_offset()) in one transaction, up to the first
  // failure. Returns how many were consumed (handled, skipped as duplicates, or dead-lettered).
  // Throws nothing: a failed transaction counts as a failed attempt of the first event.
  int deliver(std::span<const Event> events);

  struct Counters {
    std::int64_t handled = 0;
    std::int64_t retried = 0;
    std::int64_t dead_lettered = 0;
  };
  Counters counters() const { return counters_; }

 private:
  void run_one(store::Transaction& tx, const Event& event);
  void dead_letter(store::Transaction& tx, const Event& event, const std::string& error, int attempts);
  void record_failure(const Event& event, const std::string& error, int prior_failures);

  store::Database& db_;
  const domain::Clock& clock_;
  domain::RandomSource& random_;
  const Subscription& subscription_;
  const int partition_;
  std::int64_t next_offset_;
  // The event that is failing, how often it failed, and when it may be tried again.
  std::int64_t failing_offset_ = -1;
  int failures_ = 0;
  std::optional<domain::Timestamp> retry_at_;
  Counters counters_;
};

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

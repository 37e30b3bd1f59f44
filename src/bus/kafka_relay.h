// The outbox relay: ships the outbox's unshipped rows to Kafka, each partition in offset order to
// the same-numbered Kafka partition, with an idempotent producer, and marks a row shipped only
// after its delivery report (ADR 0021). The outbox stays the source of truth: writers append in
// their own transaction and never wait for the broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "bus/kafka_settings.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

struct RelayOptions {
  // Topics to create at start when missing (topic -> partition count).
  std::map<std::string, int, std::less<>> topics;
  // Rows of each partition produced in a round, before the round's reports are awaited.
  int batch_size = 4000;
  std::chrono::milliseconds poll_interval{1000};  // the safety net when no commit wakes it
  std::chrono::milliseconds message_timeout{30000};  // a row not acknowledged by then is sent again
  // Several processes on one database: one relay ships at a time, holding a lease (the
  // partition_leases table, group "outbox-relay") renewed every third of this.
  std::chrono::milliseconds lease_ttl{10000};
};

class OutboxRelay {
 public:
  OutboxRelay(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
              KafkaSettings settings, RelayOptions options);
  ~OutboxRelay();  // stops
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // Creates the producer (throws std::invalid_argument on a configuration librdkafka refuses),
  // adds a commit listener and starts the relay thread. Nothing here waits for the broker.
  void start();
  // Stops without waiting for outstanding delivery reports: what was not acknowledged stays
  // unshipped and is sent again at the next start (the duplicates consumers drop by event id).
  void stop();
  bool running() const;          // false once the thread ended on an error it could not handle
  std::int64_t shipped() const;  // rows marked shipped since start

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace todo::bus

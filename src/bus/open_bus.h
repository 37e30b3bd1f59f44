// The bus factory: the one place that turns configuration into a concrete bus. The application
// owns a BusBackend — the Bus services subscribe through, plus what only the owner does (metrics,
// retention) — and never names an implementation.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "bus/dapr_settings.h"
#include "bus/kafka_settings.h"
#include "bus/push_delivery.h"
#include "bus/retry.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

enum class BusKind {
  kLog,    // the embedded log bus over the outbox table
  kKafka,  // Kafka through librdkafka: the outbox is relayed to it (ADR 0021)
  kDapr,   // a Dapr sidecar: the outbox is published through it, it pushes events (ADR 0024)
};

struct BusOptions {
  BusKind kind = BusKind::kLog;
  std::map<std::string, int, std::less<>> partitions;  // topic -> partition count
  RetryPolicy retry;  // durable consumers' backoff before the dead letters
  // Several processes share the database (PostgreSQL): durable groups' partitions are leased so
  // each is consumed by one process at a time (LogBusOptions::share_partitions).
  bool share_partitions = false;
  // kKafka: the cluster. kDapr: the sidecar, and how to POST to it (the app's HTTP client).
  KafkaSettings kafka;
  DaprSettings dapr;
  DaprPublisher dapr_publisher;
  // kKafka and kDapr: whether this process runs the outbox relay (one process should).
  bool relay = true;
  std::chrono::milliseconds poll_interval{1000};  // the safety net when no wake-up comes
};

class BusBackend : public Bus {
 public:
  // Prometheus text of the bus counters (lag, committed offset, handled/retried/dead-lettered).
  virtual std::string prometheus_text() const = 0;
  // Retention: deletes events older than `max_age` that every group has consumed. Returns the
  // number of events deleted.
  virtual std::int64_t purge(std::chrono::microseconds max_age) = 0;
  // A bus whose broker pushes events over HTTP (Dapr) needs routes: the app serves them when this
  // is not null.
  virtual PushDelivery* push_delivery() { return nullptr; }
};

// The bus over `db`, which must outlive it. The Kafka bus is woken by every commit of `db` that
// appended to the log (its relay ships what was committed). The log bus's consumers are woken by
// the commits of `db` that appended to their partitions (it adds its own commit listener while
// started). Destroying the bus stops it.
std::unique_ptr<BusBackend> open_bus(store::Database& db, const domain::Clock& clock,
                                     domain::RandomSource& random, const BusOptions& options);

}  // namespace todo::bus

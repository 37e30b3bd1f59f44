// The Kafka bus (ADR 0021): the outbox relay ships what writers append to the outbox, and the
// subscriptions consume from Kafka — durable groups as librdkafka consumer groups with their
// offsets, dedupe rows and dead letters in the database (the shared consumer runtime), ephemeral
// fan-out subscriptions from the end of every partition. No librdkafka type appears here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "bus/consumer_runtime.h"
#include "bus/kafka_settings.h"
#include "bus/open_bus.h"
#include "bus/retry.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

class KafkaConsumer;
class OutboxRelay;

struct KafkaBusOptions {
  KafkaSettings kafka;
  std::map<std::string, int, std::less<>>
      partitions;  // topic -> partition count (created at start)
  RetryPolicy retry;
  bool relay = true;  // ship the outbox from this process (one relay per database)
  std::chrono::milliseconds poll_interval{1000};
  int batch_size = 256;
};

class KafkaBus final : public BusBackend {
 public:
  KafkaBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
           KafkaBusOptions options);
  ~KafkaBus() override;  // stops
  KafkaBus(const KafkaBus&) = delete;
  KafkaBus& operator=(const KafkaBus&) = delete;

  // The topic must be in options.partitions. Throws std::logic_error after start().
  void subscribe(Subscription subscription) override;
  void subscribe_ephemeral(EphemeralSubscription subscription) override;
  // Starts the relay, places every ephemeral subscription at the end of its topic (asking the
  // broker, a few seconds at most when it does not answer), and starts one thread per consumer.
  // Throws std::invalid_argument when librdkafka refuses the configuration.
  void start() override;
  void stop() override;
  std::vector<PartitionStats> stats() const override;
  bool running() const override;
  std::string prometheus_text() const override;
  // Deletes shipped outbox rows and dedupe rows older than `max_age`; Kafka's own retention
  // governs the topics. Returns the outbox rows deleted.
  std::int64_t purge(std::chrono::microseconds max_age) override;

 private:
  store::Database& db_;
  const domain::Clock& clock_;
  domain::RandomSource& random_;
  const KafkaBusOptions options_;
  const RuntimeContext context_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::vector<std::unique_ptr<EphemeralSubscription>> ephemerals_;
  std::vector<std::unique_ptr<KafkaConsumer>> consumers_;
  std::unique_ptr<OutboxRelay> relay_;

  mutable std::mutex mutex_;
  bool started_ = false;
  bool stopped_ = false;
  int failed_threads_ = 0;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace todo::bus

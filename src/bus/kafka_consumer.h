// The Kafka bus's consumers, one thread each: a durable group consumer (a librdkafka consumer
// group whose partitions start at the offsets in the database and are delivered through the
// shared consumer runtime) and an ephemeral fan-out consumer (every partition from the end, no
// group commits, at most once). librdkafka stays inside kafka_consumer.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "bus/bus.h"
#include "bus/consumer_runtime.h"
#include "bus/kafka_settings.h"

namespace todo::bus {

struct KafkaConsumerOptions {
  std::chrono::milliseconds poll_interval{1000};  // dead-letter replays are looked for this often
  int batch_size = 256;                           // most events delivered in one transaction
};

class KafkaConsumer {
 public:
  virtual ~KafkaConsumer() = default;
  // Before the thread starts, on the caller's thread (the fan-out places itself at the end here).
  virtual void prepare() {}
  // The consumer loop, on its own thread, until `stopping`; closes the client before returning.
  virtual void run(const std::atomic<bool>& stopping) = 0;
  virtual std::vector<PartitionStats> stats() const = 0;
};

// `context` and `subscription` outlive the consumer.
std::unique_ptr<KafkaConsumer> make_group_consumer(const RuntimeContext& context,
                                                   const Subscription& subscription,
                                                   const KafkaSettings& settings,
                                                   KafkaConsumerOptions options);
std::unique_ptr<KafkaConsumer> make_fanout_consumer(const EphemeralSubscription& subscription,
                                                    int partitions, const KafkaSettings& settings);

}  // namespace todo::bus

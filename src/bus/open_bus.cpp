#include "bus/open_bus.h"

#include <memory>
#include <stdexcept>
#include <utility>

#include "bus/dapr_bus.h"
#include "bus/kafka_bus.h"
#include "bus/log_bus.h"

namespace todo::bus {
namespace {

class OutboxLogBus final : public BusBackend {
 public:
  OutboxLogBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
               LogBusOptions options)
      : bus_(db, clock, random, std::move(options)) {}
  // Consumers finish their handler and commit before anything they call goes away; stop() also
  // removes the bus's commit listener, waiting for a call in progress.
  ~OutboxLogBus() override { bus_.stop(); }
  OutboxLogBus(const OutboxLogBus&) = delete;
  OutboxLogBus& operator=(const OutboxLogBus&) = delete;

  void subscribe(Subscription subscription) override { bus_.subscribe(std::move(subscription)); }
  void subscribe_ephemeral(EphemeralSubscription subscription) override {
    bus_.subscribe_ephemeral(std::move(subscription));
  }
  void start() override { bus_.start(); }
  void stop() override { bus_.stop(); }
  std::vector<PartitionStats> stats() const override { return bus_.stats(); }
  bool running() const override { return bus_.running(); }
  std::string prometheus_text() const override { return bus::prometheus_text(bus_.stats()); }
  std::int64_t purge(std::chrono::microseconds max_age) override { return bus_.purge(max_age); }

 private:
  LogBus bus_;
};

}  // namespace

std::unique_ptr<BusBackend> open_bus(store::Database& db, const domain::Clock& clock,
                                     domain::RandomSource& random, const BusOptions& options) {
  switch (options.kind) {
    case BusKind::kLog: {
      LogBusOptions log_options;
      log_options.partitions = options.partitions;
      log_options.retry = options.retry;
      log_options.share_partitions = options.share_partitions;
      log_options.poll_interval = options.poll_interval;
      return std::make_unique<OutboxLogBus>(db, clock, random, std::move(log_options));
    }
    case BusKind::kKafka: {
      KafkaBusOptions kafka_options;
      kafka_options.kafka = options.kafka;
      kafka_options.partitions = options.partitions;
      kafka_options.retry = options.retry;
      kafka_options.relay = options.relay;
      kafka_options.poll_interval = options.poll_interval;
      return std::make_unique<KafkaBus>(db, clock, random, std::move(kafka_options));
    }
    case BusKind::kDapr: {
      DaprBusOptions dapr_options;
      dapr_options.dapr = options.dapr;
      dapr_options.publisher = options.dapr_publisher;
      dapr_options.partitions = options.partitions;
      dapr_options.retry = options.retry;
      dapr_options.relay = options.relay;
      dapr_options.poll_interval = options.poll_interval;
      return std::make_unique<DaprBus>(db, clock, random, std::move(dapr_options));
    }
  }
  throw std::logic_error("unknown bus kind");
}

}  // namespace todo::bus

// The Dapr bus (ADR 0024): the outbox relay publishes through the sidecar, and the sidecar pushes
// each event to this process's routes, where the consumer runtime applies it with the same
// exactly-once effect as on the other buses (handler writes and dedupe row in one transaction,
// attempts counted, dead letters in <topic>.dlq). No HTTP type appears here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "bus/consumer_runtime.h"
#include "bus/dapr_settings.h"
#include "bus/open_bus.h"
#include "bus/push_delivery.h"
#include "bus/retry.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

class DaprRelay;

struct DaprBusOptions {
  DaprSettings dapr;
  DaprPublisher publisher;  // required when relay is true
  std::map<std::string, int, std::less<>> partitions;
  RetryPolicy retry;  // max_attempts() attempts before the dead letter; the waits are Dapr's
  bool relay = true;  // ship the outbox from this process (one relay per database)
  std::chrono::milliseconds poll_interval{1000};
};

// The answer to the sidecar for one durable group's outcome (unit-tested): handled and duplicate
// are SUCCESS, a failure with attempts left and an unreachable database are RETRY, a dead letter
// is DROP.
DaprStatus dapr_status_of(PushedOutcome outcome);
// Several groups of one process consume a topic through one route: RETRY when any must see the
// event again (the others drop the redelivery by event id), else DROP when any dead-lettered it,
// else SUCCESS.
DaprStatus combine(DaprStatus a, DaprStatus b);

class DaprBus final : public BusBackend, public PushDelivery {
 public:
  DaprBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
          DaprBusOptions options);
  ~DaprBus() override;  // stops
  DaprBus(const DaprBus&) = delete;
  DaprBus& operator=(const DaprBus&) = delete;

  void subscribe(Subscription subscription) override;
  void subscribe_ephemeral(EphemeralSubscription subscription) override;
  void start() override;
  void stop() override;
  std::vector<PartitionStats> stats() const override;
  bool running() const override;
  std::string prometheus_text() const override;
  std::int64_t purge(std::chrono::microseconds max_age) override;
  PushDelivery* push_delivery() override { return this; }

  std::string subscriptions_json() const override;
  PushAnswer deliver(std::string_view topic, std::string_view body) override;
  PushAnswer deliver_fanout(std::string_view topic, std::string_view body) override;
  const std::string& app_token() const override { return options_.dapr.app_token; }

 private:
  struct Counters {
    std::int64_t handled = 0, retried = 0, dead_lettered = 0, skipped = 0;
  };
  bool accepting() const;
  DaprStatus deliver_to(const Subscription& subscription, const Event& event);
  void replay_loop();

  store::Database& db_;
  const domain::Clock& clock_;
  domain::RandomSource& random_;
  const DaprBusOptions options_;
  const RuntimeContext context_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::vector<std::unique_ptr<EphemeralSubscription>> ephemerals_;
  std::unique_ptr<DaprRelay> relay_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool started_ = false;
  bool stopped_ = false;
  std::thread replayer_;
  // Failed attempts per (group, event id), in this process only: a restart starts counting again.
  std::map<std::string, int, std::less<>> failures_;
  // (group, event id) dead-lettered recently: a redelivery (another group asked RETRY) does not
  // dead-letter it twice. Bounded, oldest forgotten first.
  std::set<std::string, std::less<>> dead_;
  std::deque<std::string> dead_order_;
  std::map<std::string, Counters, std::less<>> counters_;  // by group + '\n' + topic
};

}  // namespace todo::bus

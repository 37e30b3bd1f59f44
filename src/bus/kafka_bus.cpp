// The Kafka bus: wiring of the relay and the consumers, their threads, stats and retention.
#include "bus/kafka_bus.h"

#include <stdexcept>
#include <utility>

#include "bus/kafka_consumer.h"
#include "bus/kafka_relay.h"
#include "bus/log_bus.h"
#include "log/log.h"
#include "bus/relay_thread.h"

namespace todo::bus {
namespace {

const SteadyClock kSteadyClock;

int partitions_of(const KafkaBusOptions& options, const std::string& topic) {
  return bus::partitions_of(options.partitions, topic, "KafkaBus");
}

}  // namespace

KafkaBus::KafkaBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
                   KafkaBusOptions options)
    : db_(db),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      context_{db_, clock_, kSteadyClock, random_, options_.retry} {
  if (options_.kafka.brokers.empty()) throw std::invalid_argument("KafkaBus: no brokers");
  if (options_.batch_size < 1) throw std::invalid_argument("KafkaBus: batch_size must be >= 1");
}

KafkaBus::~KafkaBus() { stop(); }

void KafkaBus::subscribe(Subscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("KafkaBus: subscribe after start");
  partitions_of(options_, subscription.topic);
  const bool two_phase = subscription.prepare && subscription.apply;
  if (static_cast<bool>(subscription.handler) == two_phase ||
      (!two_phase && (subscription.prepare || subscription.apply))) {
    throw std::invalid_argument("KafkaBus: group " + subscription.group +
                                " needs either a handler or both prepare and apply");
  }
  for (const auto& s : subscriptions_) {
    if (s->topic == subscription.topic && s->group == subscription.group) {
      throw std::invalid_argument("KafkaBus: group " + subscription.group + " already consumes " +
                                  subscription.topic);
    }
  }
  subscriptions_.push_back(std::make_unique<Subscription>(std::move(subscription)));
}

void KafkaBus::subscribe_ephemeral(EphemeralSubscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("KafkaBus: subscribe after start");
  partitions_of(options_, subscription.topic);
  ephemerals_.push_back(std::make_unique<EphemeralSubscription>(std::move(subscription)));
}

void KafkaBus::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return;
  }
  if (options_.relay) {
    RelayOptions relay_options;
    relay_options.topics = options_.partitions;
    relay_options.poll_interval = options_.poll_interval;
    relay_ = std::make_unique<OutboxRelay>(db_, clock_, random_, options_.kafka,
                                           std::move(relay_options));
    relay_->start();
  }
  KafkaConsumerOptions consumer_options{options_.poll_interval, options_.batch_size};
  for (const auto& s : subscriptions_) {
    consumers_.push_back(make_group_consumer(context_, *s, options_.kafka, consumer_options));
  }
  for (const auto& e : ephemerals_) {
    consumers_.push_back(
        make_fanout_consumer(*e, partitions_of(options_, e->topic), options_.kafka));
  }
  for (auto& c : consumers_) c->prepare();
  std::lock_guard lock(mutex_);
  started_ = true;
  for (auto& c : consumers_) {
    threads_.emplace_back([this, consumer = c.get()] {
      try {
        consumer->run(stopping_);
      } catch (const std::exception& e) {
        log::error("kafka consumer thread stopped; the bus is not ready", {{"error", e.what()}});
        std::lock_guard failed(mutex_);
        ++failed_threads_;
      } catch (...) {
        log::error("kafka consumer thread stopped on an unexpected error; the bus is not ready");
        std::lock_guard failed(mutex_);
        ++failed_threads_;
      }
    });
  }
}

void KafkaBus::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (relay_) relay_->stop();
}

bool KafkaBus::running() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopped_ && failed_threads_ == 0 && (!relay_ || relay_->running());
}

std::vector<PartitionStats> KafkaBus::stats() const {
  std::vector<PartitionStats> out;
  for (const auto& c : consumers_) {
    auto some = c->stats();
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

std::string KafkaBus::prometheus_text() const { return bus::prometheus_text(stats()); }

std::int64_t KafkaBus::purge(std::chrono::microseconds max_age) {
  return purge_shipped_outbox(db_, clock_.now() - max_age);
}

}  // namespace todo::bus

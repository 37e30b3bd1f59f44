// The Dapr bus: the relay, the programmatic subscriptions, and the pushed deliveries run through
// the consumer runtime, with the attempt count and counters per group.
#include "bus/dapr_bus.h"

#include <boost/json.hpp>
#include <stdexcept>
#include <utility>

#include "bus/dapr_relay.h"
#include "bus/log_bus.h"
#include "log/log.h"
#include "bus/relay_thread.h"

namespace todo::bus {
namespace {

const SteadyClock kSteadyClock;
constexpr std::size_t kRememberedDeadLetters = 10000;
constexpr std::size_t kRememberedFailures = 10000;

std::string key_of(std::string_view a, std::string_view b) {
  std::string k(a);
  k += '\n';
  k += b;
  return k;
}

int severity(DaprStatus s) {
  switch (s) {
    case DaprStatus::kSuccess:
      return 0;
    case DaprStatus::kDrop:
      return 1;
    case DaprStatus::kRetry:
      return 2;
  }
  return 2;
}

// FNV-1a of the event id, as a negative number (-1 - 62 bits of the hash).
std::int64_t offset_standing_in_for(std::string_view event_id) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : event_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return -1 - static_cast<std::int64_t>(h >> 2);
}

}  // namespace

DaprStatus dapr_status_of(PushedOutcome outcome) {
  switch (outcome) {
    case PushedOutcome::kHandled:
    case PushedOutcome::kDuplicate:
      return DaprStatus::kSuccess;
    case PushedOutcome::kDeadLettered:
      return DaprStatus::kDrop;
    case PushedOutcome::kFailed:
    case PushedOutcome::kUnavailable:
      return DaprStatus::kRetry;
  }
  return DaprStatus::kRetry;
}

DaprStatus combine(DaprStatus a, DaprStatus b) { return severity(a) >= severity(b) ? a : b; }

DaprBus::DaprBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
                 DaprBusOptions options)
    : db_(db),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      context_{db_, clock_, kSteadyClock, random_, options_.retry} {
  if (options_.relay && !options_.publisher) {
    throw std::invalid_argument("DaprBus: the relay needs a publisher");
  }
}

DaprBus::~DaprBus() { stop(); }

void DaprBus::subscribe(Subscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("DaprBus: subscribe after start");
  partitions_of(options_.partitions, subscription.topic, "DaprBus");
  const bool two_phase = subscription.prepare && subscription.apply;
  if (static_cast<bool>(subscription.handler) == two_phase ||
      (!two_phase && (subscription.prepare || subscription.apply))) {
    throw std::invalid_argument("DaprBus: group " + subscription.group +
                                " needs either a handler or both prepare and apply");
  }
  for (const auto& s : subscriptions_) {
    if (s->topic == subscription.topic && s->group == subscription.group) {
      throw std::invalid_argument("DaprBus: group " + subscription.group + " already consumes " +
                                  subscription.topic);
    }
  }
  counters_[key_of(subscription.group, subscription.topic)] = {};
  subscriptions_.push_back(std::make_unique<Subscription>(std::move(subscription)));
}

void DaprBus::subscribe_ephemeral(EphemeralSubscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("DaprBus: subscribe after start");
  partitions_of(options_.partitions, subscription.topic, "DaprBus");
  counters_[key_of(subscription.name, subscription.topic)] = {};
  ephemerals_.push_back(std::make_unique<EphemeralSubscription>(std::move(subscription)));
}

void DaprBus::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return;
  }
  if (options_.relay) {
    DaprRelayOptions relay_options;
    relay_options.poll_interval = options_.poll_interval;
    relay_ = std::make_unique<DaprRelay>(db_, clock_, random_, options_.dapr, options_.publisher,
                                         relay_options);
    relay_->start();
  }
  std::lock_guard lock(mutex_);
  started_ = true;
  if (!subscriptions_.empty()) replayer_ = std::thread([this] { replay_loop(); });
}

void DaprBus::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  wake_.notify_all();
  if (replayer_.joinable()) replayer_.join();
  if (relay_) relay_->stop();
}

bool DaprBus::accepting() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopped_;
}

bool DaprBus::running() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopped_ && (!relay_ || relay_->running());
}

// `todo dlq replay` marks letters; each group looks for them every poll interval (as on Kafka).
void DaprBus::replay_loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.poll_interval, [&] { return stopped_; });
      if (stopped_) return;
    }
    for (const auto& s : subscriptions_) {
      try {
        replay_dead_letters(db_, clock_, *s);
      } catch (const std::exception& e) {
        log::warn("dead letter replay could not run; trying again later",
                  {{"group", s->group}, {"error", e.what()}});
      }
    }
  }
}

std::string DaprBus::subscriptions_json() const {
  boost::json::array out;
  std::set<std::string, std::less<>> durable, fanout;
  for (const auto& s : subscriptions_) durable.insert(s->topic);
  for (const auto& e : ephemerals_) fanout.insert(e->topic);
  auto add = [&](const std::string& pubsub, const std::string& topic, std::string route) {
    boost::json::object o;
    o["pubsubname"] = pubsub;
    o["topic"] = topic;
    o["route"] = std::move(route);
    // Our events are structured CloudEvents already: Dapr must not wrap them again.
    o["metadata"] = boost::json::object{{"rawPayload", "false"}};
    out.push_back(std::move(o));
  };
  for (const auto& t : durable) add(options_.dapr.pubsub, t, dapr_event_route(t));
  for (const auto& t : fanout) add(options_.dapr.fanout_pubsub, t, dapr_fanout_route(t));
  return boost::json::serialize(out);
}

DaprStatus DaprBus::deliver_to(const Subscription& subscription, const Event& event) {
  const auto key = key_of(subscription.group, event.id);
  const auto counter_key = key_of(subscription.group, subscription.topic);
  int number = 1;
  {
    std::lock_guard lock(mutex_);
    if (dead_.contains(key)) return DaprStatus::kDrop;  // dead-lettered already
    if (auto f = failures_.find(key); f != failures_.end()) number = f->second + 1;
  }
  const auto result = deliver_pushed(context_, subscription, event, number);
  std::lock_guard lock(mutex_);
  auto& counters = counters_[counter_key];
  switch (result.outcome) {
    case PushedOutcome::kHandled:
    case PushedOutcome::kDuplicate:
      failures_.erase(key);
      ++counters.handled;
      break;
    case PushedOutcome::kFailed:
      // Bounded: an event the sidecar gave up on would otherwise stay here for good (forgetting a
      // count only gives that event its attempts again).
      if (failures_.size() >= kRememberedFailures && !failures_.contains(key)) {
        failures_.erase(failures_.begin());
      }
      failures_[key] = number;
      ++counters.retried;
      break;
    case PushedOutcome::kDeadLettered:
      failures_.erase(key);
      ++counters.dead_lettered;
      if (dead_.insert(key).second) dead_order_.push_back(key);
      if (dead_order_.size() > kRememberedDeadLetters) {
        dead_.erase(dead_order_.front());
        dead_order_.pop_front();
      }
      break;
    case PushedOutcome::kUnavailable:
      log::warn("the database is unreachable; the sidecar is asked to push the event again",
                {{"group", subscription.group}, {"event_id", event.id}, {"error", result.error}});
      break;
  }
  return dapr_status_of(result.outcome);
}

PushAnswer DaprBus::deliver(std::string_view topic, std::string_view body) {
  std::vector<const Subscription*> consumers;
  for (const auto& s : subscriptions_) {
    if (s->topic == topic) consumers.push_back(s.get());
  }
  if (consumers.empty()) return {PushAnswer::Kind::kUnknownTopic, DaprStatus::kDrop, "topic", ""};
  auto parsed = parse_pushed_cloud_event(body);
  if (auto* bad = std::get_if<PushedCloudEventError>(&parsed)) {
    return {PushAnswer::Kind::kInvalid, DaprStatus::kDrop, bad->field, bad->reason};
  }
  if (!accepting()) return {PushAnswer::Kind::kStatus, DaprStatus::kRetry, "", ""};
  auto& pushed = std::get<PushedCloudEvent>(parsed);
  const auto now = clock_.now();
  Event event;
  event.topic = std::string(topic);
  event.partition = pushed.partition;
  // Not published by our relay: no outbox offset. A negative one derived from the event id keeps a
  // dead letter's (group, topic, partition, offset) key unique.
  event.offset = pushed.offset >= 0 ? pushed.offset : offset_standing_in_for(pushed.id);
  event.key = std::move(pushed.key);
  event.id = std::move(pushed.id);
  event.payload = std::move(pushed.payload);
  event.published_at = now;
  DaprStatus status = DaprStatus::kSuccess;
  for (const auto* s : consumers) status = combine(status, deliver_to(*s, event));
  return {PushAnswer::Kind::kStatus, status, "", ""};
}

PushAnswer DaprBus::deliver_fanout(std::string_view topic, std::string_view body) {
  std::vector<const EphemeralSubscription*> consumers;
  for (const auto& e : ephemerals_) {
    if (e->topic == topic) consumers.push_back(e.get());
  }
  if (consumers.empty()) return {PushAnswer::Kind::kUnknownTopic, DaprStatus::kDrop, "topic", ""};
  auto parsed = parse_pushed_cloud_event(body);
  if (auto* bad = std::get_if<PushedCloudEventError>(&parsed)) {
    return {PushAnswer::Kind::kInvalid, DaprStatus::kDrop, bad->field, bad->reason};
  }
  // Ephemeral: at most once. Before start and after stop there is nobody to tell.
  if (!accepting()) return {PushAnswer::Kind::kStatus, DaprStatus::kSuccess, "", ""};
  auto& pushed = std::get<PushedCloudEvent>(parsed);
  Event event{std::string(topic),   pushed.partition,          pushed.offset, std::move(pushed.key),
              std::move(pushed.id), std::move(pushed.payload), clock_.now()};
  for (const auto* e : consumers) {
    try {
      e->handler(event);
      std::lock_guard lock(mutex_);
      ++counters_[key_of(e->name, e->topic)].handled;
    } catch (const std::exception& ex) {
      log::warn("ephemeral handler failed; the event is skipped",
                {{"group", e->name}, {"event_id", event.id}, {"error", ex.what()}});
      std::lock_guard lock(mutex_);
      ++counters_[key_of(e->name, e->topic)].skipped;
    }
  }
  return {PushAnswer::Kind::kStatus, DaprStatus::kSuccess, "", ""};
}

std::vector<PartitionStats> DaprBus::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<PartitionStats> out;
  for (const auto& [key, c] : counters_) {
    const auto cut = key.find('\n');
    PartitionStats s;
    s.group = key.substr(0, cut);
    s.topic = key.substr(cut + 1);
    s.handled = c.handled;
    s.retried = c.retried;
    s.dead_lettered = c.dead_lettered;
    s.skipped = c.skipped;
    out.push_back(std::move(s));
  }
  return out;
}

std::string DaprBus::prometheus_text() const { return bus::prometheus_text(stats()); }

std::int64_t DaprBus::purge(std::chrono::microseconds max_age) {
  return purge_shipped_outbox(db_, clock_.now() - max_age);
}

}  // namespace todo::bus

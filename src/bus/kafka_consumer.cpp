// Kafka consumers. A durable group: librdkafka's consumer group decides which partitions this
// process owns; at each assignment the partitions start at the group's offsets in the database
// (the committed offset is the next Kafka offset to read), and the shared consumer runtime
// delivers them with handler writes, dedupe row and offset in one transaction. Offsets are also
// committed to Kafka, asynchronously, for Kafka's own tools: the database is authoritative.
#include "bus/kafka_consumer.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "bus/kafka_client.h"
#include "log/log.h"
#include "store/consumer_repository.h"

namespace todo::bus {
namespace {

Event to_event(const rd_kafka_message_t& m) {
  Event e;
  e.topic = rd_kafka_topic_name(m.rkt);
  e.partition = m.partition;
  e.offset = m.offset;
  if (m.key != nullptr) e.key.assign(static_cast<const char*>(m.key), m.key_len);
  if (m.payload != nullptr) e.payload.assign(static_cast<const char*>(m.payload), m.len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_header_get_last(headers, "ce_id", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        value != nullptr) {
      e.id.assign(static_cast<const char*>(value), size);
    }
  }
  if (e.id.empty()) e.id = kafka::cloud_event_attributes(e.payload).id;
  rd_kafka_timestamp_type_t type;
  const auto ms = rd_kafka_message_timestamp(&m, &type);
  if (ms >= 0) e.published_at = domain::Timestamp(std::chrono::milliseconds(ms));
  return e;
}

// The high watermark librdkafka last saw for the partition (no network call); 0 when unknown.
std::int64_t cached_end(rd_kafka_t* rk, const std::string& topic, int partition) {
  std::int64_t low = 0;
  std::int64_t high = 0;
  if (rd_kafka_get_watermark_offsets(rk, topic.c_str(), partition, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return 0;
  }
  return std::max<std::int64_t>(high, 0);
}

// Logs a consumer error once until a different one (or none) comes: a broker that is down
// reports the same transport error on every poll.
class ErrorLog {
 public:
  void report(const std::string& who, const std::string& topic, rd_kafka_resp_err_t err,
              const std::string& text) {
    if (err == last_) return;
    last_ = err;
    log::warn("kafka consumer error", {{"group", who}, {"topic", topic}, {"error", text}});
  }
  void clear() { last_ = RD_KAFKA_RESP_ERR_NO_ERROR; }
  // True when `m` carries an error instead of an event (reported, unless it is the end of a
  // partition); false, and the error log cleared, for an event.
  bool failed(const rd_kafka_message_t& m, const std::string& who, const std::string& topic) {
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      clear();
      return false;
    }
    if (m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      report(who, topic, m.err, rd_kafka_message_errstr(&m));
    }
    return true;
  }

 private:
  rd_kafka_resp_err_t last_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

class GroupConsumer final : public KafkaConsumer {
 public:
  GroupConsumer(const RuntimeContext& context, const Subscription& subscription,
                const KafkaSettings& settings, KafkaConsumerOptions options)
      : context_(context), subscription_(subscription), settings_(settings), options_(options) {}

  void run(const std::atomic<bool>& stopping) override;
  std::vector<PartitionStats> stats() const override {
    std::lock_guard lock(stats_mutex_);
    return published_;
  }

 private:
  struct Assigned {
    std::unique_ptr<PartitionConsumer> consumer;
    // Fetched, not yet consumed (waiting for a retry, or the next round).
    std::deque<Event> pending;
    bool paused = false;
  };

  static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<GroupConsumer*>(opaque);
    try {
      self->on_rebalance(rk, err, partitions);
    } catch (const std::exception& e) {  // never throw into librdkafka
      log::error("kafka rebalance failed",
                 {{"group", self->subscription_.group}, {"error", e.what()}});
    }
  }
  void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* partitions);
  // Reads the group's offsets and attempts for the partitions of `wanted` and assigns them at
  // those offsets. False (nothing assigned) when the database could not be read.
  bool open(const std::vector<int>& wanted);
  void fetch(std::chrono::milliseconds timeout);
  int deliver();
  void flow_control();
  void commit_to_kafka(const std::map<int, std::int64_t>& progressed);
  void publish_stats();

  const RuntimeContext& context_;
  const Subscription& subscription_;
  const KafkaSettings& settings_;
  const KafkaConsumerOptions options_;
  kafka::Handle rk_;
  std::map<int, Assigned> assigned_;
  // Assigned by the group, not yet opened (the database did not answer).
  std::optional<std::vector<int>> to_open_;
  ErrorLog errors_;
  mutable std::mutex stats_mutex_;
  std::vector<PartitionStats> published_;
};

void GroupConsumer::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<int> wanted;
    for (int i = 0; i < partitions->cnt; ++i) {
      if (subscription_.topic == partitions->elems[i].topic) {
        wanted.push_back(partitions->elems[i].partition);
      }
    }
    assigned_.clear();
    to_open_.reset();
    if (!open(wanted)) {
      to_open_ = wanted;
      rd_kafka_assign(rk, nullptr);
    }
    return;
  }
  // Revoked (or an error): drop what was fetched; the next owner starts at the database's offsets.
  assigned_.clear();
  to_open_.reset();
  rd_kafka_assign(rk, nullptr);
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    log::warn("kafka rebalance error",
              {{"group", subscription_.group}, {"error", rd_kafka_err2str(err)}});
  } else {
    log::info("consumer partitions revoked",
              {{"group", subscription_.group}, {"topic", subscription_.topic}});
  }
}

bool GroupConsumer::open(const std::vector<int>& wanted) {
  std::map<int, std::int64_t> committed;
  std::map<int, store::DeliveryAttempts> attempts;
  try {
    context_.db.read([&](store::Transaction& s) {
      committed =
          store::ConsumerOffsetRepository{}.committed(s, subscription_.group, subscription_.topic);
      attempts = store::DeliveryAttemptRepository{}.of(s, subscription_.group, subscription_.topic);
    });
  } catch (const std::exception& e) {
    log::warn("could not read the group's offsets; the partitions open when the database answers",
              {{"group", subscription_.group}, {"error", e.what()}});
    return false;
  }
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(wanted.size())));
  std::string names;
  for (int p : wanted) {
    PartitionStart start;
    auto* element = rd_kafka_topic_partition_list_add(list.get(), subscription_.topic.c_str(), p);
    if (auto found = committed.find(p); found != committed.end()) {
      start.committed = found->second;
      element->offset = found->second;
    } else {
      element->offset = RD_KAFKA_OFFSET_BEGINNING;  // never consumed: all that Kafka still has
    }
    if (auto found = attempts.find(p); found != attempts.end()) start.attempts = found->second;
    // What an earlier process may have been handling when it stopped goes one event at a time.
    start.in_flight_end = start.committed + options_.batch_size;
    assigned_[p].consumer = std::make_unique<PartitionConsumer>(context_, subscription_, p, start);
    names += (names.empty() ? "" : ",") + std::to_string(p);
  }
  if (const auto err = rd_kafka_assign(rk_.get(), list.get())) {
    assigned_.clear();
    log::error("kafka assign failed",
               {{"group", subscription_.group}, {"error", rd_kafka_err2str(err)}});
    return false;
  }
  log::info(
      "consumer partitions assigned",
      {{"group", subscription_.group}, {"topic", subscription_.topic}, {"partitions", names}});
  return true;
}

// One message or error per call of the single-message API (batch consume is unsafe during a
// rebalance in 2.0.x): waits up to `timeout` for the first, then takes what is already there.
void GroupConsumer::fetch(std::chrono::milliseconds timeout) {
  int wait_ms = static_cast<int>(timeout.count());
  for (int n = 0; n < options_.batch_size * 4; ++n) {
    kafka::Message m(rd_kafka_consumer_poll(rk_.get(), wait_ms));
    wait_ms = 0;
    if (!m) return;
    if (errors_.failed(*m, subscription_.group, subscription_.topic)) continue;
    auto found = assigned_.find(m->partition);
    if (found == assigned_.end()) continue;  // fetched before a revoke
    auto& a = found->second;
    const std::int64_t expected =
        a.pending.empty() ? a.consumer->next_offset() : a.pending.back().offset + 1;
    if (m->offset < expected) continue;  // already consumed (fetched again after a seek)
    a.pending.push_back(to_event(*m));
  }
}

int GroupConsumer::deliver() {
  int consumed = 0;
  std::map<int, std::int64_t> progressed;
  const auto now = context_.monotonic.now();
  for (auto& [p, a] : assigned_) {
    while (!a.pending.empty() && a.consumer->ready(now)) {
      const auto count =
          std::min<std::size_t>(a.pending.size(), static_cast<std::size_t>(options_.batch_size));
      std::vector<Event> batch(a.pending.begin(), a.pending.begin() + static_cast<long>(count));
      const int n = a.consumer->deliver(batch);
      a.pending.erase(a.pending.begin(), a.pending.begin() + n);
      consumed += n;
      if (n > 0) progressed[p] = a.consumer->next_offset();
      if (static_cast<std::size_t>(n) < count) break;  // failed: wait for the retry
    }
  }
  commit_to_kafka(progressed);
  return consumed;
}

// A partition waiting for a retry stops fetching once a few batches are waiting, and starts again
// where its consumer stands once they are consumed.
void GroupConsumer::flow_control() {
  const auto high = static_cast<std::size_t>(options_.batch_size) * 4;
  for (auto& [p, a] : assigned_) {
    kafka::PartitionList list(rd_kafka_topic_partition_list_new(1));
    auto* element = rd_kafka_topic_partition_list_add(list.get(), subscription_.topic.c_str(), p);
    if (!a.paused && a.pending.size() >= high) {
      rd_kafka_pause_partitions(rk_.get(), list.get());
      a.paused = true;
    } else if (a.paused && a.pending.empty()) {
      rd_kafka_resume_partitions(rk_.get(), list.get());
      element->offset = a.consumer->next_offset();
      if (auto* error = rd_kafka_seek_partitions(rk_.get(), list.get(), 0)) {
        log::warn("kafka seek failed",
                  {{"group", subscription_.group}, {"error", rd_kafka_error_string(error)}});
        rd_kafka_error_destroy(error);
      }
      a.paused = false;
    }
  }
}

void GroupConsumer::commit_to_kafka(const std::map<int, std::int64_t>& progressed) {
  if (progressed.empty()) return;
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(progressed.size())));
  for (const auto& [p, next] : progressed) {
    rd_kafka_topic_partition_list_add(list.get(), subscription_.topic.c_str(), p)->offset = next;
  }
  rd_kafka_commit(rk_.get(), list.get(), /*async=*/1);  // informational; errors are of no effect
}

void GroupConsumer::publish_stats() {
  std::vector<PartitionStats> out;
  for (const auto& [p, a] : assigned_) {
    const auto counters = a.consumer->counters();
    const auto end = cached_end(rk_.get(), subscription_.topic, p);
    out.push_back(PartitionStats{subscription_.group, subscription_.topic, p,
                                 a.consumer->next_offset(), end, counters.handled, counters.retried,
                                 counters.dead_lettered});
  }
  std::lock_guard lock(stats_mutex_);
  published_ = std::move(out);
}

void GroupConsumer::run(const std::atomic<bool>& stopping) {
  const std::int64_t session_ms = settings_.session_timeout.count();
  auto conf = kafka::make_conf(
      settings_,
      {{"group.id", subscription_.group},
       {"enable.auto.commit", "false"},
       {"enable.auto.offset.store", "false"},
       {"auto.offset.reset", "earliest"},
       {"topic.metadata.refresh.interval.ms", "5000"},
       {"session.timeout.ms", std::to_string(session_ms)},
       {"fetch.wait.max.ms", std::to_string(settings_.fetch_wait.count())},
       {"heartbeat.interval.ms", std::to_string(std::min<std::int64_t>(3000, session_ms / 3))}});
  rd_kafka_conf_set_rebalance_cb(conf.get(), &GroupConsumer::rebalance);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rk_ = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk_.get());
  {
    kafka::PartitionList topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), subscription_.topic.c_str(),
                                      RD_KAFKA_PARTITION_UA);
    if (const auto err = rd_kafka_subscribe(rk_.get(), topics.get())) {
      throw std::runtime_error(std::string("kafka subscribe failed: ") + rd_kafka_err2str(err));
    }
  }
  log::info("consumer started", {{"group", subscription_.group}, {"topic", subscription_.topic}});
  auto next_replay_check = std::chrono::steady_clock::now();
  while (!stopping.load()) {
    try {
      if (to_open_ && open(*to_open_)) to_open_.reset();
      if (std::chrono::steady_clock::now() >= next_replay_check) {
        next_replay_check = std::chrono::steady_clock::now() + options_.poll_interval;
        replay_dead_letters(context_.db, context_.clock, subscription_);
      }
      // Short waits: a partition's retry and stop() are noticed within one.
      fetch(std::chrono::milliseconds(100));
      deliver();
      flow_control();
      publish_stats();
    } catch (const std::exception& e) {
      log::error("consumer round failed; trying again",
                 {{"group", subscription_.group}, {"error", e.what()}});
    }
  }
  rd_kafka_consumer_close(rk_.get());  // leaves the group (revoking through the callback)
  rk_.reset();
  log::info("consumer stopped", {{"group", subscription_.group}, {"topic", subscription_.topic}});
}

class FanoutConsumer final : public KafkaConsumer {
 public:
  FanoutConsumer(const EphemeralSubscription& subscription, int partitions,
                 const KafkaSettings& settings)
      : subscription_(subscription), partitions_(partitions), settings_(settings) {}

  void prepare() override;
  void run(const std::atomic<bool>& stopping) override;
  std::vector<PartitionStats> stats() const override {
    std::lock_guard lock(mutex_);
    return published_;
  }

 private:
  void publish_stats();

  const EphemeralSubscription& subscription_;
  const int partitions_;
  const KafkaSettings& settings_;
  kafka::Handle rk_;
  std::vector<PartitionStats> counters_;
  mutable std::mutex mutex_;
  std::vector<PartitionStats> published_;
};

// Every partition at its end as the broker reports it now, so an event relayed after start()
// returns reaches the subscription; the logical end when the broker does not answer.
void FanoutConsumer::prepare() {
  auto conf = kafka::make_conf(
      settings_, {{"group.id", "todo-fanout-" + subscription_.name},
                  {"enable.auto.commit", "false"},
                  {"enable.auto.offset.store", "false"},
                  {"fetch.wait.max.ms", std::to_string(settings_.fetch_wait.count())}});
  rk_ = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk_.get());
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(partitions_));
  counters_.assign(static_cast<std::size_t>(partitions_), PartitionStats{});
  for (int p = 0; p < partitions_; ++p) {
    std::int64_t low = 0;
    std::int64_t high = RD_KAFKA_OFFSET_END;
    if (rd_kafka_query_watermark_offsets(rk_.get(), subscription_.topic.c_str(), p, &low, &high,
                                         5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      high = RD_KAFKA_OFFSET_END;
    }
    rd_kafka_topic_partition_list_add(list.get(), subscription_.topic.c_str(), p)->offset = high;
    auto& c = counters_[static_cast<std::size_t>(p)];
    c.group = subscription_.name;
    c.topic = subscription_.topic;
    c.partition = p;
    c.committed = std::max<std::int64_t>(high, 0);
  }
  if (const auto err = rd_kafka_assign(rk_.get(), list.get())) {
    throw std::runtime_error(std::string("kafka assign failed: ") + rd_kafka_err2str(err));
  }
  publish_stats();
}

void FanoutConsumer::run(const std::atomic<bool>& stopping) {
  log::info("consumer started", {{"group", subscription_.name}, {"topic", subscription_.topic}});
  ErrorLog errors;
  while (!stopping.load()) {
    kafka::Message m(rd_kafka_consumer_poll(rk_.get(), 100));
    if (!m) {
      publish_stats();
      continue;
    }
    if (errors.failed(*m, subscription_.name, subscription_.topic)) continue;
    if (m->partition < 0 || m->partition >= partitions_) continue;
    auto& c = counters_[static_cast<std::size_t>(m->partition)];
    const Event event = to_event(*m);
    c.committed = event.offset + 1;
    try {
      subscription_.handler(event);
      ++c.handled;
    } catch (const std::exception& e) {
      ++c.skipped;
      log::warn("ephemeral handler failed; event skipped", {{"subscription", subscription_.name},
                                                            {"topic", subscription_.topic},
                                                            {"partition", event.partition},
                                                            {"offset", event.offset},
                                                            {"event_id", event.id},
                                                            {"error", e.what()}});
    }
    publish_stats();
  }
  rd_kafka_consumer_close(rk_.get());
  rk_.reset();
  log::info("consumer stopped", {{"group", subscription_.name}, {"topic", subscription_.topic}});
}

void FanoutConsumer::publish_stats() {
  auto out = counters_;
  for (auto& s : out) s.end = std::max(cached_end(rk_.get(), s.topic, s.partition), s.committed);
  std::lock_guard lock(mutex_);
  published_ = std::move(out);
}

}  // namespace

std::unique_ptr<KafkaConsumer> make_group_consumer(const RuntimeContext& context,
                                                   const Subscription& subscription,
                                                   const KafkaSettings& settings,
                                                   KafkaConsumerOptions options) {
  return std::make_unique<GroupConsumer>(context, subscription, settings, options);
}

std::unique_ptr<KafkaConsumer> make_fanout_consumer(const EphemeralSubscription& subscription,
                                                    int partitions, const KafkaSettings& settings) {
  return std::make_unique<FanoutConsumer>(subscription, partitions, settings);
}

}  // namespace todo::bus

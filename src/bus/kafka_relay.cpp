// The relay thread: read a batch of unshipped rows (a read transaction), produce them all, wait
// for their delivery reports with no transaction open, then mark each partition's acknowledged
// prefix shipped in one write. A commit wakes it; the poll interval is the safety net.
#include "bus/kafka_relay.h"

#include <atomic>
#include <optional>
#include <utility>
#include <vector>

#include "bus/kafka_client.h"
#include "bus/relay_lease.h"
#include "bus/relay_thread.h"
#include "domain/ids.h"
#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"

namespace todo::bus {
namespace {

// One produced row awaiting its report.
struct InFlight {
  const store::LoggedMessage* message = nullptr;
  bool reported = false;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

// Runs inside rd_kafka_poll() on the relay thread: no locking, never throws.
void delivery_report(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* slot = static_cast<InFlight*>(message->_private);
  if (slot == nullptr) return;
  slot->reported = true;
  slot->error = message->err;
}

}  // namespace

struct OutboxRelay::Impl {
  Impl(store::Database& d, const domain::Clock& c, domain::RandomSource& random, KafkaSettings s,
       RelayOptions o)
      : db(d),
        clock(c),
        settings(std::move(s)),
        options(std::move(o)),
        lease(d, c, domain::new_uuid_v7(c.now(), random), options.lease_ttl),
        worker(d) {}

  store::Database& db;
  const domain::Clock& clock;
  const KafkaSettings settings;
  const RelayOptions options;
  RelayLease lease;
  // The round in progress; the delivery reports point into `slots`, so both outlive the producer
  // (declared before it: destroyed after it).
  std::vector<store::LoggedMessage> batch;
  std::vector<InFlight> slots;
  kafka::Handle producer;
  RelayThread worker;  // declared after the producer: its thread is joined before that goes
  bool started = false;  // start() ran (the relays are started and stopped once)
  std::atomic<std::int64_t> shipped{0};

  bool stop_requested() const { return worker.stop_requested(); }

  void run();
  // One round; returns the rows shipped, or nullopt when a round failed (wait before the next).
  std::optional<std::int64_t> ship_once();
  bool produce(InFlight& slot);
  kafka::Handle make_producer() const {
    // Without idempotence one request in flight keeps each partition's order across retries.
    // linger.ms 1, not librdkafka's 5: a round produces its whole batch at once, so batches fill
    // without waiting, and a lone event (light load) is not held back 5 ms (make bench: commit →
    // WebSocket p50 11.7 → 7.0 ms through the mock cluster).
    auto conf = kafka::make_conf(
        settings, {{"enable.idempotence", settings.idempotence ? "true" : "false"},
                   {"max.in.flight.requests.per.connection", settings.idempotence ? "5" : "1"},
                   {"acks", "all"},
                   {"linger.ms", "1"},
                   {"message.timeout.ms", std::to_string(options.message_timeout.count())}});
    rd_kafka_conf_set_dr_msg_cb(conf.get(), delivery_report);
    return kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  }
  // An idempotent producer that hit a fatal error (the broker fenced it, a sequence gap it cannot
  // repair) refuses everything after: start a new one. Only between rounds (no report pending).
  void replace_producer_if_fatal() {
    char reason[512];
    const auto err = rd_kafka_fatal_error(producer.get(), reason, sizeof reason);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    log::error("relay: the producer failed for good; starting a new one", {{"error", reason}});
    producer.reset();
    producer = make_producer();
  }
  std::size_t outstanding() const {
    std::size_t n = 0;
    for (const auto& s : slots) n += s.reported ? 0 : 1;
    return n;
  }
};

bool OutboxRelay::Impl::produce(InFlight& slot) {
  const auto& m = *slot.message;
  const auto attributes = kafka::cloud_event_attributes(m.payload);
  const std::string id = attributes.id.empty() ? m.event_id : attributes.id;
  const auto timestamp_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(m.created_at.time_since_epoch())
          .count();
  for (;;) {
// librdkafka's RD_KAFKA_V_* macros type-check their arguments in GNU statement expressions,
// which clang's -Wpedantic (the fuzz build) reports.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
    const auto err = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
        RD_KAFKA_V_KEY(m.key.data(), m.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.payload.data()), m.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
        RD_KAFKA_V_HEADER("ce_id", id.data(), static_cast<ssize_t>(id.size())),
        RD_KAFKA_V_HEADER("ce_type", attributes.type.data(),
                          static_cast<ssize_t>(attributes.type.size())),
        RD_KAFKA_V_HEADER("ce_source", attributes.source.data(),
                          static_cast<ssize_t>(attributes.source.size())),
        RD_KAFKA_V_HEADER("ce_specversion", attributes.specversion.data(),
                          static_cast<ssize_t>(attributes.specversion.size())),
        RD_KAFKA_V_HEADER(
            "content-type", kafka::kCloudEventsContentType,
            static_cast<ssize_t>(std::char_traits<char>::length(kafka::kCloudEventsContentType))),
        RD_KAFKA_V_OPAQUE(&slot), RD_KAFKA_V_END);
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop_requested()) {
      rd_kafka_poll(producer.get(), 100);  // reports free room in the queue
      continue;
    }
    slot.reported = true;
    slot.error = err;
    return false;
  }
}

std::optional<std::int64_t> OutboxRelay::Impl::ship_once() {
  // Read with no write open, produce and wait with no transaction open at all.
  // Every report of the previous round arrived (or it was the last, cut short by stop()).
  slots.clear();
  batch = store::read_value(db, [&](store::Transaction& s) {
    return store::OutboxRepository{}.unshipped(s, options.batch_size);
  });
  if (batch.empty()) return 0;
  slots.resize(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    slots[i].message = &batch[i];
    produce(slots[i]);
  }
  while (outstanding() > 0) {
    if (stop_requested()) return std::nullopt;  // unacknowledged rows go again at the next start
    rd_kafka_poll(producer.get(), 100);
  }
  // Each partition's acknowledged prefix: a row after a failed one is sent again with it, so the
  // broker's order stays the outbox's (the duplicate is dropped by event id).
  struct Range {
    std::string topic;
    int partition;
    std::int64_t from, to;
  };
  std::vector<Range> ranges;
  bool any_failed = false;
  std::string blocked_topic;
  int blocked_partition = -1;
  for (const auto& slot : slots) {
    const auto& m = *slot.message;
    if (m.topic == blocked_topic && m.partition == blocked_partition) continue;
    if (slot.error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      any_failed = true;
      blocked_topic = m.topic;
      blocked_partition = m.partition;
      log::warn("relay: the broker did not take an event; it is sent again",
                {{"topic", m.topic},
                 {"partition", m.partition},
                 {"offset", m.offset},
                 {"error", rd_kafka_err2str(slot.error)}});
      continue;
    }
    if (!ranges.empty() && ranges.back().topic == m.topic &&
        ranges.back().partition == m.partition) {
      ranges.back().to = m.offset;
    } else {
      ranges.push_back({m.topic, m.partition, m.offset, m.offset});
    }
  }
  std::int64_t marked = 0;
  if (!ranges.empty()) {
    const auto now = clock.now();
    db.write([&](store::Transaction& s) {
      marked = 0;
      const store::OutboxRepository outbox;
      for (const auto& r : ranges)
        marked += outbox.mark_shipped(s, r.topic, r.partition, r.from, r.to, now);
    });
    shipped += marked;
  }
  if (any_failed) {
    replace_producer_if_fatal();
    return std::nullopt;
  }
  return marked;
}

void OutboxRelay::Impl::run() {
  log::info("relay started", {{"brokers", settings.brokers}});
  bool topics_ready = options.topics.empty();
  while (const auto seen = worker.next_round()) {
    if (!topics_ready) {
      topics_ready = kafka::ensure_topics(producer.get(), options.topics, settings.admin_timeout);
      if (!topics_ready) log::warn("relay: the topics are not all there; shipping anyway");
      topics_ready = true;  // tried once; an operator or the broker's auto-creation does the rest
    }
    std::optional<std::int64_t> shipped_now;
    try {
      if (!lease.hold()) {
        worker.wait(*seen, std::min(options.poll_interval, options.lease_ttl / 3));
        continue;
      }
      shipped_now = ship_once();
    } catch (const std::exception& e) {
      log::error("relay round failed; trying again after the poll interval", {{"error", e.what()}});
    }
    if (shipped_now && *shipped_now > 0) continue;  // there may be more right away
    worker.wait(*seen, options.poll_interval);
  }
  lease.release();
  log::info("relay stopped");
}

OutboxRelay::OutboxRelay(store::Database& db, const domain::Clock& clock,
                         domain::RandomSource& random, KafkaSettings settings, RelayOptions options)
    : impl_(std::make_unique<Impl>(db, clock, random, std::move(settings), std::move(options))) {}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::start() {
  auto& i = *impl_;
  if (i.started) return;
  i.started = true;
  i.producer = i.make_producer();
  i.worker.start([&i] { i.run(); });
}

void OutboxRelay::stop() {
  auto& i = *impl_;
  if (!i.worker.stop()) return;
  if (i.producer) {
    // Nothing waits for the broker on the way out: what is queued is dropped and stays unshipped.
    // The purged messages' reports are served here, while the slots they point to exist.
    rd_kafka_purge(i.producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int round = 0; round < 50 && i.outstanding() > 0; ++round) {
      rd_kafka_poll(i.producer.get(), 100);
    }
    i.producer.reset();
  }
}

bool OutboxRelay::running() const { return impl_->worker.running(); }

std::int64_t OutboxRelay::shipped() const { return impl_->shipped.load(); }

}  // namespace todo::bus

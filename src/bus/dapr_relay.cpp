// The relay thread: read a batch of unshipped rows (a read transaction), POST them one by one with
// no transaction open, then mark each partition's acknowledged prefix shipped in one write. A row
// after a refused one in its partition is not sent this round, so the sidecar sees each partition
// in the outbox's order.
#include "bus/dapr_relay.h"

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "bus/relay_lease.h"
#include "bus/relay_thread.h"
#include "domain/ids.h"
#include "log/log.h"
#include "store/outbox.h"

namespace todo::bus {

struct DaprRelay::Impl {
  Impl(store::Database& d, const domain::Clock& c, domain::RandomSource& random, DaprSettings s,
       DaprPublisher p, DaprRelayOptions o)
      : db(d),
        clock(c),
        settings(std::move(s)),
        publisher(std::move(p)),
        options(o),
        lease(d, c, domain::new_uuid_v7(c.now(), random), o.lease_ttl),
        worker(d) {}

  store::Database& db;
  const domain::Clock& clock;
  const DaprSettings settings;
  const DaprPublisher publisher;
  const DaprRelayOptions options;
  RelayLease lease;
  RelayThread worker;
  std::atomic<std::int64_t> shipped{0};

  struct Round {
    std::int64_t marked = 0;
    bool failed = false;
  };

  DaprPublishRequest request_of(const store::LoggedMessage& m) const {
    DaprPublishRequest r;
    r.url = dapr_publish_url(settings, m.topic, m.key);
    r.headers.emplace_back("Content-Type", "application/cloudevents+json");
    if (!settings.api_token.empty()) r.headers.emplace_back("dapr-api-token", settings.api_token);
    r.body = dapr_publish_body(m.payload, m.partition, m.offset, m.key);
    r.timeout = settings.publish_timeout;
    return r;
  }

  Round ship_once();
  void run();
};

DaprRelay::Impl::Round DaprRelay::Impl::ship_once() {
  const auto batch = store::read_value(db, [&](store::Transaction& s) {
    return store::OutboxRepository{}.unshipped(s, options.batch_size);
  });
  struct Range {
    std::string topic;
    int partition;
    std::int64_t from, to;
  };
  std::vector<Range> ranges;
  Round round;
  const store::LoggedMessage* blocked = nullptr;  // the refused row: its partition waits
  for (const auto& m : batch) {
    if (blocked && m.topic == blocked->topic && m.partition == blocked->partition) continue;
    if (worker.stop_requested()) break;
    const auto result = publisher(request_of(m));
    if (!result.delivered()) {
      if (!round.failed) {  // one line per round, not one per row
        log::warn("relay: the Dapr sidecar did not take an event; it is sent again",
                  {{"topic", m.topic},
                   {"partition", m.partition},
                   {"offset", m.offset},
                   {"status", static_cast<std::int64_t>(result.status)},
                   {"error", result.error}});
      }
      round.failed = true;
      // No answer at all (refused, timed out): the sidecar is away, and every other row would wait
      // out the same timeout. An answer (403, 500...) concerns this row: its partition waits.
      if (result.status == 0) break;
      blocked = &m;
      continue;
    }
    if (!ranges.empty() && ranges.back().topic == m.topic &&
        ranges.back().partition == m.partition) {
      ranges.back().to = m.offset;
    } else {
      ranges.push_back({m.topic, m.partition, m.offset, m.offset});
    }
  }
  if (!ranges.empty()) {
    const auto now = clock.now();
    db.write([&](store::Transaction& s) {
      round.marked = 0;
      const store::OutboxRepository outbox;
      for (const auto& r : ranges)
        round.marked += outbox.mark_shipped(s, r.topic, r.partition, r.from, r.to, now);
    });
    shipped += round.marked;
  }
  return round;
}

void DaprRelay::Impl::run() {
  log::info("relay started", {{"sidecar", settings.host + ":" + std::to_string(settings.http_port)},
                              {"pubsub", settings.pubsub}});
  std::chrono::milliseconds backoff{0};
  while (const auto seen = worker.next_round()) {
    bool failed_round = false;
    std::int64_t marked = 0;
    try {
      if (!lease.hold()) {
        worker.wait(*seen, std::min(options.poll_interval, options.lease_ttl / 3));
        continue;
      }
      const auto round = ship_once();
      failed_round = round.failed;
      marked = round.marked;
    } catch (const std::exception& e) {
      log::error("relay round failed; trying again after a wait", {{"error", e.what()}});
      failed_round = true;
    }
    if (failed_round) {
      backoff =
          backoff.count() == 0 ? options.first_backoff : std::min(backoff * 2, options.max_backoff);
      worker.wait(*seen, backoff, /*commits_wake=*/false);
      continue;
    }
    backoff = std::chrono::milliseconds{0};
    if (marked > 0) continue;  // there may be more right away
    worker.wait(*seen, options.poll_interval);
  }
  lease.release();
  log::info("relay stopped");
}

DaprRelay::DaprRelay(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
                     DaprSettings settings, DaprPublisher publisher, DaprRelayOptions options)
    : impl_(std::make_unique<Impl>(db, clock, random, std::move(settings), std::move(publisher),
                                   options)) {}

DaprRelay::~DaprRelay() { stop(); }

void DaprRelay::start() {
  impl_->worker.start([i = impl_.get()] { i->run(); });
}

void DaprRelay::stop() { impl_->worker.stop(); }

bool DaprRelay::running() const { return impl_->worker.running(); }

std::int64_t DaprRelay::shipped() const { return impl_->shipped.load(); }

}  // namespace todo::bus

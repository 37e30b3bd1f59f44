// The event bus as services see it. Publishing happens only through the outbox, inside the
// writer's transaction (store/outbox.h); consumers register here: durable groups (topic, group,
// handler in the consumer's transaction) and ephemeral fan-out subscribers. The
// shape is Kafka's — topics, partitions, keys, groups, committed offsets — so a Kafka bus can
// replace the log bus without any service changing.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/retry.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

// One message of a topic as a consumer receives it.
struct Event {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string id;                    // the CloudEvent id: the dedupe key
  std::string payload;               // the structured-mode CloudEvent JSON
  domain::Timestamp published_at{};  // when the producing transaction appended it
};

// Handles one event of a durable subscription. Database writes go through `tx`: they commit in
// one transaction with the group's dedupe row and its offset, so their effect happens exactly
// once. Throwing means failure: nothing of `tx` is kept, and the event is retried on the bus's
// schedule (RetryPolicy: 1 s, 5 s, 25 s by default) and then dead-lettered; PermanentFailure
// dead-letters it at once. Effects outside the database (a WebSocket push) happen at least once.
using EventHandler = std::function<void(const Event& event, store::Transaction& tx)>;

// The two phases of a handler that computes before it writes (set both instead of `handler`):
// `prepare` runs on the consumer thread before the write transaction, outside the database writer
// (it may read a snapshot with Database::read), and what it returns reaches `apply`, which runs in
// the consumer's transaction exactly like an EventHandler. What the snapshot showed may have
// changed by then: `apply` re-checks what it relies on. `prepare` runs again on every retry (and
// also for an event the group already processed, whose `apply` is then skipped); its exceptions
// count as failed attempts like the handler's, PermanentFailure included.
using PrepareStep = std::function<std::any(const Event& event)>;
using PreparedHandler =
    std::function<void(const Event& event, std::any& prepared, store::Transaction& tx)>;

// A durable subscription: the group's offsets and dedupe rows live in the database, it resumes
// where it stopped, sees every event once with exactly-once effects, and holds the log's
// retention back until it has consumed an event.
struct Subscription {
  std::string topic;
  std::string group;     // consumer group: each group sees every event once; groups are independent
  EventHandler handler;  // or, for a two-phase handler, prepare and apply
  PrepareStep prepare = {};
  PreparedHandler apply = {};
};

// Handles one event of an ephemeral subscription, on the bus's thread, outside any transaction.
// Throwing a std::exception is logged and counted and the event is skipped: there is no retry.
using EphemeralHandler = std::function<void(const Event& event)>;

// An ephemeral fan-out subscription (live sync: one per replica): it starts at the end of the log
// as it is at start(), keeps no offsets and no dedupe rows, never runs on the database writer
// (it reads the log in read transactions) and does not hold back retention — events it has not
// read yet may be purged, which it reports as a gap and skips. Delivery is at most once: what is
// published while the process is down is not seen.
struct EphemeralSubscription {
  std::string topic;
  std::string name;  // for logs and metrics (the "group" label), e.g. "sync-<instance id>"
  EphemeralHandler handler;
};

// Counters of one (group, topic, partition) since start, for /metrics.
struct PartitionStats {
  std::string group;
  std::string topic;
  int partition = 0;
  std::int64_t committed = 0;  // the next offset the group reads
  std::int64_t end = 0;        // the offset the next published event gets
  std::int64_t handled = 0;    // events handled successfully (skipped duplicates included)
  std::int64_t retried = 0;    // failed attempts followed by a retry
  std::int64_t dead_lettered = 0;
  std::int64_t skipped = 0;  // ephemeral subscriptions: events whose handler threw
  std::int64_t lag() const { return end > committed ? end - committed : 0; }
};

class Bus {
 public:
  virtual ~Bus() = default;
  // Registers a consumer; only before start().
  virtual void subscribe(Subscription subscription) = 0;
  virtual void subscribe_ephemeral(EphemeralSubscription subscription) = 0;
  // Starts delivering in background threads.
  virtual void start() = 0;
  // Finishes the handler in progress, commits, and stops. Idempotent.
  virtual void stop() = 0;
  virtual std::vector<PartitionStats> stats() const = 0;
  // True between start() and stop() while every consumer thread is alive (for /ready): false
  // once one has stopped on an error it could not handle.
  virtual bool running() const = 0;
};

// The dead-letter topic of a topic.
inline std::string dead_letter_topic(std::string_view topic) { return std::string(topic) + ".dlq"; }

}  // namespace todo::bus

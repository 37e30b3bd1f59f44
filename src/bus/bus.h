// The event bus as services see it. Publishing happens only through the outbox, inside the
// writer's transaction (store/outbox.h); consumers register (topic, group, handler) here. The
// shape is Kafka's — topics, partitions, keys, groups, committed offsets — so a Kafka bus can
// replace the log bus without any service changing.
#pragma once

#include "domain/clock.h"
#include "store/database.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace todo::bus {

// One message of a topic as a consumer receives it.
struct Event {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string id;       // the CloudEvent id: the dedupe key
  std::string payload;  // the structured-mode CloudEvent JSON
  domain::Timestamp published_at{};  // when the producing transaction appended it
};

// Handles one event. Database writes go through `tx`: they commit in one transaction with the
// group's dedupe row and its offset, so their effect happens exactly once. Throwing means failure:
// nothing of `tx` is kept, and the event is retried (1 s, 5 s, 25 s) and then dead-lettered.
// Effects outside the database (a WebSocket push) happen at least once.
using EventHandler = std::function<void(const Event& event, store::Transaction& tx)>;

struct Subscription {
  std::string topic;
  std::string group;  // consumer group: each group sees every event once; groups are independent
  EventHandler handler;
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
  std::int64_t lag() const { return end > committed ? end - committed : 0; }
};

class Bus {
 public:
  virtual ~Bus() = default;
  // Registers a consumer; only before start().
  virtual void subscribe(Subscription subscription) = 0;
  // Starts delivering in background threads.
  virtual void start() = 0;
  // Finishes the handler in progress, commits, and stops. Idempotent.
  virtual void stop() = 0;
  virtual std::vector<PartitionStats> stats() const = 0;
  // True between start() and stop(): consumers are delivering (for /ready).
  virtual bool running() const = 0;
};

// The retry schedule: after the 1st, 2nd and 3rd failure wait this long; after the 4th, dead-letter.
inline constexpr std::chrono::seconds kRetryBackoff[] = {std::chrono::seconds(1),
                                                         std::chrono::seconds(5),
                                                         std::chrono::seconds(25)};

// The dead-letter topic of a topic.
inline std::string dead_letter_topic(std::string_view topic) { return std::string(topic) + ".dlq"; }

}  // namespace todo::bus

// The outbox, which is also the embedded event log: messages appended in the writer's transaction,
// with gapless offsets per (topic, partition) in commit order.
#pragma once

#include "domain/clock.h"
#include "store/database.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace todo::store {

struct OutboxMessage {
  std::string topic;
  int partition = 0;
  std::string key;
  std::string event_id;
  std::string payload;  // the CloudEvent JSON
};

struct LoggedMessage {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string event_id;
  std::string payload;
  domain::Timestamp created_at{};
  std::optional<domain::Timestamp> shipped_at;
};

class OutboxRepository {
 public:
  // Appends in the caller's transaction and returns the offset given: the partition's next one.
  std::int64_t append(Transaction& s, const OutboxMessage& message, domain::Timestamp now) const;
  // The same append when the caller does not need the offset: on PostgreSQL it is an unread
  // statement (Transaction::execute_unread), sent with the write's next one, so a failure (a
  // duplicate event id) fails the write instead of being thrown here.
  void append_unread(Transaction& s, const OutboxMessage& message, domain::Timestamp now) const;
  // Messages of one partition with offset >= from, ascending, at most limit.
  std::vector<LoggedMessage> read(Transaction& s, std::string_view topic, int partition,
                                  std::int64_t from, int limit) const;
  // The offset the next append to this partition will get (0 for an empty partition).
  std::int64_t next_offset(Transaction& s, std::string_view topic, int partition) const;
  // partition -> the offset its next append gets, for every partition of the topic that has had one.
  std::map<int, std::int64_t> heads(Transaction& s, std::string_view topic) const;
  // Every (topic, partition) that has had an append.
  std::vector<std::pair<std::string, int>> partitions(Transaction& s) const;
  // The relays (bus/kafka_relay, bus/dapr_relay): the oldest messages not yet shipped to the
  // broker, at most `limit_per_partition` of each partition, ordered by (topic, partition,
  // offset). A per-partition limit, so a partition the broker keeps refusing with a long backlog
  // never holds back the partitions sorted after it.
  std::vector<LoggedMessage> unshipped(Transaction& s, int limit_per_partition) const;
  // Marks the partition's messages with offsets in [from, to] shipped at `now` (those not already
  // shipped). Returns how many rows changed.
  std::int64_t mark_shipped(Transaction& s, std::string_view topic, int partition, std::int64_t from,
                            std::int64_t to, domain::Timestamp now) const;
  // Retention when a broker is the log: deletes shipped messages created before `before`.
  std::int64_t purge_shipped(Transaction& s, domain::Timestamp before) const;
  // Retention: deletes the partition's messages below `below_offset` created before `before`.
  // Offsets are never reused (log_heads keeps counting). Returns how many rows went.
  std::int64_t purge(Transaction& s, std::string_view topic, int partition, std::int64_t below_offset,
                     domain::Timestamp before) const;
};

}  // namespace todo::store

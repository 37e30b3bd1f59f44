// What consumers keep in the database: each group's committed offsets, the dedupe rows written in
// a consumer's own transaction, the attempts on an event not yet finished, dead letters, and the
// leases through which several processes share a group's partitions. Used by the bus runtime and
// the operator CLI.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "store/database.h"

namespace todo::store {

// The committed offset was not where a consumer expected it (ConsumerOffsetRepository::advance).
class OffsetMoved : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

class ConsumerOffsetRepository {
 public:
  // partition -> the next offset the group reads; partitions never committed are absent.
  std::map<int, std::int64_t> committed(Transaction& s, std::string_view group,
                                        std::string_view topic) const;
  // Moves the partition's offset forward to `next_offset`; never back (a process that lost the
  // partition and finishes a batch late cannot undo the progress of the one that took it over).
  void commit(Transaction& s, std::string_view group, std::string_view topic, int partition,
              std::int64_t next_offset, domain::Timestamp now) const;
  // Moves the partition's offset from `from` (0 when the group never committed on it) to
  // `next_offset`, or throws OffsetMoved, writing nothing, when it is not at `from`: someone else
  // consumed the partition meanwhile, and the caller's transaction must not keep its effects.
  void advance(Transaction& s, std::string_view group, std::string_view topic, int partition,
               std::int64_t from, std::int64_t next_offset, domain::Timestamp now) const;
  // The smallest committed offset on this partition over every group with offsets on the topic
  // (a group without one on this partition counts as 0); nullopt when no group reads the topic.
  std::optional<std::int64_t> slowest(Transaction& s, std::string_view topic, int partition) const;
};

class ProcessedEventRepository {
 public:
  // Records that `consumer` processed the event, in one statement: false (and nothing written)
  // when it already had. Rolled back with the handler's writes when the handler fails.
  bool record(Transaction& s, std::string_view consumer, std::string_view event_id,
              domain::Timestamp now) const;
  // Deletes dedupe rows older than `before`; returns how many.
  std::int64_t purge(Transaction& s, domain::Timestamp before) const;
};

// Attempts a group started on one event without finishing it (it failed, or the process died
// while handling it): what makes the attempt count survive a restart.
struct DeliveryAttempts {
  std::int64_t offset = 0;
  int attempts = 0;
};

class DeliveryAttemptRepository {
 public:
  // partition -> the attempts recorded on that partition of the topic for the group.
  std::map<int, DeliveryAttempts> of(Transaction& s, std::string_view group,
                                     std::string_view topic) const;
  // Replaces the partition's record.
  void record(Transaction& s, std::string_view group, std::string_view topic, int partition,
              DeliveryAttempts attempts, domain::Timestamp now) const;
  void clear(Transaction& s, std::string_view group, std::string_view topic, int partition) const;
};

// The lease of one partition of a (group, topic): which member consumes it, until when.
struct PartitionLease {
  int partition = 0;
  std::string holder;
  domain::Timestamp expires_at{};
};

// Several processes on one database share a group's partitions (ADR 0020): a member (one per
// process and group) says it is alive until a time, and holds leases on partitions until a time;
// both are renewed before they expire. Times are wall-clock microseconds of the members.
class PartitionLeaseRepository {
 public:
  // `member` is alive until `until`; members that expired before `now` are forgotten.
  void heartbeat(Transaction& s, std::string_view group, std::string_view topic,
                 std::string_view member, domain::Timestamp now, domain::Timestamp until) const;
  // How many members of the group are alive at `now`.
  int live_members(Transaction& s, std::string_view group, std::string_view topic,
                   domain::Timestamp now) const;
  // Every lease of the group, expired ones included, by partition.
  std::vector<PartitionLease> leases(Transaction& s, std::string_view group,
                                     std::string_view topic) const;
  // Takes or renews the lease on `partition` until `until`, when it is free, expired at `now`, or
  // already `member`'s. True when `member` holds it afterwards.
  bool acquire(Transaction& s, std::string_view group, std::string_view topic, int partition,
               std::string_view member, domain::Timestamp now, domain::Timestamp until) const;
  // Gives the partition up, if `member` holds it.
  void release(Transaction& s, std::string_view group, std::string_view topic, int partition,
               std::string_view member) const;
  // Gives every partition of the group up and leaves it (a clean stop): the others take over at
  // their next round instead of after the leases expire.
  void leave(Transaction& s, std::string_view group, std::string_view topic,
             std::string_view member) const;
};

enum class DeadLetterStatus { kDead, kReplayRequested, kReplayed };
std::string_view to_string(DeadLetterStatus status);  // "dead", "replay-requested", "replayed"

struct DeadLetter {
  std::string id;  // UUIDv7; also the event_id of the <topic>.dlq message
  std::string group;
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string event_id;
  std::string payload;  // the original CloudEvent JSON
  std::string error;
  int attempts = 0;
  domain::Timestamp failed_at{};
  DeadLetterStatus status = DeadLetterStatus::kDead;
  std::optional<domain::Timestamp> replay_requested_at;
  std::optional<domain::Timestamp> replayed_at;
};

class DeadLetterRepository {
 public:
  void insert(Transaction& s, const DeadLetter& letter) const;
  // Every dead letter, oldest first; with `group`, only that group's.
  std::vector<DeadLetter> list(Transaction& s, std::optional<std::string_view> group = {}) const;
  std::optional<DeadLetter> find(Transaction& s, std::string_view id) const;
  // The group's dead letter of an event, if it has one (a pushed event delivered again after it
  // was dead-lettered: the Dapr bus). Not indexed: dead letters are few.
  std::optional<DeadLetter> find_event(Transaction& s, std::string_view group,
                                       std::string_view event_id) const;
  // Marks dead letters for replay: one by id, or (id empty) every one still dead. Returns how many.
  // Announced as a change of the log (Transaction::announce_log_change), so every consumer is
  // woken at commit.
  std::int64_t request_replay(Transaction& s, std::string_view id, domain::Timestamp now) const;
  // The group's dead letters waiting for replay, oldest first.
  std::vector<DeadLetter> replays_requested(Transaction& s, std::string_view group) const;
  // Before a replay runs the handler: back to dead with `error`, so a replay that kills the
  // process is not requested again at the next start. False when it is no longer requested.
  bool claim_replay(Transaction& s, std::string_view id, std::string_view error,
                    domain::Timestamp now) const;
  void mark_replayed(Transaction& s, std::string_view id, domain::Timestamp now) const;
  // A replay failed again: back to dead, with the new error and one more attempt.
  void mark_failed_again(Transaction& s, std::string_view id, std::string_view error,
                         domain::Timestamp now) const;
};

}  // namespace todo::store

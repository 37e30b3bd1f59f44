// SQL of the consumer side of the log (consumer_offsets, processed_events, delivery_attempts,
// dead_letters).
#include "store/consumer_repository.h"

#include "store/sql_values.h"

namespace todo::store {
namespace {

using sql::micros;
using sql::text;

constexpr std::string_view kCommitted =
    "SELECT \"partition\", \"offset\" FROM consumer_offsets WHERE \"group\" = $1 AND topic = $2";
constexpr std::string_view kCommit =
    "INSERT INTO consumer_offsets (\"group\", topic, \"partition\", \"offset\", updated_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (\"group\", topic, \"partition\") "
    "DO UPDATE SET \"offset\" = excluded.\"offset\", updated_at = excluded.updated_at "
    "WHERE consumer_offsets.\"offset\" < excluded.\"offset\"";
constexpr std::string_view kAdvance =
    "UPDATE consumer_offsets SET \"offset\" = $5, updated_at = $6 "
    "WHERE \"group\" = $1 AND topic = $2 AND \"partition\" = $3 AND \"offset\" = $4";
constexpr std::string_view kFirstCommit =
    "INSERT INTO consumer_offsets (\"group\", topic, \"partition\", \"offset\", updated_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (\"group\", topic, \"partition\") DO NOTHING";
// A group that has offsets on some partitions of the topic but not on this one has read nothing
// of it yet: it counts as offset 0.
constexpr std::string_view kSlowest =
    "SELECT MIN(COALESCE(o.\"offset\", 0)) FROM "
    "(SELECT DISTINCT \"group\" FROM consumer_offsets WHERE topic = $1) AS g "
    "LEFT JOIN consumer_offsets AS o "
    "ON o.\"group\" = g.\"group\" AND o.topic = $1 AND o.\"partition\" = $2";

constexpr std::string_view kHeartbeat =
    "INSERT INTO consumer_members (\"group\", topic, member, expires_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (\"group\", topic, member) DO UPDATE SET expires_at = excluded.expires_at";
constexpr std::string_view kForgetMembers =
    "DELETE FROM consumer_members WHERE \"group\" = $1 AND topic = $2 AND expires_at <= $3";
constexpr std::string_view kLiveMembers =
    "SELECT COUNT(*) FROM consumer_members WHERE \"group\" = $1 AND topic = $2 AND expires_at > $3";
constexpr std::string_view kLeases =
    "SELECT \"partition\", holder, expires_at FROM partition_leases "
    "WHERE \"group\" = $1 AND topic = $2 ORDER BY \"partition\"";
constexpr std::string_view kAcquire =
    "INSERT INTO partition_leases (\"group\", topic, \"partition\", holder, expires_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (\"group\", topic, \"partition\") "
    "DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE partition_leases.holder = excluded.holder OR partition_leases.expires_at <= $6";
constexpr std::string_view kRelease =
    "DELETE FROM partition_leases "
    "WHERE \"group\" = $1 AND topic = $2 AND \"partition\" = $3 AND holder = $4";
constexpr std::string_view kReleaseAll =
    "DELETE FROM partition_leases WHERE \"group\" = $1 AND topic = $2 AND holder = $3";
constexpr std::string_view kLeave =
    "DELETE FROM consumer_members WHERE \"group\" = $1 AND topic = $2 AND member = $3";

constexpr std::string_view kAttempts =
    "SELECT \"partition\", \"offset\", attempts FROM delivery_attempts "
    "WHERE \"group\" = $1 AND topic = $2";
constexpr std::string_view kRecordAttempts =
    "INSERT INTO delivery_attempts (\"group\", topic, \"partition\", \"offset\", attempts, "
    "updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (\"group\", topic, \"partition\") "
    "DO UPDATE SET \"offset\" = excluded.\"offset\", attempts = excluded.attempts, "
    "updated_at = excluded.updated_at";
constexpr std::string_view kClearAttempts =
    "DELETE FROM delivery_attempts WHERE \"group\" = $1 AND topic = $2 AND \"partition\" = $3";

constexpr std::string_view kRecordProcessed =
    "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (consumer, event_id) DO NOTHING";
constexpr std::string_view kPurgeProcessed = "DELETE FROM processed_events WHERE processed_at < $1";

constexpr std::string_view kDeadLetterColumns =
    "id, \"group\", topic, \"partition\", \"offset\", key, event_id, payload, error, attempts, "
    "failed_at, status, replay_requested_at, replayed_at";
constexpr std::string_view kInsertDeadLetter =
    "INSERT INTO dead_letters (id, \"group\", topic, \"partition\", \"offset\", key, event_id, "
    "payload, error, attempts, failed_at, status, replay_requested_at, replayed_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL)";
constexpr std::string_view kRequestOne =
    "UPDATE dead_letters SET status = 'replay-requested', replay_requested_at = $2 "
    "WHERE id = $1 AND status = 'dead'";
constexpr std::string_view kRequestAll =
    "UPDATE dead_letters SET status = 'replay-requested', replay_requested_at = $1 "
    "WHERE status = 'dead'";
constexpr std::string_view kMarkReplayed =
    "UPDATE dead_letters SET status = 'replayed', replayed_at = $2 WHERE id = $1";
constexpr std::string_view kClaimReplay =
    "UPDATE dead_letters SET status = 'dead', error = $2, failed_at = $3 "
    "WHERE id = $1 AND status = 'replay-requested'";
constexpr std::string_view kMarkFailedAgain =
    "UPDATE dead_letters SET status = 'dead', error = $2, failed_at = $3, attempts = attempts + 1 "
    "WHERE id = $1";

DeadLetterStatus status_from(const std::string& s) {
  if (s == "dead") return DeadLetterStatus::kDead;
  if (s == "replay-requested") return DeadLetterStatus::kReplayRequested;
  if (s == "replayed") return DeadLetterStatus::kReplayed;
  throw DatabaseError("dead_letters: unknown status '" + s + "'");
}

DeadLetter dead_letter_from(const Row& row) {
  DeadLetter d;
  d.id = row.text(0);
  d.group = row.text(1);
  d.topic = row.text(2);
  d.partition = static_cast<int>(row.integer(3));
  d.offset = row.integer(4);
  d.key = row.text(5);
  d.event_id = row.text(6);
  d.payload = row.text(7);
  d.error = row.text(8);
  d.attempts = static_cast<int>(row.integer(9));
  d.failed_at = domain::from_micros(row.integer(10));
  d.status = status_from(row.text(11));
  d.replay_requested_at = sql::optional_time(row, 12);
  d.replayed_at = sql::optional_time(row, 13);
  return d;
}

std::vector<DeadLetter> dead_letters_from(const std::vector<Row>& rows) {
  std::vector<DeadLetter> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(dead_letter_from(row));
  return out;
}

std::string select_dead_letters(std::string_view where) {
  return "SELECT " + std::string(kDeadLetterColumns) + " FROM dead_letters " + std::string(where) +
         " ORDER BY failed_at, id";
}

}  // namespace

std::map<int, std::int64_t> ConsumerOffsetRepository::committed(Transaction& s,
                                                                std::string_view group,
                                                                std::string_view topic) const {
  std::map<int, std::int64_t> out;
  for (const auto& row : s.query(kCommitted, {text(group), text(topic)})) {
    out[static_cast<int>(row.integer(0))] = row.integer(1);
  }
  return out;
}

void ConsumerOffsetRepository::commit(Transaction& s, std::string_view group,
                                      std::string_view topic, int partition,
                                      std::int64_t next_offset, domain::Timestamp now) const {
  s.execute(kCommit, {text(group), text(topic), std::int64_t{partition}, next_offset, micros(now)});
}

void ConsumerOffsetRepository::advance(Transaction& s, std::string_view group,
                                       std::string_view topic, int partition, std::int64_t from,
                                       std::int64_t next_offset, domain::Timestamp now) const {
  const std::int64_t p = partition;
  if (s.execute(kAdvance, {text(group), text(topic), p, from, next_offset, micros(now)}) == 1) {
    return;
  }
  if (from == 0 &&
      s.execute(kFirstCommit, {text(group), text(topic), p, next_offset, micros(now)}) == 1) {
    return;
  }
  throw OffsetMoved("the offset of " + std::string(group) + " on " + std::string(topic) + "/" +
                    std::to_string(partition) + " is no longer " + std::to_string(from));
}

std::map<int, DeliveryAttempts> DeliveryAttemptRepository::of(Transaction& s,
                                                              std::string_view group,
                                                              std::string_view topic) const {
  std::map<int, DeliveryAttempts> out;
  for (const auto& row : s.query(kAttempts, {text(group), text(topic)})) {
    out[static_cast<int>(row.integer(0))] =
        DeliveryAttempts{row.integer(1), static_cast<int>(row.integer(2))};
  }
  return out;
}

void DeliveryAttemptRepository::record(Transaction& s, std::string_view group,
                                       std::string_view topic, int partition,
                                       DeliveryAttempts attempts, domain::Timestamp now) const {
  s.execute(kRecordAttempts, {text(group), text(topic), std::int64_t{partition}, attempts.offset,
                              std::int64_t{attempts.attempts}, micros(now)});
}

void DeliveryAttemptRepository::clear(Transaction& s, std::string_view group,
                                      std::string_view topic, int partition) const {
  s.execute(kClearAttempts, {text(group), text(topic), std::int64_t{partition}});
}

std::optional<std::int64_t> ConsumerOffsetRepository::slowest(Transaction& s,
                                                              std::string_view topic,
                                                              int partition) const {
  auto row = s.query_one(kSlowest, {text(topic), std::int64_t{partition}});
  if (!row) return std::nullopt;
  return row.value().optional_integer(0);
}

bool ProcessedEventRepository::record(Transaction& s, std::string_view consumer,
                                      std::string_view event_id, domain::Timestamp now) const {
  return s.execute(kRecordProcessed, {text(consumer), text(event_id), micros(now)}) == 1;
}

std::int64_t ProcessedEventRepository::purge(Transaction& s, domain::Timestamp before) const {
  return s.execute(kPurgeProcessed, {micros(before)});
}

void PartitionLeaseRepository::heartbeat(Transaction& s, std::string_view group,
                                         std::string_view topic, std::string_view member,
                                         domain::Timestamp now, domain::Timestamp until) const {
  s.execute(kForgetMembers, {text(group), text(topic), micros(now)});
  s.execute(kHeartbeat, {text(group), text(topic), text(member), micros(until)});
}

int PartitionLeaseRepository::live_members(Transaction& s, std::string_view group,
                                           std::string_view topic, domain::Timestamp now) const {
  auto row = s.query_one(kLiveMembers, {text(group), text(topic), micros(now)});
  return row ? static_cast<int>(row->integer(0)) : 0;
}

std::vector<PartitionLease> PartitionLeaseRepository::leases(Transaction& s, std::string_view group,
                                                             std::string_view topic) const {
  std::vector<PartitionLease> out;
  for (const auto& row : s.query(kLeases, {text(group), text(topic)})) {
    out.push_back(PartitionLease{static_cast<int>(row.integer(0)), row.text(1),
                                 domain::from_micros(row.integer(2))});
  }
  return out;
}

bool PartitionLeaseRepository::acquire(Transaction& s, std::string_view group,
                                       std::string_view topic, int partition,
                                       std::string_view member, domain::Timestamp now,
                                       domain::Timestamp until) const {
  return s.execute(kAcquire, {text(group), text(topic), std::int64_t{partition}, text(member),
                              micros(until), micros(now)}) == 1;
}

void PartitionLeaseRepository::release(Transaction& s, std::string_view group,
                                       std::string_view topic, int partition,
                                       std::string_view member) const {
  s.execute(kRelease, {text(group), text(topic), std::int64_t{partition}, text(member)});
}

void PartitionLeaseRepository::leave(Transaction& s, std::string_view group, std::string_view topic,
                                     std::string_view member) const {
  s.execute(kReleaseAll, {text(group), text(topic), text(member)});
  s.execute(kLeave, {text(group), text(topic), text(member)});
}

std::string_view to_string(DeadLetterStatus status) {
  switch (status) {
    case DeadLetterStatus::kDead:
      return "dead";
    case DeadLetterStatus::kReplayRequested:
      return "replay-requested";
    case DeadLetterStatus::kReplayed:
      return "replayed";
  }
  return "dead";
}

void DeadLetterRepository::insert(Transaction& s, const DeadLetter& d) const {
  s.execute(kInsertDeadLetter, {d.id, d.group, d.topic, std::int64_t{d.partition}, d.offset, d.key,
                                d.event_id, d.payload, d.error, std::int64_t{d.attempts},
                                micros(d.failed_at), text(to_string(d.status))});
}

std::vector<DeadLetter> DeadLetterRepository::list(Transaction& s,
                                                   std::optional<std::string_view> group) const {
  if (group)
    return dead_letters_from(s.query(select_dead_letters("WHERE \"group\" = $1"), {text(*group)}));
  return dead_letters_from(s.query(select_dead_letters("")));
}

std::optional<DeadLetter> DeadLetterRepository::find(Transaction& s, std::string_view id) const {
  auto row = s.query_one(select_dead_letters("WHERE id = $1"), {text(id)});
  if (!row) return std::nullopt;
  return dead_letter_from(*row);
}

std::optional<DeadLetter> DeadLetterRepository::find_event(Transaction& s, std::string_view group,
                                                          std::string_view event_id) const {
  auto row = s.query_one(select_dead_letters("WHERE \"group\" = $1 AND event_id = $2"),
                         {text(group), text(event_id)});
  if (!row) return std::nullopt;
  return dead_letter_from(*row);
}

std::int64_t DeadLetterRepository::request_replay(Transaction& s, std::string_view id,
                                                  domain::Timestamp now) const {
  const std::int64_t marked = id.empty() ? s.execute(kRequestAll, {micros(now)})
                                         : s.execute(kRequestOne, {text(id), micros(now)});
  // Consumers are woken at commit (every consumer: a replay is not an append to a partition; in
  // every process on PostgreSQL), as by an append: they look for replay requests when woken, not
  // only at their next poll.
  if (marked > 0) s.announce_log_change();
  return marked;
}

std::vector<DeadLetter> DeadLetterRepository::replays_requested(Transaction& s,
                                                                std::string_view group) const {
  return dead_letters_from(s.query(
      select_dead_letters("WHERE \"group\" = $1 AND status = 'replay-requested'"), {text(group)}));
}

void DeadLetterRepository::mark_replayed(Transaction& s, std::string_view id,
                                         domain::Timestamp now) const {
  s.execute(kMarkReplayed, {text(id), micros(now)});
}

bool DeadLetterRepository::claim_replay(Transaction& s, std::string_view id, std::string_view error,
                                        domain::Timestamp now) const {
  return s.execute(kClaimReplay, {text(id), text(error), micros(now)}) == 1;
}

void DeadLetterRepository::mark_failed_again(Transaction& s, std::string_view id,
                                             std::string_view error, domain::Timestamp now) const {
  s.execute(kMarkFailedAgain, {text(id), text(error), micros(now)});
}

}  // namespace todo::store

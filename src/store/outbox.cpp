// The outbox: each append takes the partition's next offset from log_heads in the caller's
// transaction, so offsets are gapless, commit-ordered and never reused (on PostgreSQL in the same
// statement as the insert).
#include "store/outbox.h"

#include <string>

#include "store/sql_values.h"

namespace todo::store {
namespace {

using sql::text;

// PostgreSQL: the offset taken and the message inserted in one statement (one round trip). A
// duplicate event id fails the whole statement, the head's move included, so no gap is left.
constexpr std::string_view kAppendPostgres =
    "WITH head AS (INSERT INTO log_heads (topic, \"partition\", next_offset) VALUES ($1, $2, 1) "
    "ON CONFLICT (topic, \"partition\") DO UPDATE SET next_offset = log_heads.next_offset + 1 "
    "RETURNING next_offset - 1 AS taken) "
    "INSERT INTO outbox (topic, \"partition\", \"offset\", key, event_id, payload, created_at, "
    "shipped_at) SELECT $1, $2, taken, $3, $4, $5, $6, NULL FROM head RETURNING \"offset\"";
// SQLite: the head read, the message inserted (a duplicate event id fails here, before the head
// moved), then the head moved. No RETURNING: SQLite gathers its rows in a temporary B-tree first.
constexpr std::string_view kReadHead =
    "SELECT next_offset FROM log_heads WHERE topic = $1 AND \"partition\" = $2";
constexpr std::string_view kMoveHead =
    "INSERT INTO log_heads (topic, \"partition\", next_offset) VALUES ($1, $2, $3) "
    "ON CONFLICT (topic, \"partition\") DO UPDATE SET next_offset = excluded.next_offset";
constexpr std::string_view kInsertMessage =
    "INSERT INTO outbox (topic, \"partition\", \"offset\", key, event_id, payload, created_at, "
    "shipped_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)";
constexpr std::string_view kReadMessages =
    "SELECT topic, \"partition\", \"offset\", key, event_id, payload, created_at, shipped_at "
    "FROM outbox WHERE topic = $1 AND \"partition\" = $2 AND \"offset\" >= $3 "
    "ORDER BY \"offset\" LIMIT $4";
constexpr std::string_view kNextOffset =
    "SELECT next_offset FROM log_heads WHERE topic = $1 AND \"partition\" = $2";
constexpr std::string_view kHeads =
    "SELECT \"partition\", next_offset FROM log_heads WHERE topic = $1";
constexpr std::string_view kPartitions =
    "SELECT topic, \"partition\" FROM log_heads ORDER BY topic, \"partition\"";
constexpr std::string_view kPurge =
    "DELETE FROM outbox WHERE topic = $1 AND \"partition\" = $2 AND \"offset\" < $3 "
    "AND created_at < $4";

// One partition's oldest unshipped rows: a range of the partial index outbox_unshipped.
constexpr std::string_view kUnshipped =
    "SELECT topic, \"partition\", \"offset\", key, event_id, payload, created_at, shipped_at "
    "FROM outbox WHERE topic = $1 AND \"partition\" = $2 AND shipped_at IS NULL "
    "ORDER BY \"offset\" LIMIT $3";
constexpr std::string_view kMarkShipped =
    "UPDATE outbox SET shipped_at = $5 WHERE topic = $1 AND \"partition\" = $2 "
    "AND \"offset\" >= $3 AND \"offset\" <= $4 AND shipped_at IS NULL";
constexpr std::string_view kPurgeShipped =
    "DELETE FROM outbox WHERE shipped_at IS NOT NULL AND created_at < $1";

LoggedMessage message_from_row(const Row& row) {
  LoggedMessage m;
  m.topic = row.text(0);
  m.partition = static_cast<int>(row.integer(1));
  m.offset = row.integer(2);
  m.key = row.text(3);
  m.event_id = row.text(4);
  m.payload = row.text(5);
  m.created_at = domain::from_micros(row.integer(6));
  m.shipped_at = sql::optional_time(row, 7);
  return m;
}

}  // namespace

void OutboxRepository::append_unread(Transaction& s, const OutboxMessage& message,
                                     domain::Timestamp now) const {
  if (s.dialect() != Dialect::kPostgres) {
    append(s, message, now);
    return;
  }
  s.execute_unread(kAppendPostgres, {message.topic, std::int64_t{message.partition}, message.key,
                                     message.event_id, message.payload, sql::micros(now)});
  s.announce_log_append(message.topic, message.partition);  // its consumers woken at commit
}

std::int64_t OutboxRepository::append(Transaction& s, const OutboxMessage& message,
                                      domain::Timestamp now) const {
  const std::int64_t partition = message.partition;
  if (s.dialect() == Dialect::kPostgres) {
    auto appended = s.query_one(kAppendPostgres, {message.topic, partition, message.key,
                                                  message.event_id, message.payload,
                                                  sql::micros(now)});
    if (!appended) throw DatabaseError("outbox: appending returned no row");
    s.announce_log_append(message.topic, message.partition);  // its consumers woken at commit
    return appended.value().integer(0);
  }
  // The head moves only after the insert succeeded: in SQLite a failed statement does not end the
  // transaction, so a caller that catches a duplicate's violation and commits leaves no gap.
  std::int64_t offset = 0;
  if (auto head = s.query_one(kReadHead, {message.topic, partition})) {
    offset = head.value().integer(0);
  }
  try {
    s.execute(kInsertMessage, {message.topic, partition, offset, message.key, message.event_id,
                               message.payload, sql::micros(now)});
  } catch (const ConstraintViolation&) {
    throw ConstraintViolation("outbox: event_id " + message.event_id + " was already appended");
  }
  s.execute(kMoveHead, {message.topic, partition, offset + 1});
  s.announce_log_append(message.topic, message.partition);  // its consumers woken at commit
  return offset;
}

std::vector<LoggedMessage> OutboxRepository::read(Transaction& s, std::string_view topic,
                                                  int partition, std::int64_t from,
                                                  int limit) const {
  if (limit <= 0) return {};
  const auto rows =
      s.query(kReadMessages, {text(topic), std::int64_t{partition}, from, std::int64_t{limit}});
  std::vector<LoggedMessage> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(message_from_row(row));
  return out;
}

std::int64_t OutboxRepository::next_offset(Transaction& s, std::string_view topic,
                                           int partition) const {
  auto row = s.query_one(kNextOffset, {text(topic), std::int64_t{partition}});
  return row ? row.value().integer(0) : 0;
}

std::map<int, std::int64_t> OutboxRepository::heads(Transaction& s, std::string_view topic) const {
  std::map<int, std::int64_t> out;
  for (const auto& row : s.query(kHeads, {text(topic)})) {
    out[static_cast<int>(row.integer(0))] = row.integer(1);
  }
  return out;
}

std::vector<std::pair<std::string, int>> OutboxRepository::partitions(Transaction& s) const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& row : s.query(kPartitions)) {
    out.emplace_back(row.text(0), static_cast<int>(row.integer(1)));
  }
  return out;
}

std::vector<LoggedMessage> OutboxRepository::unshipped(Transaction& s,
                                                       int limit_per_partition) const {
  if (limit_per_partition <= 0) return {};
  std::vector<LoggedMessage> out;
  for (const auto& [topic, partition] : partitions(s)) {
    const auto rows = s.query(kUnshipped, {text(topic), std::int64_t{partition},
                                           std::int64_t{limit_per_partition}});
    for (const auto& row : rows) out.push_back(message_from_row(row));
  }
  return out;
}

std::int64_t OutboxRepository::mark_shipped(Transaction& s, std::string_view topic, int partition,
                                            std::int64_t from, std::int64_t to,
                                            domain::Timestamp now) const {
  return s.execute(kMarkShipped,
                   {text(topic), std::int64_t{partition}, from, to, sql::micros(now)});
}

std::int64_t OutboxRepository::purge_shipped(Transaction& s, domain::Timestamp before) const {
  return s.execute(kPurgeShipped, {sql::micros(before)});
}

std::int64_t OutboxRepository::purge(Transaction& s, std::string_view topic, int partition,
                                     std::int64_t below_offset, domain::Timestamp before) const {
  return s.execute(kPurge,
                   {text(topic), std::int64_t{partition}, below_offset, sql::micros(before)});
}

}  // namespace todo::store

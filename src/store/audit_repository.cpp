// SQL of the audit log and its anchor.
#include "store/audit_repository.h"

#include <limits>

#include "store/sql_values.h"

namespace todo::store {
namespace {

using sql::micros;
using sql::text;

constexpr std::string_view kColumns =
    "id, event_id, event_type, user_id, actor, task_id, sequence, event_time, recorded_at, "
    "payload, prev_hash, hash";
// Whether the event has its entry, and the newest entry (NULLs on an empty log), in one row.
constexpr std::string_view kRecordedAndNewest =
    "SELECT EXISTS (SELECT 1 FROM audit_logs WHERE event_id = $1), newest.id, newest.hash "
    "FROM (SELECT 1) AS one "
    "LEFT JOIN (SELECT id, hash FROM audit_logs ORDER BY id DESC LIMIT 1) AS newest ON 1 = 1";
constexpr std::string_view kNewest = "SELECT id, hash FROM audit_logs ORDER BY id DESC LIMIT 1";
constexpr std::string_view kAnchor =
    "SELECT hash, through_id, moved_at FROM audit_anchor WHERE id = 1";
constexpr std::string_view kAppend =
    "INSERT INTO audit_logs (id, event_id, event_type, user_id, actor, task_id, sequence, "
    "event_time, recorded_at, payload, prev_hash, hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
constexpr std::string_view kPageAfter =
    "SELECT id, event_id, event_type, user_id, actor, task_id, sequence, event_time, recorded_at, "
    "payload, prev_hash, hash FROM audit_logs WHERE id > $1 ORDER BY id LIMIT $2";
constexpr std::string_view kIdRange = "SELECT MIN(id), MAX(id) FROM audit_logs";

// Retention: the first entry to keep is the oldest one recorded at or after the cutoff; every
// entry before it goes, so the kept entries stay one unbroken run of the chain.
constexpr std::string_view kFirstKept = "SELECT MIN(id) FROM audit_logs WHERE recorded_at >= $1";
constexpr std::string_view kLastPurged =
    "SELECT id, hash FROM audit_logs WHERE id < $1 ORDER BY id DESC LIMIT 1";
constexpr std::string_view kMoveAnchor =
    "UPDATE audit_anchor SET hash = $1, through_id = $2, moved_at = $3 WHERE id = 1";
constexpr std::string_view kPurgeThrough = "DELETE FROM audit_logs WHERE id <= $1";

// Pieces of the filtered query; placeholders are numbered as the filters present are added.
constexpr std::string_view kQueryUser = " AND user_id = $";
constexpr std::string_view kQueryTask = " AND task_id = $";
constexpr std::string_view kQueryType = " AND event_type = $";
constexpr std::string_view kQueryFrom = " AND event_time >= $";
constexpr std::string_view kQueryTo = " AND event_time <= $";
constexpr std::string_view kQueryAfterAscending = " AND id > $";
constexpr std::string_view kQueryAfterDescending = " AND id < $";

AuditEntry entry_from(const Row& row) {
  AuditEntry e;
  e.id = row.integer(0);
  e.event_id = row.text(1);
  e.event_type = row.text(2);
  e.user_id = row.text(3);
  e.actor = row.text(4);
  e.task_id = row.text(5);
  e.sequence = row.integer(6);
  e.event_time = domain::from_micros(row.integer(7));
  e.recorded_at = domain::from_micros(row.integer(8));
  e.payload = row.text(9);
  e.prev_hash = row.text(10);
  e.hash = row.text(11);
  return e;
}

std::vector<AuditEntry> entries_from(const std::vector<Row>& rows) {
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(entry_from(row));
  return out;
}

}  // namespace

std::optional<AuditHead> AuditRepository::head_unless_recorded(Transaction& s,
                                                               std::string_view event_id) const {
  const auto row = s.query_one(kRecordedAndNewest, {text(event_id)});
  if (!row) throw DatabaseError("audit head: no row");
  if (row->integer(0) != 0) return std::nullopt;
  if (!row->is_null(1)) return AuditHead{row->integer(1), row->text(2)};
  AuditAnchor a = anchor(s);
  return AuditHead{a.through_id, std::move(a.hash)};
}

AuditHead AuditRepository::head(Transaction& s) const {
  if (auto newest = s.query_one(kNewest)) return {newest->integer(0), newest->text(1)};
  AuditAnchor a = anchor(s);
  return {a.through_id, std::move(a.hash)};
}

void AuditRepository::append(Transaction& s, const AuditEntry& e) const {
  s.execute_unread(kAppend, {e.id, e.event_id, e.event_type, e.user_id, e.actor, e.task_id,
                             e.sequence, micros(e.event_time), micros(e.recorded_at), e.payload,
                             e.prev_hash, e.hash});
}

std::vector<AuditEntry> AuditRepository::query(Transaction& s, const AuditQuery& q) const {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM audit_logs WHERE 1 = 1";
  std::vector<Value> params;
  auto add = [&](std::string_view condition, Value value) {
    params.push_back(std::move(value));
    sql += condition;
    sql += std::to_string(params.size());
  };
  if (q.user_id) add(kQueryUser, *q.user_id);
  if (q.task_id) add(kQueryTask, *q.task_id);
  if (q.event_type) add(kQueryType, *q.event_type);
  if (q.from) add(kQueryFrom, micros(*q.from));
  if (q.to) add(kQueryTo, micros(*q.to));
  if (q.after_id) add(q.ascending ? kQueryAfterAscending : kQueryAfterDescending, *q.after_id);
  sql += q.ascending ? " ORDER BY id ASC" : " ORDER BY id DESC";
  params.emplace_back(std::int64_t{q.limit});
  sql += " LIMIT $" + std::to_string(params.size());
  return entries_from(s.query(sql, params));
}

std::vector<AuditEntry> AuditRepository::page_after(Transaction& s, std::int64_t after_id,
                                                    int limit) const {
  return entries_from(s.query(kPageAfter, {after_id, std::int64_t{limit}}));
}

std::optional<std::pair<std::int64_t, std::int64_t>> AuditRepository::id_range(
    Transaction& s) const {
  auto row = s.query_one(kIdRange);
  if (!row || row->is_null(0)) return std::nullopt;
  return std::pair{row->integer(0), row->integer(1)};
}

AuditAnchor AuditRepository::anchor(Transaction& s) const {
  auto row = s.query_one(kAnchor);
  if (!row) throw DatabaseError("audit_anchor has no row: migration 0004 did not run");
  return {row->text(0), row->integer(1), sql::optional_time(*row, 2)};
}

std::int64_t AuditRepository::purge(Transaction& s, domain::Timestamp before,
                                    domain::Timestamp now) const {
  auto first_kept = s.query_one(kFirstKept, {micros(before)})->optional_integer(0);
  const std::int64_t bound = first_kept.value_or(std::numeric_limits<std::int64_t>::max());
  auto last = s.query_one(kLastPurged, {bound});
  if (!last) return 0;
  const std::int64_t through = last->integer(0);
  s.execute(kMoveAnchor, {last->text(1), through, micros(now)});
  return s.execute(kPurgeThrough, {through});
}

}  // namespace todo::store

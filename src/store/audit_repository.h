// The audit log's rows (audit_logs) and the anchor of its hash chain (audit_anchor): appends,
// filtered keyset pages, ascending pages for verification, and retention (docs/adr/0007).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/clock.h"
#include "store/database.h"

namespace todo::store {

struct AuditEntry {
  std::int64_t id = 0;  // the position in the chain
  std::string event_id;
  std::string event_type;  // "task.created" …
  std::string user_id;
  std::string actor;
  std::string task_id;
  std::int64_t sequence = 0;
  domain::Timestamp event_time{};
  domain::Timestamp recorded_at{};
  std::string payload;  // JSON text: {"task": {...}, "changes": {...}}
  std::string prev_hash;
  std::string hash;
};

// What the next entry chains from: the newest entry, or the anchor when the table is empty.
struct AuditHead {
  std::int64_t id = 0;  // the next entry takes id + 1
  std::string hash;
};

struct AuditAnchor {
  std::string hash;             // the oldest kept entry's prev_hash must equal it
  std::int64_t through_id = 0;  // the last purged entry (0 before any purge)
  std::optional<domain::Timestamp> moved_at;
};

struct AuditQuery {
  std::optional<std::string> user_id;  // nullopt: every user's
  std::optional<std::string> task_id;
  std::optional<std::string> event_type;
  std::optional<domain::Timestamp> from;  // inclusive, on event_time
  std::optional<domain::Timestamp> to;    // inclusive, on event_time
  std::optional<std::int64_t> after_id;   // keyset: only ids beyond this one in the order
  bool ascending = false;                 // false: newest first
  int limit = 50;
};

class AuditRepository {
 public:
  AuditHead head(Transaction& s) const;
  // head(), or nullopt when the event already has its entry: one statement (on a non-empty log).
  std::optional<AuditHead> head_unless_recorded(Transaction& s, std::string_view event_id) const;
  // Throws ConstraintViolation when the id or event_id is taken.
  void append(Transaction& s, const AuditEntry& entry) const;
  // At most query.limit entries matching the filters, ordered by id.
  std::vector<AuditEntry> query(Transaction& s, const AuditQuery& query) const;
  // Entries with id > after_id, ascending, at most `limit` (verification reads the chain so).
  std::vector<AuditEntry> page_after(Transaction& s, std::int64_t after_id, int limit) const;
  // The smallest and largest id kept (nullopt when the table is empty).
  std::optional<std::pair<std::int64_t, std::int64_t>> id_range(Transaction& s) const;
  AuditAnchor anchor(Transaction& s) const;
  // Deletes the longest run of oldest entries recorded before `before` and moves the anchor to
  // the hash of the last one deleted, in the caller's transaction. Returns how many were deleted.
  std::int64_t purge(Transaction& s, domain::Timestamp before, domain::Timestamp now) const;
};

}  // namespace todo::store

// The audit service (group `audit-service`): appends every task-events event exactly once to a
// SHA-256 hash chain, answers the audit queries, verifies the chain and applies retention
// (docs/adr/0007-audit-hash-chain.md). Plain synchronous code; the routes and the bus call it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "domain/clock.h"
#include "store/audit_repository.h"
#include "store/database.h"

namespace todo::services::audit {

inline constexpr std::string_view kConsumerGroup = "audit-service";

// event_type values: the CloudEvent type without "com.todo.".
inline constexpr std::string_view kEventTypes[] = {"task.created", "task.updated", "task.completed",
                                                   "task.deleted"};
bool is_event_type(std::string_view text);

// The hash of a chain that has never been purged: 64 zeros.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The exact bytes an entry's hash covers besides prev_hash: compact JSON of every column but
// hash, in column order, the payload as a JSON string (ADR 7 spells the bytes out).
std::string canonical_entry(const store::AuditEntry& entry);
// Lower-case hex SHA-256(prev_hash || canonical_entry(entry)).
std::string entry_hash(const store::AuditEntry& entry);

// An entry read from its event before the write transaction: everything but what only the
// transaction knows (id, prev_hash, recorded_at), and the canonical bytes around those, so that
// the writer thread neither parses JSON nor serializes any (ADR 0007, addendum).
struct PreparedEntry {
  store::AuditEntry entry;
  std::string canonical_after_id;           // ,"event_id":…,"recorded_at":
  std::string canonical_after_recorded_at;  // ,"payload":…,"prev_hash":
};
// Throws bus::PermanentFailure for a malformed event.
PreparedEntry prepare_entry(const bus::Event& event);
// Completes `prepared` as the entry after `head_id` in a chain whose last hash is `prev_hash`,
// recorded at `recorded_at`: the same entry and hash that entry_hash() gives.
// `prepared` stays as it was: a batch that runs again applies it again.
store::AuditEntry complete_entry(const PreparedEntry& prepared, std::int64_t head_id,
                                 std::string prev_hash, domain::Timestamp recorded_at);

struct AuditPage {
  std::vector<store::AuditEntry> items;
  bool has_more = false;
};

struct BrokenLink {
  std::int64_t id = 0;
  std::string reason;  // kHashMismatch or kPrevHashMismatch
};
inline constexpr std::string_view kHashMismatch = "hash mismatch";
inline constexpr std::string_view kPrevHashMismatch = "prev_hash does not match the previous entry";

struct VerifyReport {
  bool valid = true;
  std::int64_t entries_checked = 0;        // up to and including the first broken entry
  std::optional<BrokenLink> first_broken;  // nullopt when valid
  std::optional<std::int64_t> oldest_id;   // nullopt when the log is empty
  std::optional<std::int64_t> newest_id;
  std::string anchor;  // the hash the oldest kept entry chains from
};

class AuditService {
 public:
  AuditService(store::Database& database, const domain::Clock& clock);

  // The task-events consumer: appends the event's entry in `tx`. A second delivery of an event id
  // already in the log appends nothing. Throws std::invalid_argument for a malformed event (the
  // bus retries, then dead-letters it) and writes nothing then.
  void handle(const bus::Event& event, store::Transaction& tx);
  // The same in two phases: prepare_entry() on the consumer thread, then this in `tx`.
  void apply(const PreparedEntry& prepared, store::Transaction& tx);

  bool is_admin(std::string_view user_id);

  // Filters as given (already validated); query.limit entries at most, has_more when others follow.
  AuditPage list(store::AuditQuery query);

  // Checks every kept entry, oldest first, in one consistent snapshot.
  VerifyReport verify();

  // Deletes entries recorded more than `older_than` ago, moving the anchor so that the chain
  // stays verifiable from the oldest kept entry. Returns how many were deleted.
  std::int64_t purge(std::chrono::microseconds older_than);

 private:
  store::Database& database_;
  const domain::Clock& clock_;
  store::AuditRepository entries_;
};

}  // namespace todo::services::audit

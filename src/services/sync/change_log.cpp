// Reads one user's changes after a seq from the log, in one snapshot with the user's counter, and
// says resync-required when the log no longer holds all of them (retention) or holds too many.
#include "services/sync/change_log.h"

#include "domain/time_format.h"

namespace todo::services::sync {
namespace {

constexpr std::string_view kCurrentSeq = "SELECT change_seq FROM users WHERE id = $1";
// The WHERE terms match the partial expression index outbox_user_changes (migration 0009), whose
// expression differs per dialect.
constexpr std::string_view kChangesAfterSqlite =
    "SELECT payload, created_at FROM outbox WHERE topic = 'task-updates' AND key = $1 "
    "AND json_extract(payload, '$.data.user_seq') > $2 "
    "ORDER BY json_extract(payload, '$.data.user_seq') LIMIT $3";
constexpr std::string_view kChangesAfterPostgres =
    "SELECT payload, created_at FROM outbox WHERE topic = 'task-updates' AND key = $1 "
    "AND ((payload::jsonb) -> 'data' ->> 'user_seq')::bigint > $2 "
    "ORDER BY ((payload::jsonb) -> 'data' ->> 'user_seq')::bigint LIMIT $3";

std::int64_t read_current(store::Transaction& s, const std::string& user_id) {
  auto row = s.query_one(kCurrentSeq, {user_id});
  return row ? row->integer(0) : 0;
}

}  // namespace

std::string_view ChangeLog::changes_query(store::Dialect dialect) {
  return dialect == store::Dialect::kPostgres ? kChangesAfterPostgres : kChangesAfterSqlite;
}

std::int64_t ChangeLog::current_seq(const std::string& user_id) {
  std::int64_t current = 0;
  database_.read([&](store::Transaction& s) { current = read_current(s, user_id); });
  return current;
}

Replay ChangeLog::since(const std::string& user_id, std::int64_t since) {
  Replay replay;
  database_.read([&](store::Transaction& s) {
    replay = Replay{};
    replay.current = read_current(s, user_id);
    if (since > replay.current) {
      replay.resync_reason = "since is ahead of this account's changes";
      return;
    }
    if (replay.current - since > static_cast<std::int64_t>(max_frames_)) {
      replay.resync_reason = "too many changes to replay";
      return;
    }
    if (replay.current == since) return;
    auto rows = s.query(changes_query(s.dialect()), {user_id, since, replay.current - since});
    std::int64_t expected = since + 1;
    for (const auto& row : rows) {
      auto frame = frame_from_event(row.text(0));
      if (!frame || frame->seq != expected) break;
      frame->time = domain::from_micros(row.integer(1));
      replay.frames.push_back(std::move(*frame));
      ++expected;
    }
    if (expected != replay.current + 1) {
      replay.frames.clear();
      replay.resync_reason = "the change log no longer holds seq " + std::to_string(expected);
    }
  });
  return replay;
}

}  // namespace todo::services::sync

// Where a connection's hello and resume read from: the user's change counter and the task-updates
// events of the log (the outbox) after a seq, found by the index of migration 0009. Blocking
// (database reads): call it from the sync worker, never from an I/O thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/sync/frames.h"
#include "store/database.h"

namespace todo::services::sync {

struct Replay {
  std::int64_t current = 0;                  // the user's change counter in the snapshot read
  std::vector<Frame> frames;                 // seq in (since, current], ascending, gapless
  std::optional<std::string> resync_reason;  // set: the client must use GET /api/sync
};

class ChangeLog {
 public:
  // `max_frames`: a resume missing more changes than this is answered resync-required.
  ChangeLog(store::Database& database, std::size_t max_frames)
      : database_(database), max_frames_(max_frames) {}

  // The user's change counter (0 for an unknown user).
  std::int64_t current_seq(const std::string& user_id);
  Replay since(const std::string& user_id, std::int64_t since);
  // The statement since() reads the changes with ($1 user id, $2 seq, $3 limit), for the test
  // that the index serves it.
  static std::string_view changes_query(store::Dialect dialect);

 private:
  store::Database& database_;
  const std::size_t max_frames_;
};

}  // namespace todo::services::sync

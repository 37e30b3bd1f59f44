// What the bus tests share: the effects table their handlers write to, a recorder of the events
// each group saw, and the offsets a group committed.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "store/consumer_repository.h"
#include "store/database.h"

namespace todo::bus::testing {

// effects (event_id, grp): one row per effect a handler had; a second row for an event means a
// second effect.
inline void create_effects_table(store::Database& db) {
  db.write([](store::Transaction& s) {
    s.execute("CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL, grp TEXT NOT NULL)");
  });
}

// partition -> the next offset `group` reads of `topic`, as committed in the database.
inline std::map<int, std::int64_t> committed(store::Database& db, const std::string& group,
                                             const std::string& topic) {
  return store::read_value(db, [&](store::Transaction& s) {
    return store::ConsumerOffsetRepository{}.committed(s, group, topic);
  });
}

// Handlers that record what their group saw (from any thread) and write one effect per event.
class Recorder {
 public:
  EventHandler handler(const std::string& group) {
    return [this, group](const Event& e, store::Transaction& tx) {
      {
        std::lock_guard lock(mutex_);
        seen_[group].push_back(e);
      }
      tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, $2)", {e.id, group});
    };
  }
  std::vector<Event> seen(const std::string& group) {
    std::lock_guard lock(mutex_);
    return seen_[group];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<Event>> seen_;
};

}  // namespace todo::bus::testing

// SQLite backend: WAL, one writer thread with group commit, a pool of reader connections.
#pragma once

#include "store/database.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

namespace todo::store {

struct SqliteOptions {
  std::filesystem::path path;  // the database file; created with its directory when missing
  Durability durability = Durability::kFull;
  int reader_connections = 4;
  int busy_timeout_ms = 5000;
  int max_batch = 64;  // most writes that share one commit
  // A WAL of this many pages or more after a background checkpoint is made to start over from
  // its beginning (see SqliteDatabase::restart_wal_if_wanted); at least 1000, the checkpoint's.
  int wal_restart_pages = 4000;
};

// Opens (creating when needed) and applies pending migrations. Throws DatabaseError on failure.
std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);

// Counters of the writer thread since open, for metrics and for tests of group commit.
struct SqliteStats {
  std::int64_t commits = 0;  // group commits that succeeded
  std::int64_t writes = 0;   // write() calls the writer thread has run, committed or not
  std::int64_t pending = 0;  // write() calls waiting for the writer thread right now
  std::int64_t checkpoints = 0;  // background WAL checkpoints run (every 1000 WAL pages)
  // Checkpoints that let the WAL start over from its beginning (at wal_restart_pages).
  std::int64_t wal_restarts = 0;
  // Times SQLite compiled a cached statement of the writer or a reader again: after a schema
  // change, or for a new value bound to a parameter a plan depends on, which the connections'
  // query planner stability guarantee rules out).
  std::int64_t reprepared = 0;
};

// nullopt when `db` was not opened by open_sqlite.
std::optional<SqliteStats> sqlite_stats(const Database& db);

}  // namespace todo::store

// SQLite backend: WAL, one writer thread with group commit, a pool of reader connections.
#pragma once

#include "store/database.h"

#include <filesystem>
#include <memory>

namespace todo::store {

struct SqliteOptions {
  std::filesystem::path path;  // the database file; created with its directory when missing
  Durability durability = Durability::kFull;
  int reader_connections = 4;
  int busy_timeout_ms = 5000;
  int max_batch = 64;  // most writes that share one commit
};

// Opens (creating when needed) and applies pending migrations. Throws DatabaseError on failure.
std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);

}  // namespace todo::store

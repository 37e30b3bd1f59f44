// The database factory: the one place that turns configuration into a concrete backend. Everything
// outside src/store works against store::Database and never names a backend.
#pragma once

#include <filesystem>
#include <memory>

#include "store/database.h"

namespace todo::store {

struct DatabaseOptions {
  // The backend. Only kSqlite is implemented today; kPostgres is refused with DatabaseError until
  // the PostgreSQL backend lands (it then also takes a connection URL here).
  Dialect dialect = Dialect::kSqlite;
  std::filesystem::path path;  // SQLite: the database file, created with its directory when missing
  Durability durability = Durability::kFull;
  int reader_connections = 4;  // connections that serve read(); one-shot commands need only one
};

// Opens (creating when needed) and applies pending migrations. Throws DatabaseError on failure.
std::unique_ptr<Database> open_database(const DatabaseOptions& options);

}  // namespace todo::store

// The database factory: the one place that turns configuration into a concrete backend. Everything
// outside src/store works against store::Database and never names a backend.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.h"

namespace todo::store {

struct DatabaseOptions {
  Dialect dialect = Dialect::kSqlite;
  std::filesystem::path path;  // SQLite: the database file, created with its directory when missing
  // PostgreSQL: postgres://user:password@host:port/dbname?sslmode=... (a secret: never log it;
  // redact_database_url() gives the form that may be shown).
  std::string url;
  Durability durability =
      Durability::kFull;  // SQLite only: the server's settings decide on PostgreSQL
  // Connections that serve read(); one-shot commands need only one. PostgreSQL: the pool holds
  // one more, since its writes take pooled connections too.
  int reader_connections = 4;
  // PostgreSQL: commit listeners also hear the log appends of other processes (a LISTEN
  // connection); one-shot commands that wait for nothing turn it off.
  bool hear_other_processes = true;
};

// True for a postgres:// or postgresql:// URL.
bool is_postgres_url(std::string_view url);

// `url` with its password replaced by "***" (postgres:// URLs and key=value strings alike), for
// logs and error messages.
std::string redact_database_url(std::string_view url);

// Why `url` cannot be a PostgreSQL connection URL, or nullopt when libpq accepts it. The reason
// never quotes the URL (it may hold a password).
std::optional<std::string> postgres_url_problem(std::string_view url);

// Opens (creating when needed) and applies pending migrations. Throws DatabaseError on failure.
std::unique_ptr<Database> open_database(const DatabaseOptions& options);

}  // namespace todo::store

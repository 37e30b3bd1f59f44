#include "store/open_database.h"

#include <libpq-fe.h>

#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace todo::store {

std::unique_ptr<Database> open_database(const DatabaseOptions& options) {
  switch (options.dialect) {
    case Dialect::kSqlite: {
      SqliteOptions sqlite;
      sqlite.path = options.path;
      sqlite.durability = options.durability;
      sqlite.reader_connections = options.reader_connections;
      return open_sqlite(sqlite);
    }
    case Dialect::kPostgres: {
      if (!is_postgres_url(options.url)) {
        throw DatabaseError("PostgreSQL needs a postgres:// URL, not " +
                            redact_database_url(options.url));
      }
      PostgresOptions postgres;
      postgres.url = options.url;
      postgres.pool_size = options.reader_connections + 1;
      postgres.hear_other_processes = options.hear_other_processes;
      return open_postgres(postgres);
    }
  }
  throw DatabaseError("unknown database dialect");
}

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

}  // namespace todo::store

namespace todo::store {

std::optional<std::string> postgres_url_problem(std::string_view url) {
  if (!is_postgres_url(url)) return "must be a postgres:// or postgresql:// URL";
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(std::string(url).c_str(), &error);
  // libpq's message may quote a malformed part of the URL, the password included: not shown.
  if (error != nullptr) PQfreemem(error);
  if (parsed == nullptr) {
    return "is not a valid PostgreSQL URL (postgres://user:password@host:port/dbname?sslmode=...)";
  }
  PQconninfoFree(parsed);
  return std::nullopt;
}

}  // namespace todo::store

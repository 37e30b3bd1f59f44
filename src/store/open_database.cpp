#include "store/open_database.h"

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
      return open_postgres(postgres);
    }
  }
  throw DatabaseError("unknown database dialect");
}

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

}  // namespace todo::store

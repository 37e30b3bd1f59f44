#include "store/open_database.h"

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
    case Dialect::kPostgres:
      break;
  }
  throw DatabaseError("the PostgreSQL backend is not supported yet");
}

}  // namespace todo::store

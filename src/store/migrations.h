// Numbered schema migrations, one set per dialect, compiled into the binary.
#pragma once

#include "store/database.h"

#include <string>
#include <vector>

namespace todo::store {

struct Migration {
  int version;
  std::string name;  // e.g. "0001_users"
  std::string sql;
};

// All migrations for the dialect, in version order.
const std::vector<Migration>& migrations_for(Dialect dialect);

// Applies every migration newer than the recorded schema version, each in its own transaction.
// Returns the versions applied (empty when the schema was already current).
std::vector<int> apply_migrations(Database& db);

}  // namespace todo::store

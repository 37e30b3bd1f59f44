// The compiled-in migration sets and the runner that brings a database's schema up to date.
#include "store/migrations.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <initializer_list>
#include <string_view>

#include "domain/clock.h"
#include "domain/time_format.h"
#include "store/postgres/postgres_database.h"

namespace todo::store {
namespace {

constexpr std::string_view kCreateSchemaMigrationsSqlite =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";
constexpr std::string_view kCreateSchemaMigrationsPostgres =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
constexpr std::string_view kSchemaVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr std::string_view kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

struct RawMigration {
  std::string_view name;  // the file name without .sql, e.g. "0001_accounts"
  std::string_view sql;
};

// "0001_accounts" -> 1. A malformed name is a build mistake, reported on first use.
int version_of(std::string_view name) {
  const auto underscore = name.find('_');
  int version = 0;
  const char* end = name.data() + (underscore == std::string_view::npos ? 0 : underscore);
  auto [ptr, ec] = std::from_chars(name.data(), end, version);
  if (underscore == std::string_view::npos || ec != std::errc() || ptr != end || version <= 0) {
    throw DatabaseError("migration file name " + std::string(name) +
                        " is not of the form NNNN_name.sql");
  }
  return version;
}

std::vector<Migration> build(std::initializer_list<RawMigration> raw) {
  std::vector<Migration> out;
  for (const auto& m : raw)
    out.push_back({version_of(m.name), std::string(m.name), std::string(m.sql)});
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  const auto twin = std::adjacent_find(
      out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version == b.version; });
  if (twin != out.end()) {
    throw DatabaseError("two migrations share version " + std::to_string(twin->version));
  }
  return out;
}

}  // namespace

const std::vector<Migration>& migrations_for(Dialect dialect) {
  static const std::vector<Migration> sqlite = build({
#include "migrations_sqlite.inc"
  });
  static const std::vector<Migration> postgres = build({
#include "migrations_postgres.inc"
  });
  return dialect == Dialect::kSqlite ? sqlite : postgres;
}

std::vector<int> apply_migrations(Database& db) {
  const bool postgres = db.dialect() == Dialect::kPostgres;
  // PostgreSQL: every migration's transaction first takes an advisory lock, and reads at READ
  // COMMITTED after it, so two processes migrating at once run each migration once (the second
  // sees the first's recorded version as soon as it gets the lock).
  const auto migrate = [&](const std::function<void(Transaction&)>& work) {
    if (postgres) {
      postgres_migration_write(db, work);
    } else {
      db.write(work);
    }
  };
  const auto create = postgres ? kCreateSchemaMigrationsPostgres : kCreateSchemaMigrationsSqlite;
  migrate([&](Transaction& s) { s.execute(create); });

  std::vector<int> applied;
  for (const Migration& m : migrations_for(db.dialect())) {
    // The version is read inside the same write, so two processes starting together cannot
    // both apply one migration.
    bool ran = false;
    migrate([&](Transaction& s) {
      ran = false;
      if (m.version <= s.query_one(kSchemaVersion)->integer(0)) return;
      s.execute_script(m.sql);
      const auto now = domain::to_micros(domain::SystemClock().now());
      s.execute(kRecordMigration, {std::int64_t{m.version}, m.name, now});
      ran = true;
    });
    if (ran) applied.push_back(m.version);
  }
  return applied;
}

}  // namespace todo::store

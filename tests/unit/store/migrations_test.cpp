// Migrations: the compiled-in set, applying once, idempotence and data kept across reopening.
#include "store/migrations.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <vector>

#include "store_test_support.h"

namespace todo::store {
namespace {

class MigrationsTest : public testing::BackendTest {
 protected:
  std::unique_ptr<Database> open() { return open_database(); }

  static std::vector<Row> recorded(Database& db) {
    return read_value(db, [](Transaction& s) {
      return s.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
    });
  }
};

TEST(MigrationSetTest, SqliteMigrationsAreNumberedFromTheirFileNames) {
  const auto& all = migrations_for(Dialect::kSqlite);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().version, 1);
  EXPECT_EQ(all.front().name, "0001_accounts");
  EXPECT_NE(all.front().sql.find("CREATE TABLE users"), std::string::npos);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].version, all[i].version);
}

// One schema, two dialects: every migration exists in both, under the same number and name.
TEST(MigrationSetTest, PostgresHasTheSameMigrationsAsSqlite) {
  const auto& sqlite = migrations_for(Dialect::kSqlite);
  const auto& postgres = migrations_for(Dialect::kPostgres);
  ASSERT_EQ(postgres.size(), sqlite.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(postgres[i].version, sqlite[i].version);
    EXPECT_EQ(postgres[i].name, sqlite[i].name);
  }
}

TEST_P(MigrationsTest, OpeningAppliesEveryMigrationOnce) {
  auto db = open();
  const auto& all = migrations_for(backend().dialect);
  const auto rows = recorded(*db);
  ASSERT_EQ(rows.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(rows[i].integer(0), all[i].version);
    EXPECT_EQ(rows[i].text(1), all[i].name);
    EXPECT_GT(rows[i].integer(2), 0);
  }
  EXPECT_TRUE(apply_migrations(*db).empty());
  EXPECT_EQ(recorded(*db).size(), all.size());
}

TEST_P(MigrationsTest, ReopeningKeepsDataAndAppliesNothing) {
  {
    auto db = open();
    db->write([](Transaction& s) {
      s.execute(
          "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'a@b.c', 'h', "
          "1)");
    });
  }
  auto db = open();
  EXPECT_TRUE(apply_migrations(*db).empty());
  EXPECT_EQ(recorded(*db).size(), migrations_for(backend().dialect).size());
  db->read([](Transaction& s) {
    EXPECT_EQ(s.query_one("SELECT email FROM users WHERE id = 'u1'")->text(0), "a@b.c");
  });
}

// Empties the schema through the SQLite catalog: on SQLite alone.
class SqliteMigrationsTest : public MigrationsTest {};

// Processes starting together (here: independent Database objects, each with connections of its
// own) migrate one empty schema once: each migration is recorded once and nobody fails.
TEST_P(MigrationsTest, ConcurrentOpenersApplyEachMigrationOnce) {
  const auto options = database_options();
  std::vector<std::future<std::unique_ptr<Database>>> openers;
  for (int i = 0; i < 4; ++i) {
    openers.push_back(std::async(std::launch::async, [&] { return open_database(options); }));
  }
  std::vector<std::unique_ptr<Database>> dbs;
  for (auto& o : openers) dbs.push_back(o.get());
  const auto rows = recorded(*dbs.front());
  ASSERT_EQ(rows.size(), migrations_for(backend().dialect).size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].integer(0), static_cast<std::int64_t>(i + 1));
  }
}

TEST_P(SqliteMigrationsTest, AppliesWhatIsMissingFromAnOlderSchema) {
  {
    auto db = open();
    // Pretend the database predates every migration (an empty schema, as in a fresh file).
    db->write([](Transaction& s) {
      const auto tables = s.query(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
          "AND name <> 'schema_migrations'");
      ASSERT_FALSE(tables.empty());
      for (const auto& table : tables) s.execute_script("DROP TABLE \"" + table.text(0) + "\"");
      s.execute("DELETE FROM schema_migrations");
    });
  }
  auto db = open();  // re-applies every migration
  EXPECT_EQ(recorded(*db).size(), migrations_for(backend().dialect).size());
  EXPECT_EQ(
      read_value(*db,
                 [](Transaction& s) { return s.query_one("SELECT COUNT(*) FROM users")->integer(0); }),
      0);
}

TEST_P(MigrationsTest, AccountTablesAreStrictAndCascade) {
  auto db = open();
  // Text in an integer column: a datatype constraint on SQLite (STRICT); on PostgreSQL the text
  // is refused before any constraint (SQLSTATE 22P02), a plain DatabaseError.
  const auto wrong_type = [](Transaction& s) {
    s.execute(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'a@b.c', 'h', "
        "'x')");
  };
  if (backend().dialect == Dialect::kSqlite) {
    EXPECT_THROW(db->write(wrong_type), ConstraintViolation);
  } else {
    EXPECT_THROW(db->write(wrong_type), DatabaseError);
  }
  EXPECT_THROW(db->write([](Transaction& s) {
    s.execute(
        "INSERT INTO users (id, email, password_hash, role, created_at) "
        "VALUES ('u1', 'a@b.c', 'h', 'root', 1)");
  }),
               ConstraintViolation);
  db->write([](Transaction& s) {
    s.execute_script(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'a@b.c', 'h', 1);"
        "INSERT INTO refresh_tokens (id, user_id, token_hash, family_id, expires_at, created_at) "
        "VALUES ('t1', 'u1', 'hash', 'f1', 10, 1);"
        "DELETE FROM users WHERE id = 'u1'");
  });
  EXPECT_EQ(read_value(*db,
                       [](Transaction& s) {
                         return s.query_one("SELECT COUNT(*) FROM refresh_tokens")->integer(0);
                       }),
            0);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(MigrationsTest);
TODO_STORE_TEST_ON_SQLITE(SqliteMigrationsTest);

}  // namespace
}  // namespace todo::store

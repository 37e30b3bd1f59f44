// The database interface on every backend (binding, value round trips, errors, transactions,
// per-write savepoints, concurrent readers, nesting and shutdown), and the SQLite backend's own
// behaviour (pragmas, options, group commit, checkpoints), on SQLite alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/postgres_database.h"
#include "store/postgres_relay.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_database.h"
#include "store_test_support.h"

namespace todo::store {
namespace {

using testing::eventually;
using ::testing::HasSubstr;
using namespace std::string_literals;

// The exception a test write throws on purpose, so it cannot be mistaken for a database error.
struct Refused : std::runtime_error {
  explicit Refused(int n) : std::runtime_error("refused " + std::to_string(n)), number(n) {}
  int number;
};

// The writer thread's counters, on either backend.
struct WriteStats {
  std::int64_t commits = 0;
  std::int64_t writes = 0;
  std::int64_t pending = 0;
};
WriteStats write_stats(const Database& db) {
  if (const auto s = sqlite_stats(db)) return {s->commits, s->writes, s->pending};
  const auto p = postgres_stats(db);
  return {p->commits, p->writes, p->pending};
}

class DatabaseTest : public testing::BackendTest {
 protected:
  DatabaseOptions options() const {
    auto o = database_options();
    o.path = dir_.path() / "nested" / "dir" / "todo.db";
    return o;
  }
  // For the tests of the SQLite backend's own options.
  SqliteOptions sqlite_options() const {
    SqliteOptions o;
    o.path = options().path;
    return o;
  }

  std::unique_ptr<Database> open(const DatabaseOptions& o) { return with_items(open_database(o)); }
  std::unique_ptr<Database> open_sqlite_with(const SqliteOptions& o) {
    return with_items(open_sqlite(o));
  }
  std::unique_ptr<Database> with_items(std::unique_ptr<Database> db) {
    db->write([](Transaction& s) {
      s.execute("CREATE TABLE IF NOT EXISTS items (k INTEGER PRIMARY KEY, v TEXT)");
    });
    return db;
  }
  std::unique_ptr<Database> open() { return open(options()); }

  static std::int64_t count_items(Database& db) {
    return read_value(
        db, [](Transaction& s) { return s.query_one("SELECT COUNT(*) FROM items")->integer(0); });
  }

  static std::vector<std::int64_t> item_keys(Database& db) {
    return read_value(db, [](Transaction& s) {
      std::vector<std::int64_t> out;
      for (const auto& row : s.query("SELECT k FROM items ORDER BY k")) out.push_back(row.integer(0));
      return out;
    });
  }

  // What read_statement_async() gave: the first column of each row, and the outcome.
  struct AsyncRead {
    std::vector<std::int64_t> keys;
    std::exception_ptr error;
    std::string message() const {
      try {
        if (error) std::rethrow_exception(error);
      } catch (const std::exception& e) {
        return e.what();
      }
      return "";
    }
  };
  // Starts read_statement_async(); the future is set once its `done` ran.
  static std::future<AsyncRead> start_read(Database& db, std::string sql,
                                           std::vector<Value> params = {}) {
    auto out = std::make_shared<AsyncRead>();
    auto promise = std::make_shared<std::promise<AsyncRead>>();
    auto future = promise->get_future();
    db.read_statement_async(
        std::move(sql), std::move(params),
        [out](const RowView& row) { out->keys.push_back(row.integer(0)); },
        [out, promise](std::exception_ptr error) {
          out->error = error;
          promise->set_value(std::move(*out));
        });
    return future;
  }
  static AsyncRead read_async(Database& db, std::string sql, std::vector<Value> params = {}) {
    return start_read(db, std::move(sql), std::move(params)).get();
  }

  static void insert(Transaction& s, std::int64_t k) {
    s.execute("INSERT INTO items (k, v) VALUES ($1, $2)", {k, "v" + std::to_string(k)});
  }

  static WriteStats stats(const Database& db) { return write_stats(db); }
  // open() with at most `max_batch` writes per group commit.
  std::unique_ptr<Database> open_with_max_batch(int max_batch) {
    if (backend().dialect == Dialect::kSqlite) {
      auto o = sqlite_options();
      o.max_batch = max_batch;
      return open_sqlite_with(o);
    }
    PostgresOptions o;
    o.url = testing::PostgresTestServer::instance().url_for(options().path.string());
    o.max_batch = max_batch;
    return with_items(open_postgres(o));
  }
};

// The tests of the SQLite backend's own behaviour: the same fixture, on SQLite alone.
class SqliteDatabaseTest : public DatabaseTest {
 protected:
  // Creates `blobs` and commits `commits` writes of 16 rows of a page each into it, calling
  // `after_each` after each commit.
  static void write_pages(Database& db, int commits, const std::function<void()>& after_each = {}) {
    db.write([](Transaction& s) { s.execute("CREATE TABLE blobs (data TEXT)"); });
    const std::string page_sized(4000, 'x');
    for (int i = 0; i < commits; ++i) {
      db.write([&](Transaction& s) {
        for (int k = 0; k < 16; ++k) s.execute("INSERT INTO blobs VALUES ($1)", {page_sized});
      });
      if (after_each) after_each();
    }
  }
  static std::int64_t count_blobs(Database& db) {
    return read_value(
        db, [](Transaction& s) { return s.query_one("SELECT COUNT(*) FROM blobs")->integer(0); });
  }
};

// ---- opening -------------------------------------------------------------------------------

// Two processes migrating one fresh data dir both open a writer and switch the new file to WAL.
// SQLite answers one of them SQLITE_BUSY without waiting; the switch must wait and succeed.
TEST_P(SqliteDatabaseTest, TwoWritersSwitchingAFreshFileToWalAtOnceBothSucceed) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    const auto path = dir_.path() / ("fresh-" + std::to_string(attempt) + ".db");
    std::atomic<int> ready = 0;
    auto open_writer = [&] {
      ready.fetch_add(1);
      while (ready.load() < 2) {
      }
      sqlite::Connection connection(path, {.access = sqlite::Access::kWrite});
      return connection.query("PRAGMA journal_mode", {}).front().text(0);
    };
    auto first = std::async(std::launch::async, open_writer);
    auto second = std::async(std::launch::async, open_writer);
    EXPECT_EQ(first.get(), "wal") << "attempt " << attempt;
    EXPECT_EQ(second.get(), "wal") << "attempt " << attempt;
  }
}

TEST_P(SqliteDatabaseTest, CreatesTheDirectoryAndSetsThePragmas) {
  auto db = open();
  EXPECT_TRUE(std::filesystem::exists(options().path));
  EXPECT_EQ(db->dialect(), Dialect::kSqlite);
  write_value(*db, [](Transaction& s) {
    EXPECT_EQ(s.query_one("PRAGMA journal_mode")->text(0), "wal");
    EXPECT_EQ(s.query_one("PRAGMA synchronous")->integer(0), 2);  // FULL
    EXPECT_EQ(s.query_one("PRAGMA foreign_keys")->integer(0), 1);
    EXPECT_EQ(s.query_one("PRAGMA temp_store")->integer(0), 2);  // MEMORY
    EXPECT_EQ(s.query_one("PRAGMA busy_timeout")->integer(0), 5000);
    EXPECT_EQ(s.query_one("PRAGMA query_only")->integer(0), 0);
    return 0;
  });
  db->read([](Transaction& s) {
    EXPECT_EQ(s.query_one("PRAGMA journal_mode")->text(0), "wal");
    EXPECT_EQ(s.query_one("PRAGMA synchronous")->integer(0), 2);
    EXPECT_EQ(s.query_one("PRAGMA query_only")->integer(0), 1);
    EXPECT_EQ(s.query_one("PRAGMA temp_store")->integer(0), 2);
  });
}

TEST_P(SqliteDatabaseTest, NormalDurabilityOpensAndWorks) {
  auto o = options();
  o.durability = Durability::kNormal;
  auto db = open(o);
  db->write([](Transaction& s) { insert(s, 1); });
  EXPECT_EQ(count_items(*db), 1);
  EXPECT_EQ(write_value(
                *db, [](Transaction& s) { return s.query_one("PRAGMA synchronous")->integer(0); }),
            1);
  EXPECT_EQ(
      read_value(*db, [](Transaction& s) { return s.query_one("PRAGMA synchronous")->integer(0); }),
      1);
}

TEST_P(SqliteDatabaseTest, RejectsNonsensicalOptions) {
  auto o = sqlite_options();
  o.reader_connections = 0;
  EXPECT_THROW(open_sqlite(o), DatabaseError);
  o = sqlite_options();
  o.max_batch = 0;
  EXPECT_THROW(open_sqlite(o), DatabaseError);
}

TEST_P(SqliteDatabaseTest, UnopenableFileIsADatabaseError) {
  auto o = sqlite_options();
  std::filesystem::create_directories(o.path);  // a directory where the file should be
  EXPECT_THROW(open_sqlite(o), DatabaseError);
}

TEST_P(DatabaseTest, PingAnswers) {
  auto db = open();
  EXPECT_TRUE(db->ping());
}

TEST_P(SqliteDatabaseTest, StatsAreOnlyForSqlite) {
  struct Other : Database {
    Dialect dialect() const override { return Dialect::kPostgres; }
    void read(const std::function<void(Transaction&)>&) override {}
    void write(const std::function<void(Transaction&)>&) override {}
    bool ping() override { return true; }
    CommitListenerId add_commit_listener(CommitListener) override { return 0; }
    void remove_commit_listener(CommitListenerId) override {}
  } other;
  EXPECT_EQ(sqlite_stats(other), std::nullopt);
}

TEST_P(SqliteDatabaseTest, CheckpointsRunInTheBackgroundOnceTheWalIsLarge) {
  auto db = open();
  db->write([](Transaction& s) { s.execute("CREATE TABLE blobs (data TEXT)"); });
  const std::string page_sized(4000, 'x');
  for (int i = 0; i < 1200; ++i) {  // each commit appends at least one page to the WAL
    db->write([&](Transaction& s) { s.execute("INSERT INTO blobs VALUES ($1)", {page_sized}); });
  }
  EXPECT_TRUE(store::testing::eventually([&] { return sqlite_stats(*db)->checkpoints >= 1; }));
  EXPECT_EQ(read_value(*db,
                       [](Transaction& s) {
                         return s.query_one("SELECT COUNT(*) FROM blobs")->integer(0);
                       }),
            1200);
}

// Readers that never stop keep a passive checkpoint from ever finishing, so without the restart
// the WAL grows by every page written (here 6,400 pages, 26 MB); with it, it starts over.
TEST_P(SqliteDatabaseTest, TheWalStartsOverUnderWritesThatNeverPauseAndReadersThatNeverStop) {
  auto o = sqlite_options();
  o.durability = Durability::kNormal;  // no flush per commit: the test is about the WAL's size
  o.wal_restart_pages = 1000;
  auto db = open_sqlite_with(o);
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        db->read([](Transaction& s) { s.query_one("SELECT 1 FROM items LIMIT 1"); });
      }
    });
  }
  std::uintmax_t largest_wal = 0;
  const auto wal = std::filesystem::path(o.path.string() + "-wal");
  write_pages(*db, 400, [&] {
    std::error_code ec;
    largest_wal = std::max(largest_wal, std::filesystem::file_size(wal, ec));
  });
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GE(sqlite_stats(*db)->wal_restarts, 1);
  // The restart threshold plus what is committed while the checkpoints run, and the attempts a
  // reader that a busy machine descheduled while it held an old snapshot made fail.
  EXPECT_LT(largest_wal, 5000u * 4096u) << "the WAL kept growing";
  EXPECT_EQ(count_blobs(*db), 6400);
}

// A reader that keeps one snapshot for long (an audit verification) blocks the WAL's restart. The
// writer asks once per large WAL and waits for readers only briefly (not the busy timeout, ten
// minutes here: with it, these writes would take that long per attempt), so the writes go on.
TEST_P(SqliteDatabaseTest, AReaderHoldingAnOldSnapshotDoesNotHoldUpTheWrites) {
  auto o = sqlite_options();
  o.durability = Durability::kNormal;
  o.wal_restart_pages = 1000;
  o.busy_timeout_ms = 600'000;
  auto db = open_sqlite_with(o);
  std::mutex mutex;
  std::condition_variable changed;
  bool reading = false;
  bool writes_done = false;
  std::thread reader([&] {
    db->read([&](Transaction& s) {
      s.query_one("SELECT COUNT(*) FROM items");  // the snapshot is taken here
      std::unique_lock lock(mutex);
      reading = true;
      changed.notify_all();
      changed.wait(lock, [&] { return writes_done; });
    });
  });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return reading; });
  }
  write_pages(*db, 200);  // restarts are asked for on the way
  EXPECT_EQ(sqlite_stats(*db)->wal_restarts, 0);  // the reader was there all along
  {
    std::lock_guard lock(mutex);
    writes_done = true;
  }
  changed.notify_all();
  reader.join();
  EXPECT_EQ(count_blobs(*db), 3200);
}

TEST_P(DatabaseTest, ASavepointThatThrowsRollsBackOnlyItsOwnWrites) {
  auto db = open();
  db->write([](Transaction& s) {
    s.execute("CREATE TABLE savepoint_items (pos INTEGER, name TEXT)");
    s.execute("INSERT INTO savepoint_items VALUES (1, 'before')");
    EXPECT_THROW(s.savepoint([&] {
      s.execute("INSERT INTO savepoint_items VALUES (2, 'inner')");
      s.savepoint([&] {
        s.execute("INSERT INTO savepoint_items VALUES (3, 'nested, kept by its own release')");
      });
      throw std::runtime_error("handler failed");
    }),
                 std::runtime_error);
    s.savepoint([&] { s.execute("INSERT INTO savepoint_items VALUES (4, 'after')"); });
  });
  auto names = read_value(*db, [](Transaction& s) {
    std::vector<std::string> out;
    for (const auto& row : s.query("SELECT name FROM savepoint_items ORDER BY pos"))
      out.push_back(row.text(0));
    return out;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"before", "after"}));
}

// ---- parameters and values -----------------------------------------------------------------

TEST_P(DatabaseTest, BindsPlaceholdersByNumberInAnyOrderAndReused) {
  auto db = open();
  db->write([](Transaction& s) {
    s.execute("CREATE TABLE pairs (a INTEGER, b TEXT)");
    s.execute("INSERT INTO pairs (b, a) VALUES ($2, $1)", {std::int64_t{1}, "one"});
    s.execute("INSERT INTO pairs (a, b) VALUES ($1, $2)", {std::int64_t{2}, "two"});
  });
  db->read([](Transaction& s) {
    auto row =
        s.query_one("SELECT a, b FROM pairs WHERE a = $2 AND b = $1", {"one", std::int64_t{1}});
    ASSERT_TRUE(row);
    EXPECT_EQ(row->integer(0), 1);
    EXPECT_EQ(row->text(1), "one");
    EXPECT_FALSE(
        s.query_one("SELECT a FROM pairs WHERE a = $2 AND b = $1", {"one", std::int64_t{2}}));
    EXPECT_EQ(s.query_one("SELECT $1 + $1 * 10", {std::int64_t{3}})->integer(0), 33);
    EXPECT_EQ(s.query_one("SELECT $2 || $1 || $2", {"b", "a"})->text(0), "aba");
  });
}

TEST_P(DatabaseTest, TheSameSqlWithOtherParametersUsesFreshBindings) {
  auto db = open();
  db->write([](Transaction& s) {
    for (std::int64_t k = 1; k <= 3; ++k) insert(s, k);
  });
  db->read([](Transaction& s) {
    for (std::int64_t k = 1; k <= 3; ++k) {
      EXPECT_EQ(s.query_one("SELECT v FROM items WHERE k = $1", {k})->text(0),
                std::string("v").append(std::to_string(k)));  // "v" + ...: GCC 12 -Wrestrict
    }
  });
}

TEST_P(DatabaseTest, RejectsParameterMismatches) {
  auto db = open();
  db->read([](Transaction& s) {
    EXPECT_THROW(s.query("SELECT $1, $2", {std::int64_t{1}}), DatabaseError);
    EXPECT_THROW(s.query("SELECT $1", {std::int64_t{1}, std::int64_t{2}}), DatabaseError);
    EXPECT_THROW(s.query("SELECT $1, $3", {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}}),
                 DatabaseError);
    EXPECT_THROW(s.query("SELECT ?", {std::int64_t{1}}), DatabaseError);
    EXPECT_THROW(s.query("SELECT :name", {std::int64_t{1}}), DatabaseError);
    // The statement stays usable after a failed bind.
    EXPECT_EQ(s.query_one("SELECT $1, $2", {std::int64_t{1}, std::int64_t{2}})->integer(1), 2);
  });
}

// One untyped column holding every kind of value: SQLite's dynamic typing. PostgreSQL's columns
// are typed; its round trips are PostgresDatabaseTest.RoundTripsEveryValueTypeInTypedColumns.
TEST_P(SqliteDatabaseTest, RoundTripsEveryValueType) {
  auto db = open();
  const std::vector<Value> values = {
      std::monostate{},
      std::int64_t{0},
      std::numeric_limits<std::int64_t>::max(),
      std::numeric_limits<std::int64_t>::min(),
      0.1,
      -1.5e300,
      ""s,
      "a\0b\0"s,
      "emoji \xF0\x9F\x98\x80 and \xE2\x9C\x93"s,
      "\xFF\xFE not UTF-8"s,
  };
  db->write([&](Transaction& s) {
    s.execute("CREATE TABLE anything (n INTEGER PRIMARY KEY, x)");
    for (std::size_t i = 0; i < values.size(); ++i) {
      s.execute("INSERT INTO anything (n, x) VALUES ($1, $2)",
                {static_cast<std::int64_t>(i), values[i]});
    }
  });
  const auto rows =
      read_value(*db, [](Transaction& s) { return s.query("SELECT x FROM anything ORDER BY n"); });
  ASSERT_EQ(rows.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(rows[i].size(), 1u);
    if (std::holds_alternative<std::monostate>(values[i])) {
      EXPECT_TRUE(rows[i].is_null(0)) << i;
    } else if (const auto* n = std::get_if<std::int64_t>(&values[i])) {
      EXPECT_EQ(rows[i].integer(0), *n) << i;
    } else if (const auto* d = std::get_if<double>(&values[i])) {
      EXPECT_EQ(rows[i].real(0), *d) << i;
    } else {
      EXPECT_EQ(rows[i].text(0), std::get<std::string>(values[i])) << i;
    }
  }
  // The empty string stays text, not NULL; the text with NUL bytes keeps its length.
  db->read([](Transaction& s) {
    EXPECT_EQ(
        s.query_one("SELECT typeof(x), length(CAST(x AS BLOB)) FROM anything WHERE n = 6")->text(0),
        "text");
    EXPECT_EQ(s.query_one("SELECT length(CAST(x AS BLOB)) FROM anything WHERE n = 7")->integer(0),
              4);
  });
}

// SQLite's blob literals and casts; PostgreSQL's bytea: ServerTypesMapToIntegersRealsAndBytes.
TEST_P(SqliteDatabaseTest, ReadsBlobsByteForByte) {
  auto db = open();
  db->read([](Transaction& s) {
    EXPECT_EQ(s.query_one("SELECT X'00FF10'")->text(0), "\x00\xFF\x10"s);
    EXPECT_EQ(s.query_one("SELECT X''")->text(0), "");
    EXPECT_EQ(s.query_one("SELECT CAST($1 AS BLOB)", {"a\0b"s})->text(0), "a\0b"s);
  });
}

// ---- statements and errors -----------------------------------------------------------------

TEST_P(DatabaseTest, ExecuteReturnsTheRowsThisStatementChanged) {
  auto db = open();
  db->write([](Transaction& s) {
    for (std::int64_t k = 1; k <= 3; ++k) insert(s, k);
    EXPECT_EQ(s.execute("UPDATE items SET v = 'x' WHERE k >= $1", {std::int64_t{2}}), 2);
    EXPECT_EQ(s.execute("CREATE TABLE other (a INTEGER)"), 0);  // not the previous UPDATE's 2
    EXPECT_EQ(s.execute("UPDATE items SET v = 'y' WHERE k > 100"), 0);
    EXPECT_EQ(s.execute("DELETE FROM items"), 3);
  });
}

// query_each reads each row in place and says what query()'s Rows say, errors included.
TEST_P(DatabaseTest, QueryEachSeesTheRowsQueryReturnsInOrderWithTheSameErrors) {
  auto db = open();
  db->write([](Transaction& s) {
    for (std::int64_t k = 1; k <= 3; ++k) insert(s, k);
    s.execute("INSERT INTO items (k, v) VALUES (4, NULL)");
    s.execute("INSERT INTO items (k, v) VALUES (5, $1)", {"ünï \"quoted\"\nline"s});
  });
  auto error_of = [](const auto& call) -> std::string {
    try {
      call();
    } catch (const DatabaseError& e) {
      return e.what();
    }
    return "no DatabaseError";
  };
  const std::string sql = "SELECT k, v FROM items WHERE k >= $1 ORDER BY k";
  auto check = [&](Transaction& s) {
    const auto rows = s.query(sql, {std::int64_t{2}});
    std::size_t n = 0;
    const Value from[] = {std::int64_t{2}};
    s.query_each(sql, from, [&](const RowView& view) {
      ASSERT_LT(n, rows.size());
      const Row& row = rows[n++];
      EXPECT_EQ(view.size(), 2u);
      EXPECT_EQ(view.integer(0), row.integer(0));
      EXPECT_EQ(view.is_null(1), row.is_null(1));
      EXPECT_EQ(view.optional_text(1), row.optional_text(1));
      EXPECT_EQ(view.optional_integer(0), row.optional_integer(0));
      if (!row.is_null(1)) {
        EXPECT_EQ(view.text(1), row.text(1));
      }
      EXPECT_EQ(error_of([&] { view.integer(1); }), error_of([&] { row.integer(1); }));
      EXPECT_EQ(error_of([&] { view.text(0); }), error_of([&] { row.text(0); }));
      EXPECT_EQ(error_of([&] { view.is_null(2); }), error_of([&] { row.is_null(2); }));
    });
    EXPECT_EQ(n, 4u);
    EXPECT_EQ(rows.back().text(1), "ünï \"quoted\"\nline"s);
  };
  db->read(check);
  db->write(check);
  // A one-statement read lets it through once, like a query.
  db->read_statement([&](Transaction& s) {
    int seen = 0;
    s.query_each("SELECT k FROM items", {}, [&](const RowView&) { ++seen; });
    EXPECT_EQ(seen, 5);
    EXPECT_THROW(s.query("SELECT 1"), DatabaseError);
  });
}

TEST_P(DatabaseTest, ExecuteRunsExactlyOneStatement) {
  auto db = open();
  db->write([](Transaction& s) {
    EXPECT_THROW(s.execute("INSERT INTO items (k) VALUES (1); INSERT INTO items (k) VALUES (2)"),
                 DatabaseError);
    EXPECT_THROW(s.execute("SELECT 1; garbage"), DatabaseError);
    EXPECT_THROW(s.execute("  -- nothing"), DatabaseError);
    s.execute("INSERT INTO items (k) VALUES (3);  -- a trailing semicolon and comment are fine");
  });
  EXPECT_EQ(count_items(*db), 1);
}

TEST_P(DatabaseTest, ExecuteScriptRunsSeveralStatements) {
  auto db = open();
  db->write([](Transaction& s) {
    s.execute_script(
        "-- a script\n"
        "INSERT INTO items (k) VALUES (1);\n"
        "INSERT INTO items (k, v) VALUES (2, 'semi;colon');\n"
        "/* done */");
    EXPECT_THROW(s.execute_script("INSERT INTO items (k) VALUES ($1)"), DatabaseError);
  });
  EXPECT_EQ(count_items(*db), 2);
}

TEST_P(DatabaseTest, SyntaxErrorNamesTheSqlAndTheReason) {
  auto db = open();
  try {
    db->read([](Transaction& s) { s.query("SELEKT 1 FROM items"); });
    FAIL() << "no exception";
  } catch (const ConstraintViolation&) {
    FAIL() << "not a constraint violation";
  } catch (const DatabaseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("SELEKT 1 FROM items"));
    EXPECT_THAT(e.what(), HasSubstr("syntax error"));
  }
}

TEST_P(DatabaseTest, LongSqlIsShortenedInMessages) {
  auto db = open();
  const std::string sql = "SELEKT '" + std::string(500, 'x') + "'";
  try {
    db->read([&](Transaction& s) { s.query(sql); });
    FAIL() << "no exception";
  } catch (const DatabaseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("SELEKT 'xxx"));
    EXPECT_LT(std::string(e.what()).size(), 300u);
  }
}

TEST_P(DatabaseTest, ConstraintsThrowConstraintViolation) {
  auto db = open();
  db->write([](Transaction& s) {
    s.execute_script(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, email TEXT UNIQUE);"
        "CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id));"
        "INSERT INTO parent (id, email) VALUES (1, 'a@example.com')");
  });
  auto violation = [&](std::string_view sql) -> std::string {
    try {
      db->write([&](Transaction& s) { s.execute(sql); });
    } catch (const ConstraintViolation& e) {
      return e.what();
    }
    return "no ConstraintViolation";
  };
  EXPECT_THAT(violation("INSERT INTO parent (id, email) VALUES (2, 'a@example.com')"),
              HasSubstr("UNIQUE constraint failed: parent.email"));
  EXPECT_THAT(violation("INSERT INTO child (parent_id) VALUES (99)"), HasSubstr("FOREIGN KEY"));
  EXPECT_THAT(violation("INSERT INTO child (parent_id) VALUES (NULL)"), HasSubstr("NOT NULL"));
}

TEST_P(DatabaseTest, ReadsCannotWrite) {
  auto db = open();
  EXPECT_THROW(db->read([](Transaction& s) { insert(s, 1); }), DatabaseError);
  EXPECT_EQ(count_items(*db), 0);
}

TEST_P(DatabaseTest, WorkCannotControlTheTransaction) {
  auto db = open();
  for (const char* sql : {"COMMIT", "ROLLBACK", "BEGIN", "SAVEPOINT x", "RELEASE w", "END"}) {
    EXPECT_THROW(db->write([&](Transaction& s) {
      insert(s, 1);
      s.execute(sql);
    }),
                 DatabaseError)
        << sql;
    EXPECT_THROW(db->read([&](Transaction& s) { s.execute(sql); }), DatabaseError) << sql;
    EXPECT_THROW(db->write([&](Transaction& s) { s.execute_script(sql); }), DatabaseError) << sql;
  }
  EXPECT_EQ(count_items(*db), 0);
  db->write([](Transaction& s) { insert(s, 2); });  // the writer is still in order
  EXPECT_EQ(count_items(*db), 1);
}

// ---- read transactions ---------------------------------------------------------------------

TEST_P(DatabaseTest, ReadRethrowsTheWorksExceptionAndFreesTheConnection) {
  auto o = options();
  o.reader_connections = 1;
  auto db = open(o);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THROW(db->read([&](Transaction& s) {
      s.query("SELECT * FROM items");
      throw Refused(i);
    }),
                 Refused);
  }
  EXPECT_EQ(count_items(*db), 0);  // the single connection is free and outside a transaction
}

// read_statement(): one SELECT (PostgreSQL sends it without BEGIN and COMMIT); anything more, or
// anything else, is refused before it reaches the database, on every backend.
TEST_P(DatabaseTest, AOneStatementReadRunsOneSelectAndRefusesMore) {
  auto o = options();
  o.reader_connections = 1;
  auto db = open(o);
  db->write([](Transaction& s) { insert(s, 1); });
  EXPECT_EQ(read_statement_value(*db,
                                 [](Transaction& s) {
                                   return s.query_one("SELECT COUNT(*) FROM items")->integer(0);
                                 }),
            1);
  db->read_statement([](Transaction&) {});  // no statement at all
  try {
    db->read_statement([](Transaction& s) {
      s.query("SELECT * FROM items");
      s.query("SELECT COUNT(*) FROM items");
    });
    FAIL() << "a second statement ran";
  } catch (const DatabaseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a second statement"));
  }
  for (const char* sql :
       {"INSERT INTO items (k, v) VALUES (9, 'x')",
        "WITH x AS (DELETE FROM items RETURNING k) SELECT k FROM x", " selected"}) {
    try {
      db->read_statement([&](Transaction& s) { s.execute(sql); });
      FAIL() << sql << " ran";
    } catch (const DatabaseError& e) {
      EXPECT_THAT(e.what(), HasSubstr("only a SELECT")) << sql;
    }
  }
  EXPECT_THROW(db->read_statement([](Transaction& s) {
    s.query(" select COUNT(*) FROM items");
    throw Refused(1);
  }),
               Refused);
  EXPECT_EQ(count_items(*db), 1);  // the one connection is free and nothing was written
}

// read_statement_async(): the rows of one SELECT, then its outcome; every refusal and failure
// reaches `done` (nothing throws at the caller), and a throwing `each` fails its read only.
TEST_P(DatabaseTest, AnAsynchronousReadGivesItsRowsThenItsOutcome) {
  auto db = open();
  db->write([](Transaction& s) {
    for (int k = 1; k <= 3; ++k) insert(s, k);
  });
  auto all = read_async(*db, "SELECT k FROM items ORDER BY k DESC");
  EXPECT_EQ(all.message(), "");
  EXPECT_EQ(all.keys, (std::vector<std::int64_t>{3, 2, 1}));
  auto some = read_async(*db, "SELECT k FROM items WHERE k >= $1 AND v <> $2 ORDER BY k",
                         {std::int64_t{2}, "v3"});
  EXPECT_EQ(some.message(), "");
  EXPECT_EQ(some.keys, (std::vector<std::int64_t>{2}));
  EXPECT_TRUE(read_async(*db, "SELECT k FROM items WHERE k > 9").keys.empty());

  EXPECT_THAT(read_async(*db, "INSERT INTO items (k, v) VALUES (9, 'x')").message(),
              HasSubstr("only a SELECT"));
  EXPECT_THAT(read_async(*db, "SELECT 1; SELECT 2").message(), HasSubstr("one statement"));
  EXPECT_THAT(read_async(*db, "SELECT k FROM items WHERE k = $1").message(),
              HasSubstr("parameter"));
  EXPECT_THAT(read_async(*db, "SELECT k FROM no_such_table").message(), HasSubstr("no_such_table"));

  std::promise<std::exception_ptr> thrown;
  db->read_statement_async(
      "SELECT k FROM items", {}, [](const RowView&) { throw Refused(7); },
      [&](std::exception_ptr e) { thrown.set_value(e); });
  EXPECT_THROW(std::rethrow_exception(thrown.get_future().get()), Refused);
  EXPECT_EQ(read_async(*db, "SELECT COUNT(*) FROM items").keys, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(count_items(*db), 3);  // nothing was written
}

// Many reads at once from several threads (on PostgreSQL they go in pipelines together): each
// gets its own rows, and one that fails fails alone.
TEST_P(DatabaseTest, ConcurrentAsynchronousReadsEachGetTheirOwnAnswer) {
  auto db = open();
  db->write([](Transaction& s) {
    for (int k = 1; k <= 20; ++k) insert(s, k);
  });
  constexpr int kThreads = 4;
  constexpr int kReadsEach = 50;
  std::vector<std::vector<std::future<AsyncRead>>> futures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReadsEach; ++i) {
        const std::int64_t k = 1 + (t * kReadsEach + i) % 20;
        // Every third read overflows on the server: it fails, the others do not.
        const std::int64_t added = i % 3 == 0 ? std::numeric_limits<std::int64_t>::min() : 0;
        futures[t].push_back(
            start_read(*db, "SELECT k + abs($2) FROM items WHERE k = $1", {k, added}));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kReadsEach; ++i) {
      SCOPED_TRACE("thread " + std::to_string(t) + " read " + std::to_string(i));
      const AsyncRead read = futures[t][i].get();
      if (i % 3 == 0) {
        EXPECT_THAT(read.message(), ::testing::AnyOf(HasSubstr("integer overflow"),
                                                     HasSubstr("bigint out of range")));
        EXPECT_TRUE(read.keys.empty());
      } else {
        EXPECT_EQ(read.message(), "");
        EXPECT_EQ(read.keys, (std::vector<std::int64_t>{1 + (t * kReadsEach + i) % 20}));
      }
    }
  }
}

// More distinct statement texts than the scans remembered per thread (PostgreSQL: 512, then they
// start over): each is still checked, and runs with its own parameters.
TEST_P(DatabaseTest, ManyDistinctStatementTextsAreEachCheckedAndRun) {
  auto db = open();
  for (std::int64_t i = 0; i < 600; ++i) {
    const std::string sql = "SELECT $1 + " + std::to_string(i);
    EXPECT_EQ(read_value(*db, [&](Transaction& s) { return s.query_one(sql, {i})->integer(0); }),
              2 * i);
    EXPECT_THROW(read_value(*db,
                            [&](Transaction& s) {
                              return s.query(sql, {i, i}).size();
                            }),
                 DatabaseError);
  }
}

// Reads queued when the database closes are run and answered first.
TEST_P(DatabaseTest, ClosingTheDatabaseAnswersTheAsynchronousReadsQueued) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  std::vector<std::future<AsyncRead>> futures;
  for (int i = 0; i < 30; ++i) futures.push_back(start_read(*db, "SELECT k FROM items"));
  db.reset();
  for (auto& future : futures) {
    const AsyncRead read = future.get();
    EXPECT_EQ(read.message(), "");
    EXPECT_EQ(read.keys, (std::vector<std::int64_t>{1}));
  }
}

TEST_P(DatabaseTest, NestedReadIsDetected) {
  auto db = open();
  try {
    db->read([&](Transaction&) { db->read([](Transaction&) {}); });
    FAIL() << "no exception";
  } catch (const DatabaseError& e) {
    EXPECT_STREQ(e.what(), "nested read");
  }
  EXPECT_TRUE(db->ping());
}

TEST_P(DatabaseTest, AReadSeesThePreCommitSnapshotWhileAWriteIsInProgress) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  std::promise<void> inserted;
  std::promise<void> checked;
  auto writer = std::async(std::launch::async, [&] {
    db->write([&](Transaction& s) {
      insert(s, 2);
      inserted.set_value();
      checked.get_future().wait();
    });
  });
  inserted.get_future().wait();
  // The write transaction is open and holds row 2; readers are not blocked by it.
  EXPECT_EQ(count_items(*db), 1);
  checked.set_value();
  writer.get();
  EXPECT_EQ(count_items(*db), 2);
}

TEST_P(DatabaseTest, ReadsUseSeveralConnectionsAtOnce) {
  auto o = options();
  o.reader_connections = 2;
  auto db = open(o);
  std::promise<void> first_inside;
  std::promise<void> second_done;
  auto second_done_future = second_done.get_future().share();
  auto first = std::async(std::launch::async, [&] {
    db->read([&](Transaction& s) {
      s.query("SELECT 1");
      first_inside.set_value();
      second_done_future.wait();
    });
  });
  first_inside.get_future().wait();
  auto second = std::async(std::launch::async, [&] { return count_items(*db); });
  const bool concurrent = second.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  second_done.set_value();  // release the first read either way
  first.get();
  EXPECT_TRUE(concurrent) << "the second read waited for the first";
  EXPECT_EQ(second.get(), 0);
}

TEST_P(DatabaseTest, ManyReadersAlwaysSeeWholeWrites) {
  auto o = options();
  o.reader_connections = 2;  // fewer than the reading threads: they queue for connections
  auto db = open(o);
  // Every write moves 1 from row 1 to row 2 in two statements; the sum is always 100.
  db->write(
      [](Transaction& s) { s.execute("INSERT INTO items (k, v) VALUES (1, '100'), (2, '0')"); });
  std::atomic<bool> writing{true};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 6; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 50 || writing; ++i) {
        const auto sum = read_value(*db, [](Transaction& s) {
          const auto a =
              s.query_one("SELECT CAST(v AS INTEGER) FROM items WHERE k = 1")->integer(0);
          const auto b =
              s.query_one("SELECT CAST(v AS INTEGER) FROM items WHERE k = 2")->integer(0);
          return a + b;
        });
        if (sum != 100) ++torn;
        if (i > 10000) break;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        db->write([](Transaction& s) {
          s.execute("UPDATE items SET v = CAST(v AS INTEGER) - 1 WHERE k = 1");
          s.execute("UPDATE items SET v = CAST(v AS INTEGER) + 1 WHERE k = 2");
        });
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  for (auto& r : readers) r.join();
  EXPECT_EQ(torn, 0);
  db->read([](Transaction& s) {
    EXPECT_EQ(s.query_one("SELECT v FROM items WHERE k = 2")->text(0), "100");
  });
}

// ---- writes and group commit ---------------------------------------------------------------

TEST_P(DatabaseTest, AWriteThatThrowsIsRolledBackAndItsExceptionReachesTheCaller) {
  auto db = open();
  try {
    db->write([](Transaction& s) {
      insert(s, 1);
      throw Refused(7);
    });
    FAIL() << "no exception";
  } catch (const Refused& e) {
    EXPECT_EQ(e.number, 7);
  }
  EXPECT_EQ(count_items(*db), 0);
  db->write([](Transaction& s) { insert(s, 1); });  // the savepoint was released; the key is free
  EXPECT_EQ(count_items(*db), 1);
}

TEST_P(DatabaseTest, AWriteMayRecoverFromItsOwnConstraintViolation) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  db->write([](Transaction& s) {
    insert(s, 2);
    EXPECT_THROW(insert(s, 1), ConstraintViolation);
    insert(s, 3);
  });
  EXPECT_EQ(count_items(*db), 3);
}

TEST_P(DatabaseTest, WriteValueReturnsTheWorksResult) {
  auto db = open();
  EXPECT_EQ(write_value(*db,
                        [](Transaction& s) {
                          insert(s, 5);
                          return std::string("done");
                        }),
            "done");
}

// Holds the writer thread inside a write until `queued` more writes wait behind it, so the next
// batch is known exactly: no timing decides what shares a commit.
class WriterGate {
 public:
  WriterGate(Database& db, std::int64_t queued) : db_(db) {
    thread_ = std::thread([this, queued] {
      db_.write([&](Transaction&) {
        inside_.set_value();
        reached_ = eventually([&] { return write_stats(db_).pending >= queued; });
      });
    });
    inside_.get_future().wait();
  }
  ~WriterGate() { join(); }
  // Waits until the gated write committed; true when the queue filled up before the deadline.
  bool join() {
    if (thread_.joinable()) thread_.join();
    return reached_;
  }

 private:
  Database& db_;
  std::promise<void> inside_;
  bool reached_ = false;
  std::thread thread_;
};

TEST_P(DatabaseTest, QueuedWritesShareOneCommit) {
  auto db = open();
  const auto before = stats(*db);
  std::vector<std::thread> threads;
  {
    WriterGate gate(*db, 10);
    for (std::int64_t k = 0; k < 10; ++k) {
      threads.emplace_back([&, k] { db->write([&](Transaction& s) { insert(s, k); }); });
    }
    EXPECT_TRUE(gate.join());
  }
  for (auto& t : threads) t.join();
  const auto after = stats(*db);
  EXPECT_EQ(after.writes - before.writes, 11);
  EXPECT_EQ(after.commits - before.commits, 2);  // the gate's own, then all ten together
  EXPECT_EQ(after.pending, 0);
  EXPECT_EQ(count_items(*db), 10);
}

TEST_P(DatabaseTest, ABatchHoldsAtMostMaxBatchWrites) {
  auto db = open_with_max_batch(4);
  const auto before = stats(*db);
  std::vector<std::thread> threads;
  {
    WriterGate gate(*db, 10);
    for (std::int64_t k = 0; k < 10; ++k) {
      threads.emplace_back([&, k] { db->write([&](Transaction& s) { insert(s, k); }); });
    }
    EXPECT_TRUE(gate.join());
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stats(*db).commits - before.commits, 1 + 3);  // the gate, then 4 + 4 + 2
  EXPECT_EQ(count_items(*db), 10);
}

TEST_P(DatabaseTest, AFailedWriteInABatchLeavesTheOthersCommitted) {
  auto db = open();
  const auto before = stats(*db);
  std::vector<std::future<void>> results;
  {
    WriterGate gate(*db, 6);
    for (std::int64_t k = 0; k < 6; ++k) {
      results.push_back(std::async(std::launch::async, [&, k] {
        db->write([&](Transaction& s) {
          insert(s, k);
          if (k % 2 == 1) throw Refused(static_cast<int>(k));
        });
      }));
    }
    EXPECT_TRUE(gate.join());
  }
  for (std::int64_t k = 0; k < 6; ++k) {
    if (k % 2 == 1) {
      try {
        results[k].get();
        ADD_FAILURE() << k << " returned normally";
      } catch (const Refused& e) {
        EXPECT_EQ(e.number, k);
      }
    } else {
      EXPECT_NO_THROW(results[k].get()) << k;
    }
  }
  EXPECT_EQ(stats(*db).commits - before.commits, 2);  // all six shared one commit
  const auto keys =
      read_value(*db, [](Transaction& s) { return s.query("SELECT k FROM items ORDER BY k"); });
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].integer(0), 0);
  EXPECT_EQ(keys[1].integer(0), 2);
  EXPECT_EQ(keys[2].integer(0), 4);
}

// A batch runs without a savepoint per write: a write that fails before changing anything just
// fails; one that fails after changing something makes the batch run again without it (the
// others run twice, as Database::write allows) and keeps nothing of its own.
TEST_P(DatabaseTest, OnlyAWriteThatFailsAfterChangingSomethingMakesItsBatchRunAgain) {
  for (const bool changes_first : {false, true}) {
    auto db = open();
    db->write([](Transaction& s) { s.execute("DELETE FROM items"); });
    std::array<std::atomic<int>, 4> runs{};
    std::vector<std::future<void>> results;
    {
      WriterGate gate(*db, 4);
      for (std::int64_t k = 0; k < 4; ++k) {
        results.push_back(std::async(std::launch::async, [&, k] {
          db->write([&](Transaction& s) {
            ++runs[k];
            if (k == 1) {
              if (changes_first) insert(s, 100);
              throw Refused(1);
            }
            insert(s, k);
          });
        }));
      }
      EXPECT_TRUE(gate.join());
    }
    for (std::int64_t k = 0; k < 4; ++k) {
      if (k == 1) {
        EXPECT_THROW(results[k].get(), Refused);
      } else {
        EXPECT_NO_THROW(results[k].get());
      }
    }
    EXPECT_EQ(runs[1].load(), 1) << changes_first;
    for (const int k : {0, 2, 3}) {
      // In the batch's order: the writes before the failed one ran again, those after it once.
      // The gate decides that order, so only the bounds are certain.
      EXPECT_GE(runs[k].load(), 1) << k;
      EXPECT_LE(runs[k].load(), changes_first ? 2 : 1) << k << " " << changes_first;
    }
    EXPECT_EQ(count_items(*db), 3) << changes_first;
    EXPECT_EQ(read_value(*db,
                         [](Transaction& s) {
                           return s.query_one("SELECT COUNT(*) FROM items WHERE k = 100")
                               ->integer(0);
                         }),
              0);
  }
}

TEST_P(DatabaseTest, ConcurrentWritesCommitExactlyThoseThatDidNotThrow) {
  auto db = open();
  constexpr int kThreads = 16;
  constexpr int kWrites = 50;
  std::atomic<int> refused{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const std::int64_t k = t * kWrites + i;
        try {
          db->write([&](Transaction& s) {
            // No work sees another's half-applied or rolled-back rows: its key is still free.
            if (s.query_one("SELECT COUNT(*) FROM items WHERE k = $1", {k})->integer(0) != 0)
              ++wrong;
            insert(s, k);
            if (k % 2 == 1) throw Refused(static_cast<int>(k));
          });
          if (k % 2 == 1) ++wrong;
        } catch (const Refused& e) {
          if (e.number != k) ++wrong;
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(refused, kThreads * kWrites / 2);
  const auto rows = read_value(*db, [](Transaction& s) { return s.query("SELECT k FROM items"); });
  std::set<std::int64_t> keys;
  for (const auto& row : rows) keys.insert(row.integer(0));
  std::set<std::int64_t> expected;
  for (std::int64_t k = 0; k < kThreads * kWrites; k += 2) expected.insert(k);
  EXPECT_EQ(keys, expected);
  const auto s = stats(*db);
  EXPECT_EQ(s.pending, 0);
  EXPECT_LE(s.commits, s.writes);
}

TEST_P(DatabaseTest, NestedWriteIsDetected) {
  auto db = open();
  try {
    db->write([&](Transaction& s) {
      insert(s, 1);
      db->write([](Transaction& inner) { insert(inner, 2); });
    });
    FAIL() << "no exception";
  } catch (const DatabaseError& e) {
    EXPECT_STREQ(e.what(), "nested write");
  }
  EXPECT_EQ(count_items(*db), 0);
}

TEST_P(DatabaseTest, AReadInsideAWriteSeesTheLastCommit) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  db->write([&](Transaction& s) {
    insert(s, 2);
    EXPECT_EQ(count_items(*db), 1);
  });
  EXPECT_EQ(count_items(*db), 2);
}

// ---- lifetime ------------------------------------------------------------------------------

TEST_P(DatabaseTest, DataSurvivesReopening) {
  {
    auto db = open();
    db->write([](Transaction& s) { insert(s, 1); });
  }
  auto db = open();
  EXPECT_EQ(count_items(*db), 1);
}

// The outcomes of asynchronous writes, as their `done` calls report them (on the writer thread):
// "" for a commit, else the error's message, read there. (An exception_ptr kept for the test's
// thread would be released on either thread, and ThreadSanitizer cannot see libstdc++'s
// reference count: it would report the exception's memory freed by one and read by the other.)
class AsyncOutcomes {
 public:
  std::function<void(std::exception_ptr)> done(std::int64_t k) {
    return [this, k](std::exception_ptr error) {
      std::string outcome;
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          outcome = e.what();
        }
      }
      std::lock_guard lock(mutex_);
      outcomes_[k] = std::move(outcome);
      changed_.notify_all();
    };
  }
  // Waits (at most 20 s) until `n` writes reported; returns their outcomes by key.
  std::map<std::int64_t, std::string> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(20), [&] { return outcomes_.size() >= n; });
    return outcomes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::int64_t, std::string> outcomes_;
};

// Closing runs every queued write, waiting callers' and asynchronous ones alike, and tells each.
TEST_P(DatabaseTest, ClosingFinishesQueuedWrites) {
  auto db = open();
  std::vector<std::thread> threads;
  AsyncOutcomes outcomes;
  std::promise<void> inside;
  std::promise<void> closing;
  std::thread gated([&] {
    db->write([&](Transaction&) {
      inside.set_value();
      closing.get_future().wait();
    });
  });
  inside.get_future().wait();  // the writer thread is held; the next six writes queue up
  for (std::int64_t k = 0; k < 3; ++k) {
    threads.emplace_back([&, k] { db->write([&](Transaction& s) { insert(s, k); }); });
  }
  for (std::int64_t k = 3; k < 6; ++k) {
    db->write_async([k](Transaction& s) { insert(s, k); }, outcomes.done(k));
  }
  EXPECT_TRUE(eventually([&] { return stats(*db).pending >= 6; }));
  std::thread closer([&] {
    closing.set_value();
    db.reset();  // returns once every queued write ran and its caller got its answer
  });
  closer.join();
  gated.join();
  for (auto& t : threads) t.join();
  const auto heard = outcomes.wait_for(3);
  ASSERT_EQ(heard.size(), 3u);
  for (const auto& [k, outcome] : heard) EXPECT_EQ(outcome, "") << k;
  db = open();
  EXPECT_EQ(count_items(*db), 6);
}

TEST_P(DatabaseTest, AsynchronousWritesOfOneThreadShareOneCommitAndEachHearsItsOutcome) {
  auto db = open();
  const auto before = stats(*db);
  AsyncOutcomes outcomes;
  {
    WriterGate gate(*db, 40);
    for (std::int64_t k = 0; k < 40; ++k) {
      db->write_async(
          [k](Transaction& s) {
            insert(s, k);
            if (k % 10 == 9) throw Refused(static_cast<int>(k));
          },
          outcomes.done(k));
    }
    EXPECT_TRUE(gate.join());
  }
  const auto heard = outcomes.wait_for(40);
  ASSERT_EQ(heard.size(), 40u);
  for (const auto& [k, outcome] : heard) {
    EXPECT_EQ(outcome, k % 10 == 9 ? Refused(static_cast<int>(k)).what() : "") << k;
  }
  EXPECT_EQ(stats(*db).commits - before.commits, 2);  // the gate's, then all forty together
  EXPECT_EQ(count_items(*db), 36);
}

// An unread statement (Transaction::execute_unread) that fails fails its own write and no other
// of its group commit, wherever the failure surfaces: at once (SQLite), from a later statement of
// the write, even one whose failure the work catches, from the next write's first statement, or
// just before COMMIT (PostgreSQL, which sends it with the next statement that waits).
TEST_P(DatabaseTest, AnUnreadStatementsFailureFailsOnlyItsOwnWrite) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 100); });
  const auto insert_unread = [](Transaction& s, std::int64_t k) {
    s.execute_unread("INSERT INTO items (k, v) VALUES ($1, $2)", {k, "v" + std::to_string(k)});
  };
  const auto count = [](Transaction& s) { s.query("SELECT COUNT(*) FROM items"); };
  AsyncOutcomes outcomes;
  {
    WriterGate gate(*db, 6);
    db->write_async([](Transaction& s) { insert(s, 0); }, outcomes.done(0));
    db->write_async(
        [&](Transaction& s) {
          insert_unread(s, 1);
          insert_unread(s, 100);  // a duplicate key
          count(s);
        },
        outcomes.done(1));
    db->write_async(
        [&](Transaction& s) {
          insert_unread(s, 2);
          count(s);
        },
        outcomes.done(2));
    db->write_async(
        [&](Transaction& s) {
          insert_unread(s, 3);
          insert_unread(s, 100);
          try {
            count(s);  // where PostgreSQL throws the failure: caught, yet the write fails
          } catch (const DatabaseError&) {
          }
        },
        outcomes.done(3));
    db->write_async([&](Transaction& s) { insert_unread(s, 4); }, outcomes.done(4));
    db->write_async(
        [&](Transaction& s) {
          insert_unread(s, 5);
          insert_unread(s, 100);  // the batch's last statement: sent before COMMIT
        },
        outcomes.done(5));
    EXPECT_TRUE(gate.join());
  }
  const auto heard = outcomes.wait_for(6);
  ASSERT_EQ(heard.size(), 6u);
  for (const auto& [k, outcome] : heard) {
    if (k % 2 == 0) {
      EXPECT_EQ(outcome, "") << k;
    } else {
      EXPECT_THAT(outcome, HasSubstr("items")) << k;  // the duplicate key's violation
    }
  }
  const auto keys = item_keys(*db);
  EXPECT_EQ(keys, (std::vector<std::int64_t>{0, 2, 4, 100}));
}

// A savepoint is where a work catches failures (the log bus runs each event's handler in one):
// an unread statement queued inside it fails there, its effects rolled back with the savepoint's,
// and the write goes on — even when PostgreSQL sends it only with the next savepoint's statement
// (the write then runs again with a savepoint per statement, where it fails at once).
TEST_P(DatabaseTest, AnUnreadStatementsFailureInsideASavepointIsThatSavepointsOwn) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  std::vector<std::string> failed;
  db->write([&](Transaction& s) {
    failed.clear();  // the work may run again
    const auto handle = [&](const std::string& name, const std::function<void()>& work) {
      try {
        s.savepoint(work);
      } catch (const ConstraintViolation&) {
        failed.push_back(name);
      }
    };
    handle("first", [&] {
      s.execute_unread("INSERT INTO items (k, v) VALUES ($1, $2)", {std::int64_t{2}, "v2"});
      s.execute_unread("INSERT INTO items (k, v) VALUES ($1, $2)", {std::int64_t{1}, "again"});
    });
    handle("second", [&] {
      s.execute_unread("INSERT INTO items (k, v) VALUES ($1, $2)", {std::int64_t{4}, "v4"});
      s.query("SELECT COUNT(*) FROM items");
    });
    insert(s, 3);
  });
  EXPECT_EQ(failed, (std::vector<std::string>{"first"}));
  const auto keys = item_keys(*db);
  EXPECT_EQ(keys, (std::vector<std::int64_t>{1, 3, 4}));
}

TEST_P(DatabaseTest, EveryCommitListenerIsCalledAfterACommitUntilRemoved) {
  auto db = open();
  std::atomic<int> first = 0;
  std::atomic<int> second = 0;
  const auto a = db->add_commit_listener([&](const LogAppends&) { ++first; });
  {
    ScopedCommitListener b(*db, [&](const LogAppends&) { ++second; });
    db->write([](Transaction& s) { s.execute("CREATE TABLE t (x INTEGER)"); });
    EXPECT_TRUE(eventually([&] { return first.load() == 1 && second.load() == 1; }));
  }
  // b is gone: only a is called.
  db->write([](Transaction& s) { s.execute("INSERT INTO t VALUES (1)"); });
  EXPECT_TRUE(eventually([&] { return first.load() == 2; }));
  db->remove_commit_listener(a);
  db->remove_commit_listener(a);  // unknown by now: ignored
  db->write([](Transaction& s) { s.execute("INSERT INTO t VALUES (2)"); });
  EXPECT_EQ(first.load(), 2);  // removal waited for any call in progress, so none can follow
  EXPECT_EQ(second.load(), 1);
}

TEST_P(DatabaseTest, AThrowingCommitListenerStopsNeitherTheOthersNorTheWriter) {
  auto db = open();
  std::atomic<int> called = 0;
  ScopedCommitListener thrower(*db,
                               [](const LogAppends&) { throw std::runtime_error("listener bug"); });
  ScopedCommitListener counter(*db, [&](const LogAppends&) { ++called; });
  db->write([](Transaction& s) { s.execute("CREATE TABLE t (x INTEGER)"); });
  db->write([](Transaction& s) { s.execute("INSERT INTO t VALUES (1)"); });
  EXPECT_TRUE(eventually([&] { return called.load() == 2; }));
}

// What the commit listeners were called with, in order.
class AppendsRecorder {
 public:
  explicit AppendsRecorder(Database& db)
      : listener_(db, [this](const LogAppends& appends) {
          std::lock_guard lock(mutex_);
          heard_.push_back(appends);
        }) {}
  std::vector<LogAppends> heard() const {
    std::lock_guard lock(mutex_);
    return heard_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<LogAppends> heard_;
  ScopedCommitListener listener_;  // last: removed before what it uses goes
};

using Pair = std::pair<std::string, int>;

std::vector<Pair> sorted_pairs(const LogAppends& appends) {
  std::vector<Pair> pairs;
  for (const auto& p : appends.partitions()) pairs.emplace_back(p.topic, p.partition);
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

// The options of a database for a test of what its own commits announce: on PostgreSQL without
// the LISTEN connection, which would also call the listeners, on its own thread, with "anything"
// for the same commits.
DatabaseOptions deaf(DatabaseOptions o) {
  o.hear_other_processes = false;
  return o;
}

TEST(LogAppendsTest, HoldsEachPartitionOnceAndAnythingTouchesEverything) {
  LogAppends appends;
  EXPECT_TRUE(appends.empty());
  EXPECT_FALSE(appends.touches("a"));
  appends.add("a", 1);
  appends.add("b", 0);
  appends.add("a", 1);
  EXPECT_FALSE(appends.empty());
  EXPECT_EQ(appends.partitions().size(), 2u);
  EXPECT_TRUE(appends.touches("a", 1));
  EXPECT_FALSE(appends.touches("a", 0));
  EXPECT_FALSE(appends.touches("b", 1));
  EXPECT_TRUE(appends.touches("b"));
  EXPECT_FALSE(appends.touches("c"));
  EXPECT_FALSE(appends.is_anything());
  appends.clear();
  EXPECT_TRUE(appends.empty());

  const auto anything = LogAppends::anything();
  EXPECT_FALSE(anything.empty());
  EXPECT_TRUE(anything.is_anything());
  EXPECT_TRUE(anything.touches("c"));
  EXPECT_TRUE(anything.touches("c", 7));
}

// Several writes share one commit: the listeners hear each partition they appended to once — and
// nothing of a write that failed after appending, which the batch ran again without (a failure
// caught by a savepoint may leave its partition in: harmless, and not what this test makes).
TEST_P(DatabaseTest, TheListenersHearThePartitionsAGroupCommitAppendedToEachOnce) {
  auto db = with_items(open_database(deaf(options())));
  AppendsRecorder recorder(*db);
  const std::vector<std::vector<Pair>> announced = {
      {{"a", 0}, {"b", 1}}, {{"a", 0}, {"a", 1}}, {{"b", 1}}, {{"c", 9}}, {}};
  constexpr std::size_t kFailing = 3;
  std::vector<std::future<void>> results;
  {
    WriterGate gate(*db, static_cast<std::int64_t>(announced.size()));
    for (std::size_t k = 0; k < announced.size(); ++k) {
      results.push_back(std::async(std::launch::async, [&, k] {
        db->write([&](Transaction& s) {
          insert(s, static_cast<std::int64_t>(k));
          for (const auto& [topic, partition] : announced[k]) {
            s.announce_log_append(topic, partition);
          }
          if (k == kFailing) throw Refused(static_cast<int>(k));
        });
      }));
    }
    EXPECT_TRUE(gate.join());
  }
  for (std::size_t k = 0; k < announced.size(); ++k) {
    if (k == kFailing) {
      EXPECT_THROW(results[k].get(), Refused);
    } else {
      EXPECT_NO_THROW(results[k].get());
    }
  }
  // Called before each write() returns: nothing more is on its way.
  const auto heard = recorder.heard();
  ASSERT_EQ(heard.size(), 2u);  // the gate's commit, then the batch's
  EXPECT_TRUE(heard[0].empty());
  EXPECT_FALSE(heard[1].is_anything());
  EXPECT_EQ(sorted_pairs(heard[1]), (std::vector<Pair>{{"a", 0}, {"a", 1}, {"b", 1}}));
  EXPECT_EQ(count_items(*db), 4);
}

// A write that was rolled back and run again (its batch, for another write's failure) is heard
// once, with what its last run announced.
TEST_P(DatabaseTest, AWriteRunAgainIsHeardOnceWithWhatItsLastRunAppended) {
  auto db = with_items(open_database(deaf(options())));
  AppendsRecorder recorder(*db);
  std::atomic<int> runs = 0;
  std::future<void> failing;
  std::future<void> again;
  {
    WriterGate gate(*db, 2);
    failing = std::async(std::launch::async, [&] {
      db->write([&](Transaction& s) {
        insert(s, 100);
        s.announce_log_append("lost", 0);
        throw Refused(100);
      });
    });
    again = std::async(std::launch::async, [&] {
      db->write([&](Transaction& s) {
        // Its first run (if the failing write came after it) announces what the second does not.
        s.announce_log_append(runs++ == 0 ? "first" : "second", 0);
        insert(s, 1);
      });
    });
    EXPECT_TRUE(gate.join());
  }
  EXPECT_THROW(failing.get(), Refused);
  EXPECT_NO_THROW(again.get());
  const auto heard = recorder.heard();
  ASSERT_EQ(heard.size(), 2u);
  const std::vector<Pair> last_run = {{runs.load() == 1 ? "first" : "second", 0}};
  EXPECT_EQ(sorted_pairs(heard[1]), last_run);
}

// A change consumers look for that is not an append (a dead letter marked for replay) is heard
// as "anything"; a commit that announced nothing, as empty.
TEST_P(DatabaseTest, AChangeThatIsNotAnAppendIsHeardAsAnything) {
  auto db = with_items(open_database(deaf(options())));
  AppendsRecorder recorder(*db);
  db->write([](Transaction& s) {
    s.announce_log_append("a", 0);
    s.announce_log_change();
  });
  db->write([](Transaction& s) { insert(s, 1); });
  const auto heard = recorder.heard();
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_TRUE(heard[0].is_anything());
  EXPECT_TRUE(heard[0].touches("b", 3));
  EXPECT_TRUE(heard[1].empty());
}

// ---- the PostgreSQL backend's own behaviour -------------------------------------------------

class PostgresDatabaseTest : public DatabaseTest {
 protected:
  static std::string PostgresTestServerUrl(const DatabaseOptions& o) {
    return testing::PostgresTestServer::instance().url_for(o.path.string());
  }
  // Options of a backend on this test's database.
  PostgresOptions postgres_options() const {
    PostgresOptions o;
    o.url = PostgresTestServerUrl(options());
    return o;
  }
  // This test's database through `relay`, with one pooled connection and no LISTEN connection:
  // every statement goes over the one connection the relay can drop.
  std::unique_ptr<Database> open_through(const testing::PostgresRelay& relay) {
    PostgresOptions o;
    o.url = relay.url();
    o.pool_size = 1;
    o.hear_other_processes = false;
    return with_items(open_postgres(o));
  }
  // The value of the one item the conflict tests fight over.
  static std::string item_value(Database& db) {
    return read_value(
        db, [](Transaction& s) { return s.query_one("SELECT v FROM items WHERE k = 1")->text(0); });
  }
};

// Another Database object (another process, as far as the server can tell) appended: its
// notification reaches this one's listeners as "anything" — it carries no partitions.
TEST_P(PostgresDatabaseTest, AnAppendCommittedThroughAnotherDatabaseIsHeardAsAnything) {
  auto db = open();
  ASSERT_TRUE(eventually([&] { return postgres_listening(*db); }));
  AppendsRecorder recorder(*db);
  auto other = open_database(deaf(options()));
  other->write([](Transaction& s) {
    insert(s, 1);
    s.announce_log_append("a", 0);
  });
  EXPECT_TRUE(eventually([&] { return !recorder.heard().empty(); }));
  const auto heard = recorder.heard();
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_TRUE(heard[0].is_anything());
}

// The LISTEN connection also receives the notification of this Database's own append. The
// listeners heard that commit with its partitions already; its echo, from one of the pool's own
// server processes, is dropped rather than heard again as "anything". Another Database's append
// is still heard, as "anything".
TEST_P(PostgresDatabaseTest, ItsOwnAppendIsHeardWithItsPartitionsOnlyNotEchoedAsAnything) {
  auto db = open();
  ASSERT_TRUE(eventually([&] { return postgres_listening(*db); }));
  AppendsRecorder recorder(*db);
  db->write([](Transaction& s) {
    insert(s, 1);
    s.announce_log_append("a", 0);
  });
  // The echo arrived and was recognised: had it been heard, it would be in `heard` now.
  EXPECT_TRUE(eventually([&] { return postgres_stats(*db)->own_notifications_dropped >= 1; }));
  EXPECT_EQ(recorder.heard().size(), 1u);
  auto other = open_database(deaf(options()));
  other->write([](Transaction& s) {
    insert(s, 2);
    s.announce_log_append("b", 1);
  });
  EXPECT_TRUE(eventually([&] {
    const auto heard = recorder.heard();
    return std::any_of(heard.begin(), heard.end(),
                       [](const LogAppends& a) { return a.is_anything(); });
  }));
  const auto heard = recorder.heard();
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(sorted_pairs(heard[0]), (std::vector<Pair>{{"a", 0}}));
  EXPECT_TRUE(heard[1].is_anything());
}

// A write whose snapshot went stale (another process's write changed the row it read) gets a
// serialization failure; the backend runs its work again on a fresh snapshot, and it commits.
TEST_P(PostgresDatabaseTest, AWriteThatLostASerializationConflictRunsAgainAndCommits) {
  auto o = postgres_options();
  auto db = with_items(open_postgres(o));
  o.serialize_writers = false;  // a writer that does not take turns with the others (like psql)
  auto other = open_postgres(o);
  db->write([](Transaction& s) { s.execute("INSERT INTO items (k, v) VALUES (1, '0')"); });
  std::atomic<int> runs{0};
  std::promise<void> read_done;
  std::promise<void> other_committed;
  auto other_committed_future = other_committed.get_future().share();
  auto increment = std::async(std::launch::async, [&] {
    db->write([&](Transaction& s) {
      const int run = ++runs;
      const auto v = std::stoi(s.query_one("SELECT v FROM items WHERE k = 1")->text(0));
      if (run == 1) {
        read_done.set_value();
        other_committed_future.wait();
      }
      s.execute("UPDATE items SET v = $1 WHERE k = 1", {std::to_string(v + 1)});
    });
  });
  read_done.get_future().wait();
  other->write([](Transaction& s) { s.execute("UPDATE items SET v = '10' WHERE k = 1"); });
  other_committed.set_value();
  increment.get();
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(item_value(*db), "11");
}

// A write that still conflicts when its attempts run out (other processes' writes kept winning)
// is DatabaseUnavailable: transient, a 503 the client may retry rather than a 500.
TEST_P(PostgresDatabaseTest, AWriteOutOfAttemptsIsUnavailable) {
  auto o = postgres_options();
  o.max_write_attempts = 1;
  auto db = with_items(open_postgres(o));
  o.serialize_writers = false;  // a writer that does not take turns with the others (like psql)
  auto other = open_postgres(o);
  db->write([](Transaction& s) { s.execute("INSERT INTO items (k, v) VALUES (1, '0')"); });
  std::promise<void> read_done;
  std::promise<void> other_committed;
  auto other_committed_future = other_committed.get_future().share();
  auto increment = std::async(std::launch::async, [&] {
    db->write([&](Transaction& s) {
      s.query_one("SELECT v FROM items WHERE k = 1");
      read_done.set_value();
      other_committed_future.wait();
      s.execute("UPDATE items SET v = 'mine' WHERE k = 1");
    });
  });
  read_done.get_future().wait();
  other->write([](Transaction& s) { s.execute("UPDATE items SET v = 'theirs' WHERE k = 1"); });
  other_committed.set_value();
  EXPECT_THROW(increment.get(), DatabaseUnavailable);
  EXPECT_EQ(item_value(*db), "theirs");
}

// Many writers of one row (as every task write of one user updates its change counter) in one
// process: they share the writer thread's transactions, so none conflicts with another, each
// work runs exactly once, and no increment is lost even with a single attempt allowed.
TEST_P(PostgresDatabaseTest, WritersOfOneHotRowNeverConflictInOneProcess) {
  auto o = postgres_options();
  o.max_write_attempts = 1;
  auto db = with_items(open_postgres(o));
  db->write([](Transaction& s) { s.execute("INSERT INTO items (k, v) VALUES (1, '0')"); });
  constexpr int kThreads = 16;
  constexpr int kWrites = 10;
  std::atomic<int> failed{0};
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        try {
          db->write([&](Transaction& s) {
            ++runs;
            const auto v = std::stoi(s.query_one("SELECT v FROM items WHERE k = 1")->text(0));
            s.execute("UPDATE items SET v = $1 WHERE k = 1", {std::to_string(v + 1)});
          });
        } catch (const DatabaseError&) {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(runs.load(), kThreads * kWrites);
  EXPECT_EQ(item_value(*db), std::to_string(kThreads * kWrites));
}

// Two processes writing one hot row: their writer threads take turns (the writer lock), so their
// batches never conflict either: each work runs once, even with a single attempt allowed. Without
// the turns the same load makes the two processes' batches conflict.
TEST_P(PostgresDatabaseTest, WritersOfOneHotRowInTwoProcessesTakeTurnsAndNeverConflict) {
  const auto run = [&](bool serialize) {
    auto o = postgres_options();
    o.max_write_attempts = 1;
    o.serialize_writers = serialize;
    auto a = with_items(open_postgres(o));
    auto b = open_postgres(o);
    a->write([](Transaction& s) { s.execute("DELETE FROM items"); });
    a->write([](Transaction& s) { s.execute("INSERT INTO items (k, v) VALUES (1, '0')"); });
    constexpr int kThreadsEach = 4;
    constexpr int kWrites = 25;
    std::atomic<int> failed{0};
    std::atomic<int> runs{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2 * kThreadsEach; ++t) {
      Database& db = t % 2 == 0 ? *a : *b;
      threads.emplace_back([&] {
        for (int i = 0; i < kWrites; ++i) {
          try {
            db.write([&](Transaction& s) {
              ++runs;
              const auto v = std::stoi(s.query_one("SELECT v FROM items WHERE k = 1")->text(0));
              s.execute("UPDATE items SET v = $1 WHERE k = 1", {std::to_string(v + 1)});
            });
          } catch (const DatabaseUnavailable&) {
            ++failed;  // out of attempts: it conflicted
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    const auto total = std::stoi(item_value(*a));
    EXPECT_EQ(total + failed.load(), 2 * kThreadsEach * kWrites);  // no increment lost
    return failed.load();
  };
  EXPECT_EQ(run(true), 0);
  EXPECT_GT(run(false), 0);
}

// Statements run without savepoints first (two round trips fewer each); a write whose work
// catches a failed statement and goes on runs once more with a savepoint around each statement,
// so it ends as it would on SQLite. A write whose work lets the failure escape just fails.
TEST_P(PostgresDatabaseTest, AWriteRunsAgainWithSavepointsOnlyWhenItWentOnAfterAFailure) {
  auto db = open();
  int runs = 0;
  db->write([&](Transaction& s) {
    ++runs;
    insert(s, 1);
    insert(s, 2);
  });
  EXPECT_EQ(runs, 1);

  runs = 0;
  db->write([&](Transaction& s) {
    ++runs;
    insert(s, 3);
    try {
      insert(s, 1);
    } catch (const ConstraintViolation&) {
    }
    insert(s, 4);
  });
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(count_items(*db), 4);

  runs = 0;
  EXPECT_THROW(db->write([&](Transaction& s) {
    ++runs;
    insert(s, 5);
    insert(s, 1);
  }),
               ConstraintViolation);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(count_items(*db), 4);
}

// An unread statement costs no round trip of its own: it waits on the connection and goes with
// the next statement that waits for its answer (so its failure surfaces there), or before COMMIT.
TEST_P(PostgresDatabaseTest, UnreadStatementsGoWithTheNextStatementThatWaits) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  std::string surfaced;
  EXPECT_THROW(db->write([&](Transaction& s) {
    s.execute_unread("INSERT INTO items (k, v) VALUES ($1, $2)", {std::int64_t{1}, "again"});
    surfaced = "not yet";  // no answer was waited for
    try {
      s.query("SELECT COUNT(*) FROM items");
    } catch (const ConstraintViolation&) {
      surfaced = "with the next statement";
    }
  }),
               ConstraintViolation);
  EXPECT_EQ(surfaced, "with the next statement");
  // The same unread statement, prepared once, twice in one round trip; then the pool is in order.
  db->write([](Transaction& s) {
    for (std::int64_t k = 2; k <= 3; ++k) {
      s.execute_unread("INSERT INTO items (k, v) VALUES ($1, $2)", {k, "v"});
    }
  });
  EXPECT_EQ(count_items(*db), 3);
}

// A statement is prepared on its connection the first time it runs with its parameter types and
// reused from then on; a NULL where a value was is a statement of its own (its type differs).
TEST_P(PostgresDatabaseTest, StatementsArePreparedOnceAndReused) {
  auto db = open_database();
  constexpr std::string_view kSql = "SELECT COALESCE($1, 0) + 1";
  db->read([&](Transaction& s) {
    EXPECT_EQ(s.query_one(kSql, {std::int64_t{1}})->integer(0), 2);
    EXPECT_EQ(s.query_one(kSql, {std::int64_t{41}})->integer(0), 42);
    EXPECT_EQ(s.query_one(kSql, {Value{}})->integer(0), 1);
    const auto prepared = s.query(
        "SELECT parameter_types::text FROM pg_prepared_statements WHERE statement = $1 "
        "ORDER BY 1",
        {std::string(kSql)});
    ASSERT_EQ(prepared.size(), 2u);
    EXPECT_EQ(prepared[0].text(0), "{bigint}");
    EXPECT_EQ(prepared[1].text(0), "{integer}");  // the untyped NULL: the server chose
  });
}

// PostgreSQL aborts the transaction on a failed statement outside the per-statement savepoints
// (a SELECT); work that swallows that error and returns must not be told its write committed.
TEST_P(PostgresDatabaseTest, AWriteThatSwallowedAFailedQueryIsNotReportedCommitted) {
  auto db = open();
  try {
    db->write([](Transaction& s) {
      insert(s, 1);
      try {
        s.query("SELECT no_such_column FROM items");
      } catch (const DatabaseError&) {
      }
    });
    FAIL() << "reported committed";
  } catch (const DatabaseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nothing was committed"));
  }
  EXPECT_EQ(count_items(*db), 0);
  db->write([](Transaction& s) { insert(s, 2); });  // the pool's connection is in order
  EXPECT_EQ(count_items(*db), 1);
}

// A read's BEGIN travels with its first statement: when that statement fails, the error names
// it (not the BEGIN), and the connection goes back to the pool in order.
TEST_P(PostgresDatabaseTest, AReadWhoseFirstStatementFailsReportsItAndLeavesThePoolUsable) {
  auto db = open();
  for (int i = 0; i < 8; ++i) {  // more than the pool's connections
    try {
      db->read([](Transaction& s) { s.query("SELECT no_such_column FROM items"); });
      FAIL() << "the read succeeded";
    } catch (const DatabaseError& e) {
      EXPECT_THAT(e.what(), HasSubstr("no_such_column"));
    }
    EXPECT_EQ(count_items(*db), 0);
    db->read([](Transaction&) {});  // no statement: nothing to begin or end
  }
  db->write([](Transaction& s) { insert(s, 1); });
  EXPECT_EQ(count_items(*db), 1);
}

// Reads are REPEATABLE READ: one read sees one snapshot, even across another write's commit.
TEST_P(PostgresDatabaseTest, AReadSeesOneSnapshotThroughout) {
  auto db = open();
  db->write([](Transaction& s) { insert(s, 1); });
  db->read([&](Transaction& s) {
    EXPECT_EQ(s.query_one("SELECT COUNT(*) FROM items")->integer(0), 1);
    db->write([](Transaction& w) { insert(w, 2); });
    EXPECT_EQ(s.query_one("SELECT COUNT(*) FROM items")->integer(0), 1);
  });
  EXPECT_EQ(count_items(*db), 2);
}

// Booleans, NUMERIC and bytea come back as the Value kinds the repositories read.
TEST_P(PostgresDatabaseTest, ServerTypesMapToIntegersRealsAndBytes) {
  auto db = open();
  db->read([](Transaction& s) {
    const auto row = s.query_one(
        "SELECT true, false, SUM(x), 2.5::numeric, '\\x00ff10'::bytea, 1.5::float4 "
        "FROM (VALUES (9223372036854775807::bigint), (-1::bigint)) AS t (x)");
    ASSERT_TRUE(row);
    EXPECT_EQ(row->integer(0), 1);
    EXPECT_EQ(row->integer(1), 0);
    EXPECT_EQ(row->integer(2), 9223372036854775806);
    EXPECT_EQ(row->real(3), 2.5);
    EXPECT_EQ(row->text(4), "\x00\xFF\x10"s);
    EXPECT_EQ(row->real(5), 1.5);
    EXPECT_EQ(s.query_one("SELECT $1::bytea", {"a\0b"s})->text(0), "a\0b"s);
  });
}

// Every Value kind through a column of its type: the extremes of BIGINT, doubles, the empty
// string (text, not NULL), UTF-8 beyond the BMP, and bytes with NUL in a BYTEA column.
TEST_P(PostgresDatabaseTest, RoundTripsEveryValueTypeInTypedColumns) {
  auto db = open();
  db->write([](Transaction& s) {
    s.execute(
        "CREATE TABLE typed (n INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, t TEXT, b "
        "BYTEA)");
    const std::vector<std::vector<Value>> rows = {
        {std::int64_t{0}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
        {std::int64_t{1}, std::numeric_limits<std::int64_t>::max(), 0.1, ""s, "a\0b\0"s},
        {std::int64_t{2}, std::numeric_limits<std::int64_t>::min(), -1.5e300,
         "emoji \xF0\x9F\x98\x80 and \xE2\x9C\x93"s, "\0"s},
    };
    for (const auto& row : rows) {
      s.execute("INSERT INTO typed (n, i, r, t, b) VALUES ($1, $2, $3, $4, $5)",
                std::span<const Value>(row));
    }
  });
  const auto rows = read_value(
      *db, [](Transaction& s) { return s.query("SELECT i, r, t, b FROM typed ORDER BY n"); });
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t c = 0; c < 4; ++c) EXPECT_TRUE(rows[0].is_null(c)) << c;
  EXPECT_EQ(rows[1].integer(0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(rows[1].real(1), 0.1);
  EXPECT_EQ(rows[1].text(2), "");
  EXPECT_EQ(rows[1].text(3), "a\0b\0"s);
  EXPECT_EQ(rows[2].integer(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(rows[2].real(1), -1.5e300);
  EXPECT_EQ(rows[2].text(2), "emoji \xF0\x9F\x98\x80 and \xE2\x9C\x93"s);
  EXPECT_EQ(rows[2].text(3), "\0"s);
  // Text that is not UTF-8 is refused, never stored altered.
  EXPECT_THROW(db->write([](Transaction& s) {
    s.execute("INSERT INTO typed (n, t) VALUES (3, $1)", {"\xFF\xFE not UTF-8"s});
  }),
               DatabaseError);
}

// The statement timeout ends a statement that runs too long with a DatabaseError, and the pool
// goes on serving.
TEST_P(PostgresDatabaseTest, AStatementThatRunsTooLongIsCancelled) {
  auto o = postgres_options();
  o.statement_timeout_ms = 200;
  auto db = open_postgres(o);
  try {
    db->read([](Transaction& s) { s.query("SELECT pg_sleep(30)"); });
    FAIL() << "no timeout";
  } catch (const DatabaseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("statement timeout"));
  }
  EXPECT_TRUE(db->ping());
}

// A server that drops the pool's connections (a restart, pg_terminate_backend): the next
// transaction starts on a fresh connection without failing, and a transaction whose own connection
// is lost fails with DatabaseUnavailable (a 503 at the HTTP layer), after which the pool serves
// again.
TEST_P(PostgresDatabaseTest, DroppedConnectionsAreReplacedAndALostOneIsUnavailable) {
  auto db = open();
  auto admin = open();
  const auto own_pid = [&] {
    return read_value(
        *db, [](Transaction& s) { return s.query_one("SELECT pg_backend_pid()")->integer(0); });
  };
  const std::int64_t before = own_pid();
  admin->read([&](Transaction& s) {
    EXPECT_EQ(s.query_one("SELECT pg_terminate_backend($1::integer)", {before})->integer(0), 1);
  });
  EXPECT_NE(own_pid(), before);  // a fresh connection, and no error for the dropped one

  try {
    db->write([](Transaction& s) { s.query("SELECT pg_terminate_backend(pg_backend_pid())"); });
    FAIL() << "the write survived losing its connection";
  } catch (const DatabaseUnavailable& e) {
    EXPECT_THAT(e.what(), HasSubstr("unreachable"));
  }
  EXPECT_TRUE(db->ping());
  db->write([](Transaction& s) { s.execute("INSERT INTO items (k, v) VALUES (1, 'after')"); });
  EXPECT_EQ(count_items(*db), 1);
}

// An immediate shutdown (pg_ctl -m immediate) warns each connection with a notice, not an
// error, and closes it. libpq then reports the failed send of the next statement as an error
// without SQLSTATE on a connection it still calls OK, and in pipeline mode gives only nulls
// after it, never the Sync. Such a connection is lost all the same: whichever statement comes
// first (a single one, the first of a snapshot read, a write's writer lock and BEGIN) finds it
// dead and the work starts again on a fresh connection: no DatabaseError (a 500), no endless
// wait. (CI saw both: a 500 and a request that never ended.)
TEST_P(PostgresDatabaseTest, ConnectionsAnImmediateShutdownClosedAreReplaced) {
  testing::PostgresRelay relay(postgres_options().url);
  auto db = open_through(relay);
  std::int64_t key = 0;
  const std::vector<std::function<void()>> first_uses = {
      [&] { db->read_statement([](Transaction& s) { s.query_one("SELECT 1"); }); },
      [&] { EXPECT_EQ(count_items(*db), 0); },
      [&] { db->write([&](Transaction& s) { insert(s, ++key); }); },
      [&] { EXPECT_EQ(read_async(*db, "SELECT k FROM items WHERE k = 1").message(), ""); },
  };
  for (std::size_t i = 0; i < first_uses.size(); ++i) {
    SCOPED_TRACE("first use " + std::to_string(i));
    first_uses[i]();  // a connection in the pool, its statements prepared
    const int before = relay.connections_accepted();
    relay.drop_all_like_an_immediate_shutdown();
    first_uses[i]();
    EXPECT_EQ(relay.connections_accepted(), before + 1);
  }
  EXPECT_EQ(count_items(*db), 2);
}

// The reads that wait while a pipeline is out go together in the next one: one round trip for
// all of them, each read in its own implicit transaction.
TEST_P(PostgresDatabaseTest, AsynchronousReadsWaitingTogetherShareOnePipeline) {
  auto o = postgres_options();
  o.pipelined_readers = 1;
  auto db = with_items(open_postgres(o));
  db->write([](Transaction& s) { insert(s, 1); });
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> first_done;
  db->read_statement_async(
      "SELECT k FROM items", {},
      [&](const RowView&) {
        entered.set_value();
        released.wait();  // the one reader thread is held inside its first pipeline
      },
      [&](std::exception_ptr) { first_done.set_value(); });
  entered.get_future().wait();
  std::vector<std::future<AsyncRead>> futures;
  for (std::int64_t i = 0; i < 40; ++i) {
    futures.push_back(start_read(
        *db, i % 2 == 0 ? "SELECT k + $1 FROM items" : "SELECT k - $1 FROM items WHERE k = 1",
        {i}));
  }
  release.set_value();
  first_done.get_future().wait();
  for (std::int64_t i = 0; i < 40; ++i) {
    EXPECT_EQ(futures[i].get().keys, (std::vector<std::int64_t>{i % 2 == 0 ? 1 + i : 1 - i}));
  }
  const auto stats = postgres_stats(*db);
  EXPECT_EQ(stats->pipelined_reads, 41);
  EXPECT_EQ(stats->read_pipelines, 2);
}

// A read that another's failure aborted runs again in a next pipeline; when the connection is
// lost by then, it fails with it, and the reads whose rows were given are not run (nor given
// their rows) again.
TEST_P(PostgresDatabaseTest, ReadsAbortedThenLostFailWithoutRunningTheOthersAgain) {
  testing::PostgresRelay relay(postgres_options().url);
  auto db = open_through(relay);
  db->write([](Transaction& s) { insert(s, 1); });
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  db->read_statement_async(
      "SELECT k FROM items", {},
      [&](const RowView&) {
        entered.set_value();
        released.wait();  // the reader is held: the reads below wait together
      },
      [](std::exception_ptr) {});
  entered.get_future().wait();
  std::atomic<int> rows_given{0};
  std::promise<std::exception_ptr> first;
  db->read_statement_async(
      "SELECT k FROM items", {},
      [&](const RowView&) {
        ++rows_given;
        relay.drop_all_like_an_immediate_shutdown();  // before the aborted read runs again
      },
      [&](std::exception_ptr e) { first.set_value(e); });
  auto failing =
      start_read(*db, "SELECT k + abs($1) FROM items", {std::numeric_limits<std::int64_t>::min()});
  auto aborted = start_read(*db, "SELECT k FROM items WHERE k = $1", {std::int64_t{1}});
  release.set_value();
  EXPECT_EQ(first.get_future().get(), nullptr);
  EXPECT_THAT(failing.get().message(), HasSubstr("bigint out of range"));
  const AsyncRead lost = aborted.get();
  EXPECT_NE(lost.message(), "");
  EXPECT_TRUE(lost.keys.empty());
  EXPECT_EQ(rows_given.load(), 1);
  EXPECT_EQ(read_async(*db, "SELECT k FROM items").keys, (std::vector<std::int64_t>{1}));
}

// A read's COMMIT is sent without waiting for its answer, which the connection's next user reads
// first. When the server is gone by then, libpq reports the failed send once and then only
// nulls, never the Sync: reading on waited forever (a request that never ended, a server that
// could not stop). The next user now finds the connection lost and starts on a fresh one.
TEST_P(PostgresDatabaseTest, AReadWhoseCommitCouldNotBeSentLeavesNoStuckConnection) {
  testing::PostgresRelay relay(postgres_options().url);
  auto db = open_through(relay);
  db->read([&](Transaction& s) {
    EXPECT_EQ(s.query_one("SELECT COUNT(*) FROM items")->integer(0), 0);
    relay.drop_all_like_an_immediate_shutdown();
  });
  const int before = relay.connections_accepted();
  db->write([](Transaction& s) { insert(s, 1); });
  EXPECT_EQ(count_items(*db), 1);
  EXPECT_EQ(relay.connections_accepted(), before + 1);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(DatabaseTest);
TODO_STORE_TEST_ON_SQLITE(SqliteDatabaseTest);
TODO_STORE_TEST_ON_POSTGRES(PostgresDatabaseTest);

// The factory refuses PostgreSQL without a postgres:// URL, and never shows a password.
TEST(OpenDatabaseTest, PostgresNeedsAPostgresUrl) {
  DatabaseOptions options;
  options.dialect = Dialect::kPostgres;
  EXPECT_THROW(open_database(options), DatabaseError);
  options.url = "mysql://user:hunter2@host/db";
  try {
    open_database(options);
    FAIL() << "opened a PostgreSQL database";
  } catch (const DatabaseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("postgres://"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("hunter2")));
  }
}

// An unreachable server is DatabaseUnavailable (a DatabaseError) naming the server, without its
// password.
TEST(OpenDatabaseTest, AnUnreachablePostgresServerIsADatabaseErrorWithoutThePassword) {
  DatabaseOptions options;
  options.dialect = Dialect::kPostgres;
  options.url = "postgres://todo:hunter2@127.0.0.1:1/todo?connect_timeout=5";
  try {
    open_database(options);
    FAIL() << "connected to nothing";
  } catch (const DatabaseUnavailable& e) {
    EXPECT_THAT(e.what(), HasSubstr("postgres://todo:***@127.0.0.1:1/todo"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("hunter2")));
  }
}

TEST(OpenDatabaseTest, RedactsPasswordsOfUrlsAndKeyValueStrings) {
  EXPECT_EQ(redact_database_url("postgres://u:p%40ss@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require");
  EXPECT_EQ(redact_database_url("postgresql://u@h/db?password=secret&sslmode=disable"),
            "postgresql://u@h/db?password=***&sslmode=disable");
  EXPECT_EQ(redact_database_url("postgres://h/db"), "postgres://h/db");
  EXPECT_EQ(redact_database_url("host=h password='a b' dbname=x"), "host=h password=*** dbname=x");
}

}  // namespace
}  // namespace todo::store

// Helpers for the store tests: the backends every store test runs on (a value-parameterized
// fixture), a fresh temporary directory per test and deadline-bounded polling.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/database.h"
#include "store/open_database.h"
#include "postgres_test_server.h"

namespace todo::store::testing {

// A directory that exists for the lifetime of the object and is removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "todo-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Waits until `condition` holds. The deadline only turns a hang into a failure; no outcome
// depends on how fast anything runs.
template <class Condition>
bool eventually(Condition&& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// A database backend the store tests run on.
struct Backend {
  std::string name;  // the suffix of every test name that runs on it: "/Sqlite"
  Dialect dialect;
  // A fresh, migrated database. `options.path` is a file in the test's own temporary directory;
  // a server backend ignores it and gives each test a database (or schema) of its own.
  std::function<std::unique_ptr<Database>(const DatabaseOptions& options)> open;
};

inline void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }

// Every backend the store implements. PostgreSQL's open() connects to a schema of the test's own
// (keyed by options.path, so reopening in one test finds its data) on the one server of this
// test binary (postgres_test_server.h).
inline const std::vector<Backend>& backends() {
  static const std::vector<Backend> kBackends = {
      {"Sqlite", Dialect::kSqlite,
       [](const DatabaseOptions& options) {
         auto sqlite = options;
         sqlite.dialect = Dialect::kSqlite;
         return open_database(sqlite);
       }},
      {"Postgres", Dialect::kPostgres,
       [](const DatabaseOptions& options) {
         auto postgres = options;
         postgres.dialect = Dialect::kPostgres;
         postgres.url = PostgresTestServer::instance().url_for(options.path.string());
         return open_database(postgres);
       }},
  };
  return kBackends;
}

// The SQLite entry of backends(), alone.
inline std::vector<Backend> sqlite_backend() {
  std::vector<Backend> sqlite;
  for (const Backend& b : backends()) {
    if (b.dialect == Dialect::kSqlite) sqlite.push_back(b);
  }
  return sqlite;
}

// The PostgreSQL entry of backends(), alone.
inline std::vector<Backend> postgres_backend() {
  std::vector<Backend> postgres;
  for (const Backend& b : backends()) {
    if (b.dialect == Dialect::kPostgres) postgres.push_back(b);
  }
  return postgres;
}

// The fixture of every store test that needs a database: runs once per backend (instantiate
// with TODO_STORE_TEST_ON_EVERY_BACKEND), with a temporary directory of its own.
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  const Backend& backend() const { return GetParam(); }

  // The options a test starts from: the backend's dialect, a file in the temporary directory.
  DatabaseOptions database_options() const {
    DatabaseOptions options;
    options.dialect = backend().dialect;
    options.path = dir_.path() / "todo.db";
    return options;
  }
  std::unique_ptr<Database> open_database(const DatabaseOptions& options) const {
    return backend().open(options);
  }
  std::unique_ptr<Database> open_database() const { return open_database(database_options()); }

  TempDir dir_;
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

}  // namespace todo::store::testing

// Runs every TEST_P of `fixture` (a BackendTest) once per backend: Backends/Fixture.Name/Sqlite...
#define TODO_STORE_TEST_ON_EVERY_BACKEND(fixture)                                   \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture,                                       \
                           ::testing::ValuesIn(::todo::store::testing::backends()), \
                           ::todo::store::testing::backend_name)

// Runs every TEST_P of `fixture` on the SQLite backend alone: for tests of that backend itself
// (its pragmas, its writer thread's batches and statistics, its own options). They are not run,
// and so never reported as skipped, on the other backends.
#define TODO_STORE_TEST_ON_SQLITE(fixture)                                             \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture,                                          \
                           ::testing::ValuesIn(::todo::store::testing::sqlite_backend()), \
                           ::todo::store::testing::backend_name)

// Runs every TEST_P of `fixture` on the PostgreSQL backend alone: for that backend's own
// behaviour (retried writes, isolation levels, its error mapping).
#define TODO_STORE_TEST_ON_POSTGRES(fixture)                                             \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture,                                            \
                           ::testing::ValuesIn(::todo::store::testing::postgres_backend()), \
                           ::todo::store::testing::backend_name)

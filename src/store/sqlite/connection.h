// One SQLite connection with its prepared-statement cache; used by one thread at a time.
// Internal to the SQLite backend: nothing outside src/store/sqlite includes it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/database.h"

struct sqlite3;
struct sqlite3_stmt;

namespace todo::store::sqlite {

// The writer creates the file and sets WAL mode; readers are query_only.
enum class Access { kWrite, kRead };

struct ConnectionOptions {
  Access access = Access::kRead;
  Durability durability = Durability::kFull;
  int busy_timeout_ms = 5000;
};

class Connection {
 public:
  // Opens and applies the PRAGMAs of its access mode. Throws DatabaseError.
  Connection(const std::filesystem::path& path, const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::vector<Row> query(std::string_view sql, std::span<const Value> params);
  // Each row as a view of the statement's current row (Transaction::query_each).
  void query_each(std::string_view sql, std::span<const Value> params,
                  const std::function<void(const RowView&)>& each);
  std::int64_t execute(std::string_view sql, std::span<const Value> params);
  void execute_script(std::string_view sql);

  // Runs a transaction-control statement (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE). Only
  // this path may: the same statements sent through query/execute/execute_script are refused,
  // so the work inside a transaction cannot end it (or a whole group commit) behind our back.
  void control(std::string_view sql);
  // ROLLBACK if a transaction is open. For cleanup while another error is already on its way:
  // a failure here is not reported, and the next BEGIN on this connection would surface it.
  void rollback_if_open() noexcept;
  // True outside a transaction (SQLite's autocommit mode); SQLite ends a transaction itself on
  // some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM).
  bool autocommit() const;

  // A number that grows whenever a statement of this connection changes rows (INSERT, UPDATE,
  // DELETE) or runs a schema change or a script: two readings that differ say that the statements
  // between them left something a rollback would have to undo (failed statements leave nothing:
  // SQLite undoes a failed statement by itself).
  std::int64_t change_count() const;

  // Turns SQLite's automatic checkpoint off for this connection (so a commit never waits for
  // one) and counts the pages in the write-ahead log after each of its commits.
  void watch_wal();
  // Pages in the WAL after this connection's last commit (0 before watch_wal()).
  int wal_pages() const { return wal_pages_; }
  // What a checkpoint found: frames in the WAL, and how many of them are now in the database.
  struct CheckpointResult {
    int wal_frames = 0;
    int checkpointed_frames = 0;
    bool busy = false;  // it could not finish (SQLITE_BUSY): a reader or writer was in the way
  };
  // Copies what it can of the WAL into the database without blocking writers or readers
  // (SQLITE_CHECKPOINT_PASSIVE). Throws DatabaseError on failure other than SQLITE_BUSY.
  CheckpointResult checkpoint_passive();
  // Copies the whole WAL and waits up to `wait` (instead of the busy timeout) until no reader
  // still needs it, so the next commit writes the WAL from its start again
  // (SQLITE_CHECKPOINT_RESTART); busy when a reader keeps an older snapshot longer. Writers wait
  // for it meanwhile. Throws DatabaseError on failure other than SQLITE_BUSY.
  CheckpointResult checkpoint_restart(std::chrono::milliseconds wait);
  // How many times SQLite compiled one of this connection's cached statements again (after a
  // schema change, or a new value bound to a parameter its plan depends on) since it opened.
  std::int64_t reprepared() const { return reprepared_.load(std::memory_order_relaxed); }

 private:
  // A cached statement and, for each $k, the SQLite parameter index it was given.
  struct Prepared {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> index_of;  // index_of[k - 1] is the index of $k
    bool changes_schema = false;  // CREATE, DROP or ALTER
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  static int authorize(void* self, int action, const char*, const char*, const char*, const char*);
  Prepared& prepare(std::string_view sql);
  void bind(const Prepared& p, std::string_view sql, std::span<const Value> params);
  void switch_to_wal(const std::filesystem::path& path, int busy_timeout_ms);
  void clear_cache();
  [[noreturn]] void fail(int rc, std::string_view sql) const;

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, Prepared, StringHash, std::equal_to<>> cache_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> control_cache_;
  std::atomic<std::int64_t> reprepared_{0};
  bool allow_control_ = false;  // set only while control() prepares and steps
  int wal_pages_ = 0;
  int busy_timeout_ms_ = 0;
  std::int64_t schema_statements_ = 0;  // statements run that change the schema (see change_count)
};

}  // namespace todo::store::sqlite

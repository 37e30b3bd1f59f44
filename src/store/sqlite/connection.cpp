// SQLite connection: PRAGMAs, the statement cache, $N parameter binding and error mapping.
#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <climits>
#include <memory>
#include <thread>

namespace todo::store::sqlite {
namespace {

// Repositories use a fixed set of SQL texts; the cap only matters for generated SQL (e.g. IN
// lists of varying length), which must not grow the cache without bound.
constexpr std::size_t kMaxCachedStatements = 512;
constexpr std::size_t kSqlInMessages = 100;

std::string excerpt(std::string_view sql) {
  if (sql.size() <= kSqlInMessages) return std::string(sql);
  return std::string(sql.substr(0, kSqlInMessages)) + "...";
}

// "$k" with k >= 1 and no leading zero; 0 for anything else (?, ?NNN, :name, @name, $name).
int placeholder_number(const char* name) {
  if (name == nullptr || name[0] != '$' || name[1] < '1' || name[1] > '9') return 0;
  std::string_view digits(name + 1);
  int k = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return k;
}

int checked_length(std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) throw DatabaseError("SQL text too long");
  return static_cast<int>(sql.size());
}

Value column_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      const int bytes = sqlite3_column_bytes(stmt, i);
      return text == nullptr ? std::string() : std::string(text, static_cast<std::size_t>(bytes));
    }
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      const int bytes = sqlite3_column_bytes(stmt, i);
      return blob == nullptr ? std::string() : std::string(blob, static_cast<std::size_t>(bytes));
    }
    default:
      return std::monostate{};
  }
}

// Resets a cached statement when its use ends, however it ends; the bound text is borrowed from
// the caller's parameters (SQLITE_STATIC), so the bindings must go before they do.
// One run of a cached statement: resets it afterwards, and adds the times SQLite compiled it again
// during the run to `reprepared`.
class StatementUse {
 public:
  StatementUse(sqlite3_stmt* stmt, std::atomic<std::int64_t>& reprepared)
      : stmt_(stmt), reprepared_(reprepared) {}
  ~StatementUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (const int n = sqlite3_stmt_status(stmt_, SQLITE_STMTSTATUS_REPREPARE, /*reset=*/1)) {
      reprepared_.fetch_add(n, std::memory_order_relaxed);
    }
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* stmt_;
  std::atomic<std::int64_t>& reprepared_;
};

struct Finalize {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using OwnedStatement = std::unique_ptr<sqlite3_stmt, Finalize>;

}  // namespace

Connection::Connection(const std::filesystem::path& path, const ConnectionOptions& options) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.access == Access::kWrite) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw DatabaseError("cannot open SQLite database " + path.string() + ": " + message);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_set_authorizer(db_, &Connection::authorize, this);
    sqlite3_busy_timeout(db_, options.busy_timeout_ms);
    busy_timeout_ms_ = options.busy_timeout_ms;
    // The query planner stability guarantee: a cached statement's plan never depends on the
    // values bound to it. Without it, matching a term like `topic = $1` against a partial
    // index's predicate (outbox_user_changes: topic = 'task-updates') makes $1 such a parameter,
    // and SQLite compiles the statement again on every new binding: each read of the log did.
    if (sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_QPSG, 1, nullptr) != SQLITE_OK) {
      throw DatabaseError("cannot enable the query planner stability guarantee");
    }
    if (options.access == Access::kWrite) {
      switch_to_wal(path, options.busy_timeout_ms);
    }
    execute_script(options.durability == Durability::kFull ? "PRAGMA synchronous=FULL"
                                                           : "PRAGMA synchronous=NORMAL");
    execute_script("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY");
    if (options.access == Access::kRead) execute_script("PRAGMA query_only=ON");
  } catch (...) {
    clear_cache();
    sqlite3_close_v2(db_);
    throw;
  }
}

void Connection::switch_to_wal(const std::filesystem::path& path, int busy_timeout_ms) {
  // journal_mode is stored in the file, so readers opened afterwards use WAL as well. Switching
  // needs the exclusive lock. When two connections switch a fresh file at once, SQLite answers
  // SQLITE_BUSY at once instead of calling the busy handler (waiting could deadlock them), so
  // the switch is retried here until the busy timeout has passed.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    std::string mode;
    const int rc = sqlite3_exec(
        db_, "PRAGMA journal_mode=WAL",
        [](void* out, int columns, char** values, char**) {
          if (columns == 1 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
          return 0;
        },
        &mode, nullptr);
    if (rc == SQLITE_OK) {
      if (mode != "wal") throw DatabaseError("cannot switch " + path.string() + " to WAL mode");
      return;
    }
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
      fail(rc, "PRAGMA journal_mode=WAL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Connection::~Connection() {
  clear_cache();
  sqlite3_close_v2(db_);
}

void Connection::clear_cache() {
  for (auto& [sql, prepared] : cache_) sqlite3_finalize(prepared.stmt);
  cache_.clear();
  for (auto& [sql, stmt] : control_cache_) sqlite3_finalize(stmt);
  control_cache_.clear();
}

std::int64_t Connection::change_count() const {
  return sqlite3_total_changes64(db_) + schema_statements_;
}

bool Connection::autocommit() const { return sqlite3_get_autocommit(db_) != 0; }

void Connection::watch_wal() {
  // Replaces the hook sqlite3_wal_autocheckpoint installs, which turns automatic checkpoints off.
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<Connection*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
}

namespace {

Connection::CheckpointResult checkpoint(sqlite3* db, int mode, int& rc) {
  Connection::CheckpointResult result;
  rc = sqlite3_wal_checkpoint_v2(db, nullptr, mode, &result.wal_frames,
                                 &result.checkpointed_frames);
  result.busy = rc == SQLITE_BUSY;
  return result;
}

}  // namespace

Connection::CheckpointResult Connection::checkpoint_passive() {
  int rc = SQLITE_OK;
  auto result = checkpoint(db_, SQLITE_CHECKPOINT_PASSIVE, rc);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) fail(rc, "PRAGMA wal_checkpoint(PASSIVE)");
  return result;
}

Connection::CheckpointResult Connection::checkpoint_restart(std::chrono::milliseconds wait) {
  int rc = SQLITE_OK;
  sqlite3_busy_timeout(db_, static_cast<int>(wait.count()));
  auto result = checkpoint(db_, SQLITE_CHECKPOINT_RESTART, rc);
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) fail(rc, "PRAGMA wal_checkpoint(RESTART)");
  return result;
}

int Connection::authorize(void* self, int action, const char*, const char*, const char*,
                          const char*) {
  if (action != SQLITE_TRANSACTION && action != SQLITE_SAVEPOINT) return SQLITE_OK;
  return static_cast<const Connection*>(self)->allow_control_ ? SQLITE_OK : SQLITE_DENY;
}

void Connection::control(std::string_view sql) {
  // Statements are authorized when prepared, and again when SQLite re-prepares them inside
  // sqlite3_step after a schema change, so the permission covers both.
  allow_control_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{allow_control_};

  auto it = control_cache_.find(sql);
  if (it == control_cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), checked_length(sql),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    if (raw == nullptr) throw DatabaseError("empty SQL statement");
    it = control_cache_.emplace(std::string(sql), raw).first;
  }
  StatementUse use(it->second, reprepared_);
  const int rc = sqlite3_step(it->second);
  if (rc != SQLITE_DONE) fail(rc, sql);
}

void Connection::rollback_if_open() noexcept {
  if (autocommit()) return;
  try {
    control("ROLLBACK");
  } catch (...) {  // see the header: the error already on its way is the one to report
  }
}

void Connection::fail(int rc, std::string_view sql) const {
  const std::string message = sqlite3_errmsg(db_);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintViolation(message);
  if ((rc & 0xff) == SQLITE_AUTH) {
    throw DatabaseError(
        "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) belongs to the "
        "database, not to the work run inside read() or write(): " +
        excerpt(sql));
  }
  throw DatabaseError("SQLite error " + std::to_string(rc) + " (" + message +
                      ") in: " + excerpt(sql));
}

namespace {

// Whether the statement's first keyword is CREATE, DROP or ALTER (after white space).
bool changes_schema(std::string_view sql) {
  const auto start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  auto word = sql.substr(start, 6);
  std::string upper(word);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper.starts_with("CREATE") || upper.starts_with("DROP") || upper.starts_with("ALTER");
}

}  // namespace

Connection::Prepared& Connection::prepare(std::string_view sql) {
  // Called once per statement run: counted here for change_count().
  if (auto it = cache_.find(sql); it != cache_.end()) {
    if (it->second.changes_schema) ++schema_statements_;
    return it->second;
  }
  if (cache_.size() >= kMaxCachedStatements) clear_cache();

  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), checked_length(sql), SQLITE_PREPARE_PERSISTENT,
                                    &raw, &tail);
  if (rc != SQLITE_OK) fail(rc, sql);
  OwnedStatement stmt(raw);
  if (!stmt) throw DatabaseError("empty SQL statement: " + excerpt(sql));

  // A second statement would be silently ignored by SQLite; refuse it instead.
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  sqlite3_stmt* raw_next = nullptr;
  const int rc_next =
      sqlite3_prepare_v2(db_, rest.data(), checked_length(rest), &raw_next, nullptr);
  OwnedStatement next(raw_next);
  if (rc_next != SQLITE_OK) fail(rc_next, sql);
  if (next) {
    throw DatabaseError("one statement expected (use execute_script for several): " + excerpt(sql));
  }

  Prepared prepared;
  const int count = sqlite3_bind_parameter_count(stmt.get());
  for (int index = 1; index <= count; ++index) {
    const char* name = sqlite3_bind_parameter_name(stmt.get(), index);
    const int k = placeholder_number(name);
    if (k == 0) {
      throw DatabaseError("placeholder " + std::string(name != nullptr ? name : "?") +
                          " is not of the form $N in: " + excerpt(sql));
    }
    if (prepared.index_of.size() < static_cast<std::size_t>(k)) prepared.index_of.resize(k, 0);
    prepared.index_of[k - 1] = index;
  }
  for (std::size_t k = 0; k < prepared.index_of.size(); ++k) {
    if (prepared.index_of[k] == 0) {
      throw DatabaseError("$" + std::to_string(k + 1) + " is never used in: " + excerpt(sql));
    }
  }
  prepared.changes_schema = changes_schema(sql);
  if (prepared.changes_schema) ++schema_statements_;
  prepared.stmt = stmt.release();
  return cache_.emplace(std::string(sql), std::move(prepared)).first->second;
}

void Connection::bind(const Prepared& p, std::string_view sql, std::span<const Value> params) {
  if (params.size() != p.index_of.size()) {
    throw DatabaseError("the statement takes " + std::to_string(p.index_of.size()) +
                        " parameters, " + std::to_string(params.size()) +
                        " given: " + excerpt(sql));
  }
  for (std::size_t k = 0; k < params.size(); ++k) {
    const int index = p.index_of[k];
    const Value& v = params[k];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(p.stmt, index);
    } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
      rc = sqlite3_bind_int64(p.stmt, index, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(p.stmt, index, *d);
    } else {
      const auto& text = std::get<std::string>(v);
      // data() is never null, so an empty string binds '' and not NULL.
      rc = sqlite3_bind_text64(p.stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) fail(rc, sql);
  }
}

std::vector<Row> Connection::query(std::string_view sql, std::span<const Value> params) {
  Prepared& p = prepare(sql);
  StatementUse use(p.stmt, reprepared_);
  bind(p, sql, params);
  const int columns = sqlite3_column_count(p.stmt);
  std::vector<Row> rows;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(p.stmt)) == SQLITE_ROW) {
    std::vector<Value> values;
    values.reserve(static_cast<std::size_t>(columns));
    for (int i = 0; i < columns; ++i) values.push_back(column_value(p.stmt, i));
    rows.emplace_back(std::move(values));
  }
  if (rc != SQLITE_DONE) fail(rc, sql);
  return rows;
}

namespace {

// The row a statement stands on, read in place: texts are views of SQLite's buffers, valid until
// the next step.
class StatementRow final : public RowView {
 public:
  StatementRow(sqlite3_stmt* stmt, int columns) : stmt_(stmt), columns_(columns) {}
  std::size_t size() const override { return static_cast<std::size_t>(columns_); }
  bool is_null(std::size_t i) const override { return type(i) == SQLITE_NULL; }
  std::int64_t integer(std::size_t i) const override {
    const int t = type(i);
    if (t != SQLITE_INTEGER) wrong_type(i, "integer", t);
    return sqlite3_column_int64(stmt_, static_cast<int>(i));
  }
  std::string_view text(std::size_t i) const override {
    const int t = type(i);
    if (t != SQLITE_TEXT && t != SQLITE_BLOB) wrong_type(i, "text", t);
    const int column = static_cast<int>(i);
    const void* bytes = t == SQLITE_TEXT ? static_cast<const void*>(sqlite3_column_text(stmt_, column))
                                         : sqlite3_column_blob(stmt_, column);
    if (bytes == nullptr) return {};
    return {static_cast<const char*>(bytes),
            static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  int type(std::size_t i) const {
    if (i >= static_cast<std::size_t>(columns_)) {
      throw DatabaseError("column " + std::to_string(i) + ": out of range (the row has " +
                          std::to_string(columns_) + " columns)");
    }
    return sqlite3_column_type(stmt_, static_cast<int>(i));
  }
  // The message of Row's accessors.
  [[noreturn]] static void wrong_type(std::size_t i, std::string_view wanted, int got) {
    const std::string_view name = got == SQLITE_NULL      ? "NULL"
                                  : got == SQLITE_INTEGER ? "integer"
                                  : got == SQLITE_FLOAT   ? "real"
                                                          : "text";
    throw DatabaseError("column " + std::to_string(i) + ": expected " + std::string(wanted) +
                        ", got " + std::string(name));
  }

  sqlite3_stmt* stmt_;
  int columns_;
};

}  // namespace

void Connection::query_each(std::string_view sql, std::span<const Value> params,
                            const std::function<void(const RowView&)>& each) {
  Prepared& p = prepare(sql);
  StatementUse use(p.stmt, reprepared_);
  bind(p, sql, params);
  const StatementRow row(p.stmt, sqlite3_column_count(p.stmt));
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(p.stmt)) == SQLITE_ROW) each(row);
  if (rc != SQLITE_DONE) fail(rc, sql);
}

std::int64_t Connection::execute(std::string_view sql, std::span<const Value> params) {
  Prepared& p = prepare(sql);
  StatementUse use(p.stmt, reprepared_);
  bind(p, sql, params);
  // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so a DDL statement or
  // BEGIN would report a stale number; total_changes() tells whether this statement changed any.
  const std::int64_t before = sqlite3_total_changes64(db_);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(p.stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) fail(rc, sql);
  return sqlite3_total_changes64(db_) == before ? 0 : sqlite3_changes64(db_);
}

void Connection::execute_script(std::string_view sql) {
  const char* next = sql.data();
  const char* const end = sql.data() + sql.size();
  while (next < end) {
    const std::string_view rest(next, static_cast<std::size_t>(end - next));
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, rest.data(), checked_length(rest), &raw, &tail);
    if (rc != SQLITE_OK) fail(rc, rest);
    OwnedStatement stmt(raw);
    if (!stmt) break;  // only white space and comments remain
    const std::string_view statement(next, static_cast<std::size_t>(tail - next));
    if (sqlite3_bind_parameter_count(stmt.get()) != 0) {
      throw DatabaseError("a script takes no parameters: " + excerpt(statement));
    }
    if (!sqlite3_stmt_readonly(stmt.get())) ++schema_statements_;  // for change_count()
    int step = SQLITE_OK;
    while ((step = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (step != SQLITE_DONE) fail(step, statement);
    next = tail;
  }
}

}  // namespace todo::store::sqlite

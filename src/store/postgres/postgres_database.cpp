// PostgreSQL Database over libpq (docs/adr/0019): a bounded connection pool; each read() is one
// READ ONLY REPEATABLE READ transaction; write()s are queued for one writer thread that runs the
// writes waiting together in one SERIALIZABLE transaction (group commit), run again from the
// start when the server reports a serialization failure or a deadlock.
#include "store/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "log/log.h"
#include "store/group_commit.h"
#include "store/migrations.h"
#include "store/postgres/notification_listener.h"
#include "store/postgres/sql_scan.h"

namespace todo::store {
namespace {

using postgres::is_transaction_control;
using postgres::scan_sql;

constexpr std::size_t kSqlInMessages = 100;
// An arbitrary constant all Todo processes agree on: the key of the migration advisory lock.
constexpr std::int64_t kMigrationLockKey = 0x546f646f4d696772;  // "TodoMigr"
// The key of the advisory lock the writer threads of all processes take turns with.
constexpr std::int64_t kWriterLockKey = 0x546f646f57726974;  // "TodoWrit"
const std::string kTakeWriterLock =
    "SELECT pg_advisory_lock(" + std::to_string(kWriterLockKey) + ")";
const std::string kGiveWriterLockBack =
    "SELECT pg_advisory_unlock(" + std::to_string(kWriterLockKey) + ")";
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// Sent at the end of a write that appended to the log; the server delivers it at commit to every
// connection that LISTENs on the channel, and folds identical ones of a transaction into one.
const std::string kAnnounceAndCommit =
    std::string("SELECT pg_notify('") + postgres::kLogChannel + "', ''); COMMIT";

// Type OIDs (catalog/pg_type_d.h, stable across releases).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

std::string excerpt(std::string_view sql) {
  if (sql.size() <= kSqlInMessages) return std::string(sql);
  return std::string(sql.substr(0, kSqlInMessages)) + "...";
}

// A serialization failure (40001) or deadlock (40P01): the whole write is run again.
class WriteConflict : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ClearResult>;

std::string field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v == nullptr ? std::string() : std::string(v);
}

// The column list of a unique violation's detail, "Key (a, b)=(...) already exists.", without
// the values (which may be personal data and never go into a message).
std::string unique_columns(const std::string& detail) {
  const auto open = detail.find("Key (");
  const auto close = detail.find(")=(");
  if (open == std::string::npos || close == std::string::npos || close < open + 5) return {};
  std::string columns = detail.substr(open + 5, close - open - 5);
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = columns.find(", ", start);
    if (!out.empty()) out += ", ";
    out += columns.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return out;
}

// Messages in the form SQLite uses ("UNIQUE constraint failed: users.email"), so logs and
// callers read the same on both backends; the values the server puts in DETAIL never appear.
std::string constraint_message(const PGresult* r) {
  const std::string state = field(r, PG_DIAG_SQLSTATE);
  const std::string table = field(r, PG_DIAG_TABLE_NAME);
  const std::string constraint = field(r, PG_DIAG_CONSTRAINT_NAME);
  if (state == "23505") {
    const auto columns = unique_columns(field(r, PG_DIAG_MESSAGE_DETAIL));
    std::string qualified;
    std::size_t start = 0;
    while (start <= columns.size() && !columns.empty()) {
      const auto comma = columns.find(", ", start);
      if (!qualified.empty()) qualified += ", ";
      qualified +=
          table + "." +
          columns.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    return "UNIQUE constraint failed: " + (qualified.empty() ? constraint : qualified);
  }
  if (state == "23503") return "FOREIGN KEY constraint failed: " + table + " (" + constraint + ")";
  if (state == "23502")
    return "NOT NULL constraint failed: " + table + "." + field(r, PG_DIAG_COLUMN_NAME);
  if (state == "23514") return "CHECK constraint failed: " + table + " (" + constraint + ")";
  return "constraint failed (" + state + "): " + field(r, PG_DIAG_MESSAGE_PRIMARY);
}

[[noreturn]] void throw_result_error(const PGresult* r, PGconn* conn, std::string_view sql) {
  const std::string state = r == nullptr ? std::string() : field(r, PG_DIAG_SQLSTATE);
  std::string primary = r == nullptr ? std::string() : field(r, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) primary = PQerrorMessage(conn);
  while (!primary.empty() && primary.back() == '\n') primary.pop_back();
  const std::string where = excerpt(sql);
  if (state.rfind("23", 0) == 0) throw ConstraintViolation(constraint_message(r) + " in " + where);
  // Class 08 (connection exception), 57P01..03 (shut down by an administrator, crash shutdown,
  // cannot connect now), or an error libpq made itself (no SQLSTATE: no answer from the server).
  // The last is not always on a connection libpq already calls bad: a send that failed because
  // the server had gone (an immediate shutdown warns with a notice, not an error, and closes) is
  // reported as "server closed the connection unexpectedly" with the status still OK.
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
      state.empty()) {
    throw DatabaseUnavailable(where + ": the database is unreachable: " + primary +
                              (state.empty() ? "" : " (SQLSTATE " + state + ")"));
  }
  if (state == "40001" || state == "40P01") {
    throw WriteConflict(where + ": " + primary + " (SQLSTATE " + state + ")");
  }
  throw DatabaseError(where + ": " + primary + (state.empty() ? "" : " (SQLSTATE " + state + ")"));
}

std::int64_t parse_integer(const char* text, int length) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text, text + length, n);
  if (ec != std::errc() || end != text + length) {
    throw DatabaseError("unexpected integer from the server: " + std::string(text, length));
  }
  return n;
}

double parse_real(const char* text, int length) {
  const std::string s(text, static_cast<std::size_t>(length));
  if (s == "Infinity") return HUGE_VAL;
  if (s == "-Infinity") return -HUGE_VAL;
  if (s == "NaN") return std::nan("");
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size()) {
    throw DatabaseError("unexpected number from the server: " + s);
  }
  return d;
}

// A result field (text format) as the Value the repositories expect: integers (and booleans,
// as 0/1) as integers, floating point as reals, bytea as its bytes, everything else as text.
// NUMERIC (e.g. SUM over BIGINT) is an integer when it is integral, as SQLite would return it.
Value column_value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) return std::monostate{};
  const char* text = PQgetvalue(r, row, col);
  const int length = PQgetlength(r, row, col);
  switch (PQftype(r, col)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      return parse_integer(text, length);
    case kBoolOid:
      return std::int64_t{text[0] == 't' ? 1 : 0};
    case kFloat4Oid:
    case kFloat8Oid:
      return parse_real(text, length);
    case kNumericOid: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(text, text + length, n);
      if (ec == std::errc() && end == text + length) return n;
      return parse_real(text, length);
    }
    case kByteaOid: {
      std::size_t size = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
      if (bytes == nullptr) throw DatabaseError("cannot decode a bytea value");
      std::string out(reinterpret_cast<const char*>(bytes), size);
      PQfreemem(bytes);
      return out;
    }
    default:
      return std::string(text, static_cast<std::size_t>(length));
  }
}

// The parameters of one statement in libpq's form. Integers and reals are typed (int8, float8)
// in text form; text is left for the server to type from its context, sent in binary form (its
// exact bytes, NUL included) only when it holds a NUL, which only a bytea column accepts.
class Params {
 public:
  explicit Params(std::span<const Value> values) {
    const auto n = values.size();
    types_.resize(n);
    texts_.resize(n);
    pointers_.resize(n);
    lengths_.resize(n);
    formats_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Value& v = values[i];
      if (std::holds_alternative<std::monostate>(v)) {
        pointers_[i] = nullptr;
        continue;
      }
      if (const auto* k = std::get_if<std::int64_t>(&v)) {
        types_[i] = kInt8Oid;
        texts_[i] = std::to_string(*k);
      } else if (const auto* d = std::get_if<double>(&v)) {
        types_[i] = kFloat8Oid;
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, *d);
        texts_[i] = std::isinf(*d)   ? (*d > 0 ? "Infinity" : "-Infinity")
                    : std::isnan(*d) ? "NaN"
                                     : std::string(buffer, end);
      } else {
        texts_[i] = std::get<std::string>(v);
        if (texts_[i].find('\0') != std::string::npos) formats_[i] = 1;
      }
      lengths_[i] = static_cast<int>(texts_[i].size());
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::holds_alternative<std::monostate>(values[i])) pointers_[i] = texts_[i].c_str();
    }
  }
  int size() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<Oid> types_;
  std::vector<std::string> texts_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A row of a result as a RowView, read in place (Transaction::query_each's contract): the same
// types as column_value() gives a Row, and the same errors for a wrong type or column.
class ResultRow final : public RowView {
 public:
  explicit ResultRow(const PGresult* r) : r_(r), columns_(PQnfields(r)) {}
  void set_row(int row) { row_ = row; }
  std::size_t size() const override { return static_cast<std::size_t>(columns_); }
  bool is_null(std::size_t i) const override { return PQgetisnull(r_, row_, column(i)) != 0; }
  std::int64_t integer(std::size_t i) const override {
    const Value v = column_value(r_, row_, column(i));
    if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
    throw DatabaseError("column " + std::to_string(i) + ": expected integer");
  }
  std::string_view text(std::size_t i) const override {
    const int c = column(i);
    if (PQgetisnull(r_, row_, c) != 0 || !is_text(PQftype(r_, c))) {
      throw DatabaseError("column " + std::to_string(i) + ": expected text");
    }
    return {PQgetvalue(r_, row_, c), static_cast<std::size_t>(PQgetlength(r_, row_, c))};
  }

 private:
  int column(std::size_t i) const {
    if (i >= static_cast<std::size_t>(columns_)) {
      throw DatabaseError("column " + std::to_string(i) + ": out of range (the row has " +
                          std::to_string(columns_) + " columns)");
    }
    return static_cast<int>(i);
  }
  // column_value() gives such a column as text.
  static bool is_text(Oid type) {
    switch (type) {
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
      case kOidOid:
      case kBoolOid:
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid:
      case kByteaOid:
        return false;
      default:
        return true;
    }
  }

  const PGresult* r_;
  int columns_;
  int row_ = 0;
};

// A read of one statement queued by read_statement_async() for the reader threads.
struct PipelinedRead {
  std::string sql;
  std::unique_ptr<Params> params;
  std::function<void(const RowView&)> each;
  std::function<void(std::exception_ptr)> done;
};

// Every $k from $1 to $N is used, and nothing else, so a mistake in the parameters is an error
// here instead of a value bound to the wrong place (the server would accept unused typed ones).
void check_placeholders(const postgres::SqlShape& shape, std::size_t count, std::string_view sql) {
  bool ok = shape.placeholders.size() == count;
  if (ok && count > 0)
    ok =
        *shape.placeholders.begin() == 1 && *shape.placeholders.rbegin() == static_cast<int>(count);
  if (!ok) {
    throw DatabaseError(excerpt(sql) + ": the statement's placeholders do not match the " +
                        std::to_string(count) + " parameters given");
  }
}

void refuse_transaction_control(const postgres::SqlShape& shape, std::string_view sql) {
  for (const auto& keyword : shape.leading_keywords) {
    if (is_transaction_control(keyword)) {
      throw DatabaseError(excerpt(sql) + ": " + keyword +
                          " is not allowed inside a transaction of the database interface");
    }
  }
}

// The shape of `sql`, checked before the server sees it (a refused statement would abort a
// transaction): exactly one statement, no transaction control, a parameter for each placeholder.
const postgres::SqlShape& checked_statement(std::string_view sql, std::span<const Value> params) {
  const auto& shape = postgres::scan_sql_remembered(sql);
  refuse_transaction_control(shape, sql);
  if (shape.leading_keywords.size() != 1) {
    throw DatabaseError(excerpt(sql) + ": expected exactly one statement, found " +
                        std::to_string(shape.leading_keywords.size()));
  }
  check_placeholders(shape, params.size(), sql);
  return shape;
}

// The server process IDs of one pool's open connections, so its LISTEN connection can tell its
// own commits' notifications (whose partitions the listeners already heard) from other
// processes'. An ID leaves before its connection closes, so a server process that later reuses
// it is not taken for ours.
class BackendPids {
 public:
  void add(int pid) {
    std::lock_guard lock(mutex_);
    pids_.insert(pid);
  }
  void remove(int pid) {
    std::lock_guard lock(mutex_);
    pids_.erase(pid);
  }
  bool contains(int pid) const {
    std::lock_guard lock(mutex_);
    return pids_.contains(pid);
  }

 private:
  mutable std::mutex mutex_;
  std::set<int> pids_;
};

class Connection {
 public:
  // `pids`, when given, holds this connection's server process ID while it is open.
  explicit Connection(const PostgresOptions& options, BackendPids* pids = nullptr) : pids_(pids) {
    const std::string timeout = std::to_string(options.connect_timeout_s);
    const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {options.url.c_str(), timeout.c_str(), "todo", nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (conn_ == nullptr) throw DatabaseError("cannot allocate a PostgreSQL connection");
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn_);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      PQfinish(conn_);
      throw DatabaseUnavailable("cannot connect to PostgreSQL at " +
                                redact_database_url(options.url) + ": " + message);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    try {
      command("SET statement_timeout = " + std::to_string(options.statement_timeout_ms) +
              "; SET client_min_messages = warning");
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
    pid_ = PQbackendPID(conn_);
    if (pids_) pids_->add(pid_);
  }
  ~Connection() {
    if (pids_) pids_->remove(pid_);
    PQfinish(conn_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement with parameters (the extended protocol: exactly one statement, parameters
  // never spliced into the text), prepared on this connection the first time it runs with these
  // parameter types, and executed from then on without being parsed and planned again. A
  // statement deferred with defer() goes first, in the same round trip (pipeline mode).
  Result run(std::string_view sql, std::span<const Value> values) {
    settle();
    if (!deferred_.empty()) {
      std::vector<Deferred> items = take_deferred();
      items.push_back(Deferred{std::string(sql), std::make_unique<Params>(values), -1, false});
      Result r = exchange(items);
      ++completed_;
      return r;
    }
    const Params params(values);
    const std::string& name = prepared(sql, params);
    Result r(PQexecPrepared(conn_, name.c_str(), params.size(), params.values(), params.lengths(),
                            params.formats(), 0));
    check(r.get(), sql);
    ++completed_;
    return r;
  }

  // Parameterless statements through the simple protocol (several allowed).
  void command(const std::string& sql) {
    settle();
    flush();
    if (!deferred_.empty()) {
      std::string all;
      for (const auto& statement : take_deferred()) all += statement.sql + "; ";
      all += sql;
      Result r(PQexec(conn_, all.c_str()));
      check(r.get(), all);
      ++completed_;
      return;
    }
    Result r(PQexec(conn_, sql.c_str()));
    check(r.get(), sql);
    ++completed_;
  }

  // Parameterless statements, each its own transaction unless it begins one (a Sync after each),
  // in one round trip (pipeline mode). The first failure is thrown once every answer is read.
  void commands_in_one_round_trip(const std::vector<std::string>& statements) {
    settle();
    if (!deferred_.empty()) throw DatabaseError("statements are waiting to be sent");
    if (!pipeline(statements, /*sync_each=*/true)) {
      fail(nullptr, statements.front());
    }
    Result failure;
    std::string failed_sql;
    std::size_t seen = 0;
    const int synced = read_pipeline(static_cast<int>(statements.size()), [&](Result r) {
      ++seen;
      const auto status = PQresultStatus(r.get());
      if (status == PGRES_PIPELINE_ABORTED || status == PGRES_COMMAND_OK ||
          status == PGRES_TUPLES_OK || failure) {
        return;
      }
      failed_sql = statements[std::min(seen, statements.size()) - 1];
      failure = std::move(r);
    });
    if (failure) fail(failure.get(), failed_sql);
    if (synced < static_cast<int>(statements.size())) fail(nullptr, statements.front());
    ++completed_;
  }

  // Reads of one statement each, in one round trip (pipeline mode, one Sync: the server sends
  // all the answers at once); a statement this connection has not prepared yet is prepared in the
  // same pipeline. Calls each read's `each` with its rows, and sets `errors[i]` to read i's
  // failure (null: it succeeded; a throwing `each` is its read's failure; a read the connection
  // was lost before answering gets DatabaseUnavailable). A failure aborts the rest of its
  // pipeline, so the reads after it run again in another one: each read fails for itself only.
  // Throws, having called no `each`, when nothing could be sent or the connection was lost before
  // any statement succeeded (the server closed it since it was pooled), so the reads may run
  // again on a fresh connection.
  void read_pipelined(std::span<PipelinedRead* const> reads,
                      std::vector<std::exception_ptr>& errors) {
    settle();
    if (!deferred_.empty()) throw DatabaseError("statements are waiting to be sent");
    errors.assign(reads.size(), nullptr);
    if (statements_.size() + reads.size() >= kMaxPreparedStatements) {
      command("DEALLOCATE ALL");  // the cache starts over (as in prepared())
      statements_.clear();
    }
    std::vector<std::size_t> pending(reads.size());
    for (std::size_t i = 0; i < reads.size(); ++i) pending[i] = i;
    bool delivered = false;  // a statement succeeded (a row may have been given)
    while (!pending.empty()) {
      try {
        pending = pipeline_reads(reads, pending, errors, delivered);
      } catch (...) {
        // A later pipeline could not be sent: rows were given already, so the reads it held fail
        // rather than all of them running again.
        if (!delivered) throw;
        for (const std::size_t i : pending) errors[i] = std::current_exception();
        break;
      }
    }
    if (!delivered && !healthy()) fail(nullptr, reads.front()->sql);
    ++completed_;
  }

  // `reads[which]` in one pipeline with one Sync; returns those a failure before them aborted.
  std::vector<std::size_t> pipeline_reads(std::span<PipelinedRead* const> reads,
                                          const std::vector<std::size_t>& which,
                                          std::vector<std::exception_ptr>& errors,
                                          bool& delivered) {
    struct Slot {
      std::size_t read;
      std::string prepare_key;  // set: the result of preparing the read's statement
    };
    std::vector<Slot> slots;
    slots.reserve(which.size());
    std::unordered_map<std::string, std::string> preparing;  // key -> name, in this pipeline
    bool sent = PQenterPipelineMode(conn_) == 1;
    for (const std::size_t i : which) {
      if (!sent) break;
      sent = send_prepared(reads[i]->sql, *reads[i]->params, preparing, [&](std::string key) {
        slots.push_back(Slot{i, std::move(key)});
      });
    }
    if (!sent || PQpipelineSync(conn_) != 1) fail(nullptr, reads[which.front()]->sql);
    std::vector<std::size_t> aborted;
    std::vector<bool> finished(reads.size(), false);  // its statement's answer was read
    std::size_t at = 0;
    const auto on_result = [&](Result r) {
      if (at >= slots.size()) return;
      const Slot& slot = slots[at++];
      const bool execute = slot.prepare_key.empty();
      const auto status = PQresultStatus(r.get());
      if (status == PGRES_PIPELINE_ABORTED) {
        // After another read's failure (or its own statement's, whose error it has already).
        if (execute && !errors[slot.read]) aborted.push_back(slot.read);
        return;
      }
      if (execute) finished[slot.read] = true;
      if (errors[slot.read]) return;
      const PipelinedRead& read = *reads[slot.read];
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        errors[slot.read] = failure(r.get(), read.sql);
        return;
      }
      delivered = true;
      if (!execute) {
        statements_.emplace(slot.prepare_key, preparing.at(slot.prepare_key));
        return;
      }
      try {
        ResultRow row(r.get());
        for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
          row.set_row(i);
          read.each(row);
        }
      } catch (...) {
        errors[slot.read] = std::current_exception();
      }
    };
    if (read_pipeline(1, on_result) == 1) return aborted;
    // The connection was lost: the reads it did not finish (aborted ones included) fail with it.
    for (const std::size_t i : which) {
      if (!errors[i] && !finished[i]) errors[i] = failure(nullptr, reads[i]->sql);
    }
    return {};
  }

  // `sql` (parameterless: BEGIN, SAVEPOINT, RELEASE) is sent together with the next statement
  // run() or command(), in one round trip, or never if none runs (then cancel_deferred()).
  void defer(std::string sql) {
    deferred_.push_back(Deferred{std::move(sql), nullptr, -1, false});
  }
  void cancel_deferred() { deferred_.clear(); }

  // A statement whose answer nobody reads (Transaction::execute_unread), of the write `owner`
  // (set_owner()): sent with the next statement that waits, or by flush(), in the same round trip.
  // Should it fail, the failure is thrown from there and kept for the writer (unread_failed()).
  // `in_savepoint`: queued inside a savepoint of the work, where the work means to catch failures.
  void defer_unread(std::string_view sql, std::span<const Value> values, bool in_savepoint) {
    deferred_.push_back(
        Deferred{std::string(sql), std::make_unique<Params>(values), owner_, in_savepoint});
  }
  // The write (its place in the batch) whose unread statements defer_unread() queues from now on.
  void set_owner(int owner) { owner_ = owner; }
  // Sends the unread statements still waiting (with whatever was deferred before them) and reads
  // their answers: one round trip, none when there are none.
  void flush() {
    settle();
    const bool unread = std::any_of(deferred_.begin(), deferred_.end(),
                                    [](const Deferred& d) { return d.params != nullptr; });
    if (!unread) return;
    std::vector<Deferred> items = take_deferred();
    exchange(items);
    ++completed_;
  }
  // An unread statement failed (not for a conflict, nor for a lost connection).
  struct UnreadFailure {
    std::exception_ptr error;
    int owner = -1;  // the write it belongs to
    // Queued inside a savepoint of the work: its write must run again with each statement in a
    // savepoint, where the failure is the work's to catch (not the write's).
    bool in_savepoint = false;
  };
  bool unread_failed() const { return unread_failure_.has_value(); }
  UnreadFailure take_unread_failure() {
    UnreadFailure failure = std::move(*unread_failure_);
    unread_failure_.reset();
    return failure;
  }
  // Savepoints cost no round trip of their own: SAVEPOINT and RELEASE go with the next
  // statement, and a savepoint nothing ran in is never sent at all.
  void open_savepoint(const std::string& name) { defer("SAVEPOINT " + name); }
  void release_savepoint(const std::string& name) {
    if (!take_back("SAVEPOINT " + name)) defer("RELEASE SAVEPOINT " + name);
  }
  // Takes back the last deferred statement if it is `sql` (a SAVEPOINT nothing ran in yet).
  bool take_back(const std::string& sql) {
    if (deferred_.empty() || deferred_.back().params || deferred_.back().sql != sql) return false;
    deferred_.pop_back();
    return true;
  }
  // Undoes what ran since open_savepoint(name) and ends the savepoint.
  void rollback_savepoint(const std::string& name) {
    if (take_back("SAVEPOINT " + name)) return;
    command("ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name);
  }

  // Sends `sql` (parameterless, e.g. the COMMIT of a read) and returns without waiting for its
  // answer, which the next use of the connection reads first (settle()). The answer of a
  // read-only transaction's COMMIT tells nothing the reader needs.
  void send_without_waiting(const std::string& sql) {
    settle();
    flush();
    std::vector<std::string> statements;
    for (const auto& statement : take_deferred()) statements.push_back(statement.sql);
    statements.push_back(sql);
    if (!pipeline(statements, /*sync_each=*/false) || PQpipelineSync(conn_) != 1) {
      fail(nullptr, sql);
    }
    unread_ = true;
  }

  // Statements run() or command() completed on this connection (to tell whether any did since
  // some point).
  std::uint64_t completed() const { return completed_; }

  bool healthy() const { return !poisoned_ && PQstatus(conn_) == CONNECTION_OK; }
  // Never pooled again (e.g. it may still hold a session lock it could not give back).
  void poison() { poisoned_ = true; }
  // Idle once the answer sent without waiting is read; it is read before any other use.
  bool idle() const { return unread_ || PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  PGTransactionStatusType status() {
    settle();
    return PQtransactionStatus(conn_);
  }

  // For cleanup while another error is on its way: a failure here leaves the connection outside
  // the pool (see Pool::release).
  void rollback_if_open() noexcept {
    deferred_.clear();
    unread_failure_.reset();
    try {
      settle();
    } catch (...) {
      return;
    }
    if (!healthy() || PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    Result r(PQexec(conn_, "ROLLBACK"));
  }

 private:
  // Reads the answer of what send_without_waiting() sent. A failure closes nothing but is thrown;
  // the connection is then unhealthy or in a failed transaction, and is not pooled again.
  void settle() {
    if (!unread_) return;
    unread_ = false;
    std::string error;
    const bool synced = read_pipeline(1, [&](Result r) {
      if (PQresultStatus(r.get()) == PGRES_COMMAND_OK || !error.empty()) return;
      error = PQresultErrorMessage(r.get());
      if (error.empty()) error = PQerrorMessage(conn_);
    }) == 1;
    if (!error.empty() || !synced) {
      while (!error.empty() && error.back() == '\n') error.pop_back();
      throw DatabaseUnavailable("the answer to a statement sent earlier on this connection: " +
                                (error.empty() ? std::string("the connection was lost") : error));
    }
  }

  // A statement waiting to be sent: parameterless (BEGIN, SAVEPOINT, RELEASE), or with its
  // parameters (an unread statement of the write `owner`, or the statement run() waits for).
  struct Deferred {
    std::string sql;
    std::unique_ptr<Params> params;  // null: parameterless
    int owner = -1;                  // the write an unread statement belongs to
    bool in_savepoint = false;       // queued inside a savepoint of the work
  };

  std::vector<Deferred> take_deferred() {
    std::vector<Deferred> items = std::move(deferred_);
    deferred_.clear();
    return items;
  }

  // `items` in one round trip: pipeline mode, one Sync, each statement with parameters prepared
  // first where this connection has not yet (once, should the same one come twice). Returns the
  // last item's result. The first failure is thrown once every result is read; when it is an
  // unread statement's (and no conflict or lost connection), it is also kept for the writer
  // (unread_failed()), whichever statement's call it is thrown from.
  Result exchange(const std::vector<Deferred>& items) {
    struct Slot {
      std::size_t item;
      std::string prepare_key;  // non-empty: the result of preparing the item's statement
    };
    std::vector<Slot> slots;
    std::unordered_map<std::string, std::string> preparing;  // key -> name, in this pipeline
    bool sent = PQenterPipelineMode(conn_) == 1;
    if (sent && statements_.size() + items.size() >= kMaxPreparedStatements) {
      // The cache starts over (as in prepared()); what this pipeline prepares is kept.
      sent =
          PQsendQueryParams(conn_, "DEALLOCATE ALL", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
      statements_.clear();
      slots.push_back(Slot{items.size(), {}});
    }
    for (std::size_t i = 0; sent && i < items.size(); ++i) {
      const Deferred& item = items[i];
      if (!item.params) {
        sent = PQsendQueryParams(conn_, item.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                                 0) == 1;
        slots.push_back(Slot{i, {}});
        continue;
      }
      sent = send_prepared(item.sql, *item.params, preparing, [&](std::string key) {
        slots.push_back(Slot{i, std::move(key)});
      });
    }
    const std::string_view last_sql = items.empty() ? std::string_view() : items.back().sql;
    if (!sent || PQpipelineSync(conn_) != 1) fail(nullptr, last_sql);
    Result failure;
    std::size_t failed_item = items.size();
    Result last;
    std::size_t seen = 0;
    const bool synced = read_pipeline(1, [&](Result r) {
      const std::size_t at = seen++;
      if (at >= slots.size()) return;
      const Slot& slot = slots[at];
      const auto status = PQresultStatus(r.get());
      if (status == PGRES_PIPELINE_ABORTED) return;
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (!slot.prepare_key.empty()) {
          statements_.emplace(slot.prepare_key, preparing.at(slot.prepare_key));
        } else if (slot.item + 1 == items.size()) {
          last = std::move(r);
        }
        return;
      }
      if (failure) return;
      failed_item = slot.item;
      failure = std::move(r);
    }) == 1;
    if (failure) {
      const bool unread = failed_item < items.size() && items[failed_item].owner >= 0;
      const std::string_view sql =
          failed_item < items.size() ? std::string_view(items[failed_item].sql) : "DEALLOCATE ALL";
      try {
        fail(failure.get(), sql);
      } catch (const WriteConflict&) {
        throw;
      } catch (const DatabaseUnavailable&) {
        throw;
      } catch (...) {
        if (unread && healthy()) {
          unread_failure_ = UnreadFailure{std::current_exception(), items[failed_item].owner,
                                          items[failed_item].in_savepoint};
        }
        throw;
      }
    }
    if (!synced || !last) fail(nullptr, last_sql);
    return last;
  }

  // Queues the execution of `sql` in the pipeline being built, preceded by its preparation where
  // this connection has not prepared it yet (once per pipeline: `preparing`, key -> name, holds
  // those this pipeline prepares). Calls `expect` for each result to come, in order: with the
  // statement's key for the preparation's, empty for the execution's. False when libpq refused.
  template <typename Expect>
  bool send_prepared(const std::string& sql, const Params& params,
                     std::unordered_map<std::string, std::string>& preparing, Expect&& expect) {
    std::string key = statement_key(sql, params);
    std::string name;
    bool sent = true;
    if (auto found = statements_.find(key); found != statements_.end()) {
      name = found->second;
    } else if (auto pending = preparing.find(key); pending != preparing.end()) {
      name = pending->second;
    } else {
      name = next_statement_name();
      preparing.emplace(key, name);
      sent = PQsendPrepare(conn_, name.c_str(), sql.c_str(), params.size(), params.types()) == 1;
      expect(std::move(key));
    }
    sent = sent && PQsendQueryPrepared(conn_, name.c_str(), params.size(), params.values(),
                                       params.lengths(), params.formats(), 0) == 1;
    expect(std::string());
    return sent;
  }

  // Reads a pipeline's results up to its `syncs`-th Sync, gives every other result to
  // `on_result` in order, and leaves pipeline mode. Returns the Syncs read: fewer when the
  // connection is lost. libpq does not always call it lost: after a send that failed (the server
  // had gone), it gives the failure as one result without SQLSTATE and then only nulls, never
  // the Sync, with the status still OK. Such a result, or two nulls in a row (one ends each
  // statement's results; a second means nothing more will come), poisons the connection and
  // ends the reading, where waiting for the Sync would never end.
  template <typename OnResult>
  int read_pipeline(int syncs, OnResult&& on_result) {
    int synced = 0;
    bool after_null = false;
    while (synced < syncs && healthy()) {
      Result r(PQgetResult(conn_));
      if (!r) {
        if (after_null) poisoned_ = true;
        after_null = true;
        continue;
      }
      after_null = false;
      const auto status = PQresultStatus(r.get());
      if (status == PGRES_PIPELINE_SYNC) {
        ++synced;
        continue;
      }
      if (status == PGRES_FATAL_ERROR && field(r.get(), PG_DIAG_SQLSTATE).empty()) poisoned_ = true;
      on_result(std::move(r));
    }
    PQexitPipelineMode(conn_);
    return synced;
  }

  // Enters pipeline mode and queues parameterless statements (a Sync after each when
  // `sync_each`); false when libpq refused one.
  bool pipeline(const std::vector<std::string>& statements, bool sync_each) {
    bool sent = PQenterPipelineMode(conn_) == 1;
    for (const auto& statement : statements) {
      sent = sent &&
             PQsendQueryParams(conn_, statement.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                               0) == 1 &&
             (!sync_each || PQpipelineSync(conn_) == 1);
    }
    return sent;
  }

  static std::string statement_key(std::string_view sql, const Params& params) {
    std::string key(sql);
    key.push_back('\0');
    for (int i = 0; i < params.size(); ++i) key += std::to_string(params.types()[i]) + ',';
    return key;
  }
  std::string next_statement_name() { return "todo_" + std::to_string(++statements_prepared_); }

  // The name of the statement prepared for `sql` with the parameter types of `params` (a NULL is
  // untyped, so its statement differs from the one with a value there). Statements are built from
  // constant text and a bounded set of optional clauses, so few are prepared; should the cache
  // still grow past its bound, it starts over.
  const std::string& prepared(std::string_view sql, const Params& params) {
    std::string key = statement_key(sql, params);
    if (auto found = statements_.find(key); found != statements_.end()) return found->second;
    if (statements_.size() >= kMaxPreparedStatements) {
      command("DEALLOCATE ALL");
      statements_.clear();
    }
    std::string name = next_statement_name();
    const std::string text(sql);
    Result r(PQprepare(conn_, name.c_str(), text.c_str(), params.size(), params.types()));
    check(r.get(), sql);
    return statements_.emplace(std::move(key), std::move(name)).first->second;
  }

  void check(const PGresult* r, std::string_view sql) {
    const auto status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    if (status == PGRES_EMPTY_QUERY) throw DatabaseError(excerpt(sql) + ": no statement to run");
    fail(r, sql);
  }

  // Throws what the failed statement's result (or, without one, the connection) tells. An error
  // libpq made itself (no SQLSTATE), or a send libpq refused (no result), means the server did
  // not answer: the connection is never used again, whatever status libpq still gives it (nor
  // drained: whatever a refused pipeline still holds goes with it when it is closed).
  [[noreturn]] void fail(const PGresult* r, std::string_view sql) {
    if (r == nullptr || field(r, PG_DIAG_SQLSTATE).empty()) poisoned_ = true;
    throw_result_error(r, conn_, sql);
  }

  // What fail() would throw, as a value.
  std::exception_ptr failure(const PGresult* r, std::string_view sql) {
    try {
      fail(r, sql);
    } catch (...) {
      return std::current_exception();
    }
  }

  static constexpr std::size_t kMaxPreparedStatements = 1000;
  PGconn* conn_ = nullptr;
  BackendPids* pids_ = nullptr;
  int pid_ = 0;
  std::unordered_map<std::string, std::string> statements_;  // sql + types -> prepared name
  std::uint64_t statements_prepared_ = 0;
  std::vector<Deferred> deferred_;     // sent with the next statement (defer(), defer_unread())
  int owner_ = -1;                     // of the unread statements queued from now on
  std::optional<UnreadFailure> unread_failure_;  // for the writer
  bool unread_ = false;  // an answer sent for by send_without_waiting() is still to be read
  std::uint64_t completed_ = 0;
  bool poisoned_ = false;
};

// The threads that run read_statement_async()'s reads: each takes the reads waiting (at most
// `max_batch`), runs them together through `run` (one pipeline) and calls each one's `done`,
// until stopped with nothing left waiting.
class PipelinedReaders {
 public:
  using Run =
      std::function<void(std::span<PipelinedRead* const>, std::vector<std::exception_ptr>&)>;
  PipelinedReaders(std::size_t max_batch, Run run) : max_batch_(max_batch), run_(std::move(run)) {}
  ~PipelinedReaders() { stop(); }
  PipelinedReaders(const PipelinedReaders&) = delete;
  PipelinedReaders& operator=(const PipelinedReaders&) = delete;

  void start(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
  }
  // Takes `read`; false, leaving it there, once stopping.
  bool push(std::unique_ptr<PipelinedRead>& read) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return false;
      waiting_.push_back(std::move(read));
    }
    changed_.notify_one();
    return true;
  }
  // Runs the reads still waiting, then joins the threads.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

 private:
  void loop() {
    std::vector<std::unique_ptr<PipelinedRead>> batch;
    std::vector<PipelinedRead*> reads;
    std::vector<std::exception_ptr> errors;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !waiting_.empty() || stopping_; });
        if (waiting_.empty()) return;
        const std::size_t n = std::min(waiting_.size(), max_batch_);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(waiting_.front()));
          waiting_.pop_front();
        }
      }
      for (const auto& read : batch) reads.push_back(read.get());
      try {
        run_(reads, errors);
      } catch (...) {
        errors.assign(reads.size(), std::current_exception());
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        try {
          batch[i]->done(i < errors.size() ? errors[i] : nullptr);
        } catch (const std::exception& e) {
          log::error("a read's completion threw", {{"error", e.what()}});
        }
      }
      batch.clear();
      reads.clear();
    }
  }

  const std::size_t max_batch_;
  const Run run_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<PipelinedRead>> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class PostgresTransaction final : public Transaction {
 public:
  // `isolate_statements`: in a write, each statement that changes data runs in a savepoint of its
  // own. Without it, such a statement that fails aborts the transaction, and the write is run
  // again with it if the work went on after the failure (failed_unisolated()). `appends`: where a
  // write collects what it appends to the log for the commit listeners (null when not wanted).
  PostgresTransaction(Connection& connection, bool writable, bool isolate_statements = true,
                      LogAppends* appends = nullptr)
      : connection_(connection),
        writable_(writable),
        isolate_statements_(isolate_statements),
        appends_(appends) {}
  using Transaction::execute;
  using Transaction::execute_unread;
  using Transaction::query;

  Dialect dialect() const override { return Dialect::kPostgres; }

  std::vector<Row> query(std::string_view sql, std::span<const Value> params) override {
    Result r = run(sql, params);
    std::vector<Row> rows;
    const int n = PQntuples(r.get());
    const int columns = PQnfields(r.get());
    rows.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(column_value(r.get(), i, c));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  // In a write (not one whose statements each run in a savepoint), queued on the connection and
  // sent with the next statement that waits, or when the write ends (flush()): its failure is the
  // write's, whichever call it surfaces from (Connection::unread_failed()).
  void execute_unread(std::string_view sql, std::span<const Value> params) override {
    if (!writable_ || isolate_statements_) {
      execute(sql, params);
      return;
    }
    checked_statement(sql, params);
    went_on_if_failed(sql);
    connection_.defer_unread(sql, params, depth_ > 0);
    changed_ = true;
  }

  // Sends the unread statements still queued and reads their answers.
  void flush() {
    guarded([&] { connection_.flush(); });
  }

  std::int64_t execute(std::string_view sql, std::span<const Value> params) override {
    Result r = run(sql, params);
    const char* changed = PQcmdTuples(r.get());
    if (changed == nullptr || *changed == '\0') return 0;
    return parse_integer(changed, static_cast<int>(std::strlen(changed)));
  }

  void execute_script(std::string_view sql) override {
    const auto shape = scan_sql(sql);
    refuse_transaction_control(shape, sql);
    if (!shape.placeholders.empty()) {
      throw DatabaseError(excerpt(sql) + ": a script takes no parameters");
    }
    guarded([&] { connection_.command(std::string(sql)); });
  }

  void savepoint(const std::function<void()>& work) override {
    used_savepoints_ = true;
    const std::string name = "todo_s" + std::to_string(++depth_);
    struct Depth {
      int& depth;
      ~Depth() { --depth; }
    } restore{depth_};
    // Unread statements the work queues go on waiting after it: should one fail, wherever that
    // surfaces, the write runs again with each statement in a savepoint of its own, where
    // execute_unread() runs at once and the failure is this work's to catch (ADR 0028).
    connection_.open_savepoint(name);
    try {
      work();
    } catch (...) {
      if (connection_.healthy() && !connection_.unread_failed()) {
        connection_.rollback_savepoint(name);
      }
      throw;
    }
    connection_.release_savepoint(name);
  }

  // Remembered, and announced to other processes once just before COMMIT (outside every
  // savepoint, so a savepoint rolled back later cannot take the notification with it; a spurious
  // wake-up costs one poll). The partition is collected for this process's listeners; a write
  // rolled back by a savepoint afterwards leaves it in, which is as harmless.
  void announce_log_append(std::string_view topic, int partition) override {
    announces_ = true;
    if (appends_ != nullptr) appends_->add(topic, partition);
  }
  void announce_log_change() override {
    announces_ = true;
    if (appends_ != nullptr) appends_->add_anything();
  }
  bool announces() const { return announces_; }

  // A statement of this transaction hit a serialization failure or deadlock: the write must be
  // run again, whatever the work did with the exception.
  bool conflicted() const { return conflicted_; }
  // A statement that changes data failed outside a savepoint, so the transaction is aborted: if
  // the work caught that and went on, it must run again with savepoints to see what it expects.
  bool failed_unisolated() const { return failed_unisolated_; }
  // ... and the work ran another statement after that failure (it caught it and went on).
  bool went_on_after_failure() const { return went_on_after_failure_; }
  // A statement that changes data succeeded (so a failure of the work has effects to undo).
  bool changed() const { return changed_ || used_savepoints_; }

 private:
  // A statement after one that failed outside a savepoint: the write runs again.
  void went_on_if_failed(std::string_view sql) {
    if (!failed_unisolated_) return;
    went_on_after_failure_ = true;
    throw DatabaseError(excerpt(sql) +
                        ": an earlier statement of this write failed; it runs again");
  }

  Result run(std::string_view sql, std::span<const Value> params) {
    const auto& shape = checked_statement(sql, params);
    // In a write, a statement that changes data runs in its own savepoint, so a constraint
    // violation the work catches leaves the transaction usable, as on SQLite. Or, first, without
    // (two round trips fewer per statement): a failure then makes the write run again with them.
    const bool changes =
        writable_ && !shape.leading_keywords.empty() && shape.leading_keywords.front() != "SELECT";
    went_on_if_failed(sql);
    Result r;
    guarded([&] {
      if (!changes || !isolate_statements_) {
        try {
          r = connection_.run(sql, params);
        } catch (const WriteConflict&) {
          throw;
        } catch (const DatabaseError&) {
          if (changes) failed_unisolated_ = true;
          throw;
        }
        changed_ = changed_ || changes;
        return;
      }
      connection_.open_savepoint("todo_statement");
      try {
        r = connection_.run(sql, params);
      } catch (const WriteConflict&) {
        throw;
      } catch (const DatabaseError&) {
        if (connection_.healthy()) connection_.rollback_savepoint("todo_statement");
        throw;
      }
      connection_.release_savepoint("todo_statement");
      changed_ = true;
    });
    return r;
  }

  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const WriteConflict&) {
      conflicted_ = true;
      throw;
    }
  }

  Connection& connection_;
  const bool writable_;
  const bool isolate_statements_;
  LogAppends* const appends_;
  int depth_ = 0;
  bool conflicted_ = false;
  bool failed_unisolated_ = false;
  bool went_on_after_failure_ = false;
  bool announces_ = false;
  bool changed_ = false;
  bool used_savepoints_ = false;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(const PostgresOptions& options)
      : options_(options),
        writes_(
            static_cast<std::size_t>(std::max(1, options.max_batch)),
            [this](const std::vector<QueuedWrite*>& batch) {
              const Flag flag(writing_, this);
              return run_batch(batch, "BEGIN ISOLATION LEVEL SERIALIZABLE",
                               options_.serialize_writers, &appends_);
            },
            [this] { listeners_.notify(appends_); }) {
    if (options.pool_size < 1) throw DatabaseError("pool_size must be >= 1");
    if (options.max_batch < 1) throw DatabaseError("max_batch must be >= 1");
    if (options.pipelined_readers < 1) throw DatabaseError("pipelined_readers must be >= 1");
    if (options.max_write_attempts < 1) throw DatabaseError("max_write_attempts must be >= 1");
    if (options.statement_timeout_ms < 0) throw DatabaseError("statement_timeout_ms must be >= 0");
    // One connection now, so a wrong URL or an unreachable server fails open_database().
    auto first = std::make_unique<Connection>(options_, &own_backends_);
    free_.push_back(std::move(first));
    open_ = 1;
    // Commits of other processes (and other Database objects) wake this one's listeners too.
    if (options_.hear_other_processes) {
      notifications_ = std::make_unique<postgres::NotificationListener>(
          postgres::NotificationListenerOptions{
              .url = options_.url,
              .connect_timeout_s = options_.connect_timeout_s,
              .is_own_backend =
                  [this](int pid) {
                    if (!own_backends_.contains(pid)) return false;
                    ++own_notifications_dropped_;
                    return true;
                  }},
          [this] { listeners_.notify(LogAppends::anything()); });
    }
    readers_.start(options_.pipelined_readers);
    // Last: nothing below may throw, or the destructor that joins it would never run.
    writes_.start();
  }

  ~PostgresDatabase() override {
    readers_.stop();         // every queued read runs, and its caller has its answer
    writes_.stop();          // every queued write runs, and its caller has its answer
    notifications_.reset();  // its thread calls the listeners: stopped before anything goes
    std::unique_lock lock(pool_mutex_);
    pool_changed_.wait(lock, [&] { return static_cast<int>(free_.size()) == open_; });
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  bool reads_in_background() const override { return true; }

  // BEGIN goes with the first statement and COMMIT without waiting for its answer, so a read of
  // one statement costs one round trip.
  void read(const std::function<void(Transaction&)>& work) override { run_read(work, true); }

 protected:
  // One statement is its own transaction (and snapshot): no BEGIN, no COMMIT.
  void read_one_statement(const std::function<void(Transaction&)>& work) override {
    run_read(work, false);
  }

  // Checked on the calling thread, then queued for the reader threads (PipelinedReaders).
  void queue_one_statement(std::string sql, std::vector<Value> params,
                           std::function<void(const RowView&)> each,
                           std::function<void(std::exception_ptr)> done) override {
    auto read = std::make_unique<PipelinedRead>();
    try {
      checked_statement(sql, params);
      read->params = std::make_unique<Params>(params);
    } catch (...) {
      done(std::current_exception());
      return;
    }
    read->sql = std::move(sql);
    read->each = std::move(each);
    read->done = std::move(done);
    if (!readers_.push(read)) {
      read->done(std::make_exception_ptr(DatabaseError("the database is closing")));
    }
  }

 public:
  // Queued for the writer thread, which runs the writes waiting together in one transaction
  // (group commit: one commit, one WAL flush, and no conflicts between them; see "Group commit"
  // in ADR 0019).
  void write(const std::function<void(Transaction&)>& work) override { writes_.write(work); }
  void write_async(std::function<void(Transaction&)> work,
                   std::function<void(std::exception_ptr)> done) override {
    writes_.write_async(std::move(work), std::move(done));
  }

  void migration_write(const std::function<void(Transaction&)>& work) {
    if (writing_ == this) throw DatabaseError("nested write");
    const Flag flag(writing_, this);
    const std::function<void(Transaction&)> locked = [&](Transaction& tx) {
      tx.query("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
      work(tx);
    };
    QueuedWrite write;
    write.work = &locked;
    run_batch({&write}, "BEGIN ISOLATION LEVEL READ COMMITTED", /*take_turns=*/false);
    if (write.error) std::rethrow_exception(write.error);
  }

  PostgresStats stats() const {
    const auto w = writes_.stats();
    return PostgresStats{w.commits,
                         w.writes,
                         w.pending,
                         own_notifications_dropped_.load(),
                         pipelined_reads_.load(),
                         read_pipelines_.load()};
  }

  CommitListenerId add_commit_listener(CommitListener listener) override {
    return listeners_.add(std::move(listener));
  }

  void remove_commit_listener(CommitListenerId id) override { listeners_.remove(id); }

  bool listening() const { return notifications_ && notifications_->listening(); }

 private:
  // The calling thread holds a read (or write) of this database while set.
  struct Flag {
    Flag(const PostgresDatabase*& slot, const PostgresDatabase* value) : slot_(slot), old_(slot) {
      slot_ = value;
    }
    ~Flag() { slot_ = old_; }
    const PostgresDatabase*& slot_;
    const PostgresDatabase* old_;
  };

  // A pooled connection for the lifetime of one transaction.
  // read() (`snapshot`: in a REPEATABLE READ transaction) and read_one_statement().
  void run_read(const std::function<void(Transaction&)>& work, bool snapshot) {
    if (reading_ == this) throw DatabaseError("nested read");
    Lease lease(*this);
    const Flag flag(reading_, this);
    for (bool retried = false;; retried = true) {
      if (snapshot) lease->defer(kBeginRead);
      const auto completed_before = lease->completed();
      try {
        PostgresTransaction tx(*lease, false);
        work(tx);
        if (!snapshot) return;
        if (lease->completed() == completed_before) {
          lease->cancel_deferred();  // no statement ran: no transaction to end
        } else {
          lease->send_without_waiting("COMMIT");
        }
        return;
      } catch (const DatabaseUnavailable&) {
        // A pooled connection the server closed since it was last used (a restart) fails at the
        // first statement, before anything was read: the read runs once more on a fresh one.
        const bool first_statement =
            !lease->healthy() && !retried && lease->completed() == completed_before;
        lease->rollback_if_open();
        if (!first_statement) throw;
        lease.replace();
      } catch (...) {
        lease->rollback_if_open();
        throw;
      }
    }
  }

  // A reader thread's batch of one-statement reads, in one pipeline on a pooled connection. A
  // pooled connection the server closed since it was last used fails before any read succeeded:
  // the batch runs once more on a fresh one (as run_read() does).
  void run_pipelined(std::span<PipelinedRead* const> reads,
                     std::vector<std::exception_ptr>& errors) {
    Lease lease(*this);
    for (bool retried = false;; retried = true) {
      try {
        ++read_pipelines_;
        pipelined_reads_ += static_cast<std::int64_t>(reads.size());
        lease->read_pipelined(reads, errors);
        return;
      } catch (const DatabaseUnavailable&) {
        if (lease->healthy() || retried) throw;
        lease.replace();
      }
    }
  }

  class Lease {
   public:
    explicit Lease(PostgresDatabase& db) : db_(db), connection_(db.acquire()) {}
    ~Lease() {
      if (connection_) db_.release(std::move(connection_));
    }
    // Gives the connection back (a broken one is closed) and takes another.
    void replace() {
      db_.release(std::move(connection_));
      connection_ = db_.acquire();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() { return connection_.get(); }
    Connection& operator*() { return *connection_; }

   private:
    PostgresDatabase& db_;
    std::unique_ptr<Connection> connection_;
  };

  std::unique_ptr<Connection> acquire() {
    std::unique_lock lock(pool_mutex_);
    pool_changed_.wait(lock, [&] { return !free_.empty() || open_ < options_.pool_size; });
    if (!free_.empty()) {
      auto connection = std::move(free_.back());
      free_.pop_back();
      return connection;
    }
    ++open_;  // the slot is taken while connecting outside the lock
    lock.unlock();
    try {
      return std::make_unique<Connection>(options_, &own_backends_);
    } catch (...) {
      lock.lock();
      --open_;
      pool_changed_.notify_all();
      throw;
    }
  }

  // A connection that is broken or still inside a transaction is closed, not pooled: the next
  // acquire() opens a fresh one in its slot. A broken one usually means the server restarted or
  // went away, and then the idle ones are as dead as it: they are closed too, so the requests
  // after the server is back do not each find a dead connection first.
  void release(std::unique_ptr<Connection> connection) {
    if (!connection->healthy()) {
      std::vector<std::unique_ptr<Connection>> idle;
      {
        std::lock_guard lock(pool_mutex_);
        idle.swap(free_);
        open_ -= static_cast<int>(idle.size()) + 1;
      }
      connection.reset();
      idle.clear();  // PQfinish outside the lock
    } else if (!connection->idle()) {
      connection.reset();
      std::lock_guard lock(pool_mutex_);
      --open_;
    } else {
      std::lock_guard lock(pool_mutex_);
      free_.push_back(std::move(connection));
    }
    pool_changed_.notify_all();
  }

  // BEGIN on the leased connection (after the statements that go before it). A pooled connection
  // the server closed since it was last used (a restart) fails here, before anything ran on it:
  // the transaction starts again once on a fresh connection, so the first request after the
  // server is back does not fail for it.
  void begin(Lease& lease, const std::vector<std::string>& statements) {
    const auto run = [&] {
      if (statements.size() == 1) {
        lease->command(statements.front());
        return;
      }
      try {
        lease->commands_in_one_round_trip(statements);
      } catch (...) {
        // A lock the first statement took may be held: the connection is closed with it.
        if (lease->healthy()) lease->poison();
        throw;
      }
    };
    try {
      run();
    } catch (const DatabaseUnavailable&) {
      if (lease->healthy()) throw;
      lease.replace();
      run();
    }
  }

  // A write of the batch being run, with what this run learnt about it.
  struct Job {
    QueuedWrite* write;
    bool isolate = false;  // its statements each in a savepoint (it caught a failed one)
    bool failed = false;   // its own failure is final: the batch goes on without it
  };

  enum class Outcome {
    kCommitted,
    kConflicted,     // a serialization failure or deadlock: everything runs again
    kUseSavepoints,  // a write caught a failed statement: the batch runs again, each write in
                     // a savepoint of its own
    kDropped,        // a write failed with effects to undo: the batch runs again without it
    kUnreadFailed,   // an unread statement failed (Connection::take_unread_failure() says
                     // whose): the batch runs again without that write, or with it in
                     // savepoints when the statement was queued inside one of its own
  };

  // Runs the batch in one transaction until it commits, conflicts once too often, or fails as a
  // whole (the connection, BEGIN or COMMIT); each write's own failure stays its own (its error).
  // First without a savepoint per write (two round trips fewer each). A write that fails with
  // effects to undo is answered with its failure, and the transaction is rolled back and run
  // again without it (the same state before it, so the same failure a savepoint would have
  // given); from the second such write on, and after a write caught a failed statement, the
  // batch runs with a savepoint per write. Returns whether it committed.
  // `take_turns`: with the writer lock of all processes (PostgresOptions::serialize_writers).
  // `appends`, when not null, holds what the attempt that committed appended to the log.
  bool run_batch(const std::vector<QueuedWrite*>& writes, const char* begin, bool take_turns,
                 LogAppends* appends = nullptr) noexcept {
    std::vector<Job> batch;
    batch.reserve(writes.size());
    for (QueuedWrite* write : writes) batch.push_back(Job{write});
    bool savepoints = false;
    int dropped = 0;
    for (int attempt = 1;; ++attempt) {
      for (Job& job : batch) {
        if (!job.failed) job.write->error = nullptr;  // each run decides anew
      }
      if (dropped == static_cast<int>(batch.size())) return false;  // every write failed
      Outcome outcome = Outcome::kConflicted;
      std::string conflict;
      try {
        outcome = attempt_batch(batch, begin, take_turns, savepoints, appends);
      } catch (const WriteConflict& e) {
        conflict = e.what();
      } catch (...) {
        fail_all(batch, std::current_exception());
        return false;
      }
      if (outcome == Outcome::kCommitted) return true;
      if (outcome == Outcome::kUseSavepoints || outcome == Outcome::kDropped) {
        // Not a conflict: the same attempt again, without the failed write or with savepoints.
        if (outcome == Outcome::kDropped) ++dropped;
        savepoints = savepoints || outcome == Outcome::kUseSavepoints || dropped > 1;
        --attempt;
        continue;
      }
      if (attempt >= options_.max_write_attempts) {
        // Other processes' writes kept winning: the database cannot take these writes now; like
        // an unreachable one, the callers may try again (a 503, not a 500).
        const std::string message = "the write still conflicted after " + std::to_string(attempt) +
                                    " attempts" + (conflict.empty() ? "" : ": " + conflict);
        for (Job& job : batch) {
          if (!job.failed) job.write->error = std::make_exception_ptr(DatabaseUnavailable(message));
        }
        return false;
      }
      // Writers of other processes that conflict with this one back off a little more each
      // time, so they stop meeting.
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt * attempt));
    }
  }

  Outcome attempt_batch(std::vector<Job>& batch, const char* begin_sql, bool take_turns,
                        bool savepoints, LogAppends* appends) {
    if (appends != nullptr) appends->clear();  // a rolled-back attempt appended nothing
    Lease lease(*this);
    // The writer lock and BEGIN in one round trip, and COMMIT and its release in another.
    begin(lease, take_turns ? std::vector<std::string>{kTakeWriterLock, begin_sql}
                            : std::vector<std::string>{begin_sql});
    struct WriterLock {
      Connection* connection;
      bool held;
      ~WriterLock() {
        if (!held) return;
        connection->rollback_if_open();
        try {
          connection->command(kGiveWriterLockBack);
        } catch (...) {
          connection->poison();  // closed, so the server releases the lock with its session
        }
      }
    } writer_lock{&*lease, take_turns};
    bool announces = false;
    // The write whose unread statement failed is answered with that failure; the transaction is
    // aborted, so the batch runs again without it. Or, when the statement was queued inside a
    // savepoint of its work, that write runs again with a savepoint per statement, where the work
    // sees the failure and may catch it.
    const auto after_unread_failure = [&] {
      auto failure = lease->take_unread_failure();
      Job& failed = batch.at(static_cast<std::size_t>(failure.owner));
      lease->rollback_if_open();
      if (failure.in_savepoint) {
        failed.isolate = true;
        return Outcome::kUseSavepoints;
      }
      failed.write->error = std::move(failure.error);
      failed.failed = true;
      return Outcome::kDropped;
    };
    try {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        Job& job = batch[i];
        if (job.failed) continue;
        lease->set_owner(static_cast<int>(i));
        const Outcome outcome = savepoints ? run_in_savepoint(*lease, job, announces, appends)
                                           : run_as_is(*lease, job, announces, appends);
        if (outcome == Outcome::kUnreadFailed) return after_unread_failure();
        if (outcome != Outcome::kCommitted) {
          lease->rollback_if_open();
          return outcome;
        }
      }
      // The last writes' unread statements, before COMMIT: a failure is still one write's.
      try {
        lease->flush();
      } catch (const DatabaseError&) {
        if (!lease->unread_failed()) throw;
        return after_unread_failure();
      }
      // One round trip: the notification, the commit and the lock's release in one message.
      const std::string commit = announces ? kAnnounceAndCommit : std::string("COMMIT");
      if (take_turns) {
        lease->command(commit + "; " + kGiveWriterLockBack);
        writer_lock.held = false;
      } else {
        lease->command(commit);
      }
    } catch (...) {
      lease->rollback_if_open();
      throw;
    }
    return Outcome::kCommitted;
  }

  // One write inside the batch's transaction, with no savepoint around it. kCommitted here means
  // "done, go on": it succeeded, or it failed before changing anything (its error is its own).
  Outcome run_as_is(Connection& connection, Job& job, bool& announces, LogAppends* appends) {
    PostgresTransaction tx(connection, true, job.isolate, appends);
    try {
      (*job.write->work)(tx);
    } catch (...) {
      if (tx.conflicted()) return Outcome::kConflicted;
      if (!connection.healthy()) connection_lost();  // the batch fails
      if (connection.unread_failed()) return Outcome::kUnreadFailed;
      if (tx.went_on_after_failure()) {
        job.isolate = true;
        return Outcome::kUseSavepoints;
      }
      job.write->error = std::current_exception();
      if (tx.changed() || tx.failed_unisolated() || connection.status() != PQTRANS_INTRANS) {
        job.failed = true;
        return Outcome::kDropped;
      }
      return Outcome::kCommitted;
    }
    if (tx.conflicted()) return Outcome::kConflicted;
    if (connection.unread_failed()) return Outcome::kUnreadFailed;
    if (tx.failed_unisolated() || connection.status() != PQTRANS_INTRANS) {
      if (tx.failed_unisolated()) job.isolate = true;
      return Outcome::kUseSavepoints;
    }
    announces = announces || tx.announces();
    return Outcome::kCommitted;
  }

  // One write in a savepoint of its own: when it fails, only its own effects are rolled back.
  Outcome run_in_savepoint(Connection& connection, Job& job, bool& announces, LogAppends* appends) {
    for (;;) {
      connection.open_savepoint("todo_write");
      PostgresTransaction tx(connection, true, job.isolate, appends);
      bool again = false;  // with its statements in savepoints
      // Its unread statement failed: its own failure, or, when queued inside a savepoint of the
      // work, a reason to run it again with each statement in a savepoint.
      const auto after_unread_failure = [&] {
        auto failure = connection.take_unread_failure();
        again = failure.in_savepoint;
        if (!again) job.write->error = std::move(failure.error);
      };
      try {
        (*job.write->work)(tx);
        tx.flush();  // its unread statements, inside its savepoint
        if (connection.unread_failed()) {
          after_unread_failure();
        } else if (tx.failed_unisolated()) {
          again = true;
        } else if (connection.status() == PQTRANS_INERROR && !tx.conflicted()) {
          job.write->error = std::make_exception_ptr(DatabaseError(
              "a statement of the write failed and its work went on: nothing was committed"));
        }
      } catch (...) {
        if (tx.conflicted()) return Outcome::kConflicted;
        if (!connection.healthy()) connection_lost();
        if (connection.unread_failed()) {
          after_unread_failure();
        } else {
          again = tx.went_on_after_failure();
          if (!again) job.write->error = std::current_exception();
        }
      }
      if (tx.conflicted()) return Outcome::kConflicted;
      if (again || job.write->error) {
        connection.rollback_savepoint("todo_write");
      } else {
        connection.release_savepoint("todo_write");
      }
      if (!again) {
        if (!job.write->error) announces = announces || tx.announces();
        return Outcome::kCommitted;
      }
      job.isolate = true;
    }
  }

  // Inside a write's catch, once its connection is gone: whatever the work made of the failure,
  // the batch fails as unavailable (a 503), not with the work's own error.
  [[noreturn]] static void connection_lost() {
    try {
      throw;
    } catch (const DatabaseUnavailable&) {
      throw;
    } catch (const std::exception& e) {
      throw DatabaseUnavailable(std::string("the connection to PostgreSQL was lost: ") + e.what());
    } catch (...) {
      throw DatabaseUnavailable("the connection to PostgreSQL was lost");
    }
  }

  // Nothing of the batch was committed, so nobody in it may return normally. One exception
  // object per write, of the failure's kind: callers on different threads must not share one.
  static void fail_all(std::vector<Job>& batch, const std::exception_ptr& failure) {
    for (Job& job : batch) {
      if (job.failed) continue;
      try {
        std::rethrow_exception(failure);
      } catch (const DatabaseUnavailable& e) {
        job.write->error = std::make_exception_ptr(DatabaseUnavailable(e.what()));
      } catch (const ConstraintViolation& e) {
        job.write->error = std::make_exception_ptr(ConstraintViolation(e.what()));
      } catch (const std::exception& e) {
        job.write->error = std::make_exception_ptr(DatabaseError(e.what()));
      } catch (...) {
        job.write->error = std::make_exception_ptr(DatabaseError("the write failed"));
      }
    }
  }

  const PostgresOptions options_;

  BackendPids own_backends_;  // of the pool's connections: outlives them
  std::atomic<std::int64_t> own_notifications_dropped_{0};
  std::atomic<std::int64_t> pipelined_reads_{0};
  std::atomic<std::int64_t> read_pipelines_{0};
  std::mutex pool_mutex_;
  std::condition_variable pool_changed_;
  std::vector<std::unique_ptr<Connection>> free_;
  int open_ = 0;  // connections that exist or are being opened, free or leased
  // read_statement_async()'s threads; after the pool, which they lease connections from.
  PipelinedReaders readers_{
      static_cast<std::size_t>(std::max(1, options_.max_batch)),
      [this](std::span<PipelinedRead* const> reads, std::vector<std::exception_ptr>& errors) {
        run_pipelined(reads, errors);
      }};

  CommitListeners listeners_;
  LogAppends appends_;  // what the writer thread's batch appended (writer thread only)
  // The LISTEN connection and its thread; declared after listeners_, which it calls.
  std::unique_ptr<postgres::NotificationListener> notifications_;
  GroupCommitQueue writes_;  // last: its thread runs run_batch() on the members above

  static thread_local const PostgresDatabase* reading_;
  static thread_local const PostgresDatabase* writing_;
};

thread_local const PostgresDatabase* PostgresDatabase::reading_ = nullptr;
thread_local const PostgresDatabase* PostgresDatabase::writing_ = nullptr;

// The password of a key=value connection string: password=secret or password='se cret'.
std::string redact_key_value(std::string_view conninfo) {
  std::string out(conninfo);
  const auto key = out.find("password");
  if (key == std::string::npos) return out;
  auto i = out.find('=', key);
  if (i == std::string::npos) return out;
  ++i;
  while (i < out.size() && out[i] == ' ') ++i;
  std::size_t end = i;
  if (end < out.size() && out[end] == '\'') {
    ++end;
    while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
    end = std::min(end + 1, out.size());
  } else {
    while (end < out.size() && out[end] != ' ') ++end;
  }
  return out.replace(i, end - i, "***");
}

}  // namespace

std::string redact_database_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return redact_key_value(url);
  std::string out(url);
  const auto authority = scheme + 3;
  const auto authority_end = out.find_first_of("/?#", authority);
  const auto at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
  if (at != std::string::npos && at > authority) {
    const auto colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // A password may also come as a query parameter.
  const auto query = out.find('?');
  if (query != std::string::npos) {
    for (auto p = out.find("password=", query); p != std::string::npos;
         p = out.find("password=", p + 1)) {
      if (out[p - 1] != '?' && out[p - 1] != '&') continue;
      const auto value = p + 9;
      const auto end = out.find('&', value);
      out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
  }
  return out;
}

std::unique_ptr<Database> open_postgres(const PostgresOptions& options) {
  auto db = std::make_unique<PostgresDatabase>(options);
  apply_migrations(*db);
  return db;
}

std::optional<PostgresStats> postgres_stats(const Database& db) {
  const auto* postgres = dynamic_cast<const PostgresDatabase*>(&db);
  if (postgres == nullptr) return std::nullopt;
  return postgres->stats();
}

bool postgres_listening(const Database& db) {
  const auto* postgres = dynamic_cast<const PostgresDatabase*>(&db);
  return postgres != nullptr && postgres->listening();
}

void postgres_migration_write(Database& db, const std::function<void(Transaction&)>& work) {
  auto* postgres = dynamic_cast<PostgresDatabase*>(&db);
  if (postgres == nullptr) throw DatabaseError("not a PostgreSQL database");
  postgres->migration_write(work);
}

}  // namespace todo::store

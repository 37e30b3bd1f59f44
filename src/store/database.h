// The one small database interface every repository is written against. No SQLite or libpq type
// appears here, so a PostgreSQL backend joins without any repository or service changing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace todo::store {

enum class Dialect { kSqlite, kPostgres };

// A SQL value: NULL, integer, real or text (text also carries blobs, byte for byte).
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool is_null(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;  // throws DatabaseError on NULL or wrong type
  double real(std::size_t i) const;
  const std::string& text(std::size_t i) const;
  std::optional<std::int64_t> optional_integer(std::size_t i) const;
  std::optional<std::string> optional_text(std::size_t i) const;

 private:
  const Value& at(std::size_t i) const;  // throws DatabaseError when out of range

  std::vector<Value> values_;
};

// One row of a result while Transaction::query_each presents it, read straight from the backend's
// buffers: use it inside the callback only (its texts are views into those buffers). The
// accessors check like Row's and throw DatabaseError on a wrong type or column.
class RowView {
 public:
  virtual std::size_t size() const = 0;
  virtual bool is_null(std::size_t i) const = 0;
  virtual std::int64_t integer(std::size_t i) const = 0;  // throws on NULL or wrong type
  virtual std::string_view text(std::size_t i) const = 0;
  std::optional<std::int64_t> optional_integer(std::size_t i) const {
    if (is_null(i)) return std::nullopt;
    return integer(i);
  }
  std::optional<std::string> optional_text(std::size_t i) const {
    if (is_null(i)) return std::nullopt;
    return std::string(text(i));
  }

 protected:
  ~RowView() = default;
};

// A Row seen as a RowView (Transaction::query_each's default).
class RowOfValues final : public RowView {
 public:
  explicit RowOfValues(const Row& row) : row_(row) {}
  std::size_t size() const override { return row_.size(); }
  bool is_null(std::size_t i) const override { return row_.is_null(i); }
  std::int64_t integer(std::size_t i) const override { return row_.integer(i); }
  std::string_view text(std::size_t i) const override { return row_.text(i); }

 private:
  const Row& row_;
};

// An unexpected database failure (I/O error, corrupt file, SQL bug). Not for expected outcomes.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The database cannot be reached: the connection was refused or lost, or the server is shutting
// down or starting up; or a write kept losing to other processes' conflicting writes until its
// attempts ran out (PostgreSQL). Transient: the HTTP layer answers 503 `unavailable`, and the pool
// opens fresh connections once the server is back. Nothing the failed transaction did was
// committed, unless the connection was lost during COMMIT (then nobody was told it succeeded).
class DatabaseUnavailable : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// A UNIQUE, FOREIGN KEY, CHECK or NOT NULL constraint refused a write. Repositories catch it to
// turn e.g. a duplicate e-mail into a domain error.
class ConstraintViolation : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// The view of one transaction. Statements use $1..$N placeholders in both dialects.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Dialect dialect() const = 0;
  virtual std::vector<Row> query(std::string_view sql, std::span<const Value> params) = 0;
  // Returns the number of rows changed.
  virtual std::int64_t execute(std::string_view sql, std::span<const Value> params) = 0;

  std::vector<Row> query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  std::int64_t execute(std::string_view sql, std::initializer_list<Value> params = {}) {
    return execute(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // A statement that changes data and whose answer the work does not read (an insert whose
  // count nobody checks). A backend may send it later in the same transaction: PostgreSQL sends
  // it together with the next statement whose answer the work waits for, or when the write ends,
  // in one round trip. Its failure fails the write (as an uncaught failure of execute() would),
  // and the work cannot catch it: it may surface from a later statement, or after the work
  // returned. Inside savepoint() it is that savepoint's failure (PostgreSQL runs the write again,
  // with execute_unread() run at once, so that it is thrown from there). The default runs it at
  // once.
  virtual void execute_unread(std::string_view sql, std::span<const Value> params) {
    execute(sql, params);
  }
  void execute_unread(std::string_view sql, std::initializer_list<Value> params = {}) {
    execute_unread(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Calls `each` for every row of the result, in order, without building Rows first (the
  // backend's row, read in place). `each` must not run statements of this transaction. The
  // default goes through query().
  virtual void query_each(std::string_view sql, std::span<const Value> params,
                          const std::function<void(const RowView&)>& each);
  std::optional<Row> query_one(std::string_view sql, std::initializer_list<Value> params = {}) {
    auto rows = query(sql, params);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }

  // Runs several parameterless statements separated by semicolons (a migration file). The
  // default throws DatabaseError; each backend overrides it.
  virtual void execute_script(std::string_view sql);

  // Runs `work` in a savepoint of this transaction: when it throws, its writes are rolled back
  // and the exception propagates; the transaction itself goes on. May nest.
  virtual void savepoint(const std::function<void()>& work) = 0;

  // The outbox calls this after appending to `partition` of `topic`: when this transaction
  // commits, the consumers of that partition in every process must be woken. The backend hands
  // the partitions to this process's commit listeners after the commit (LogAppends); PostgreSQL
  // also sends one notification that the server delivers at commit to the LISTEN connection of
  // every process (docs/adr/0019). A backend that does nothing only makes consumers wait for
  // their next poll.
  virtual void announce_log_append(std::string_view /*topic*/, int /*partition*/) {}
  // The same for a change consumers look for when woken that is not an append (a dead letter
  // marked for replay): the listeners hear LogAppends::anything().
  virtual void announce_log_change() {}
};

// What one commit appended to the event log, for the commit listeners: the (topic, partition)
// pairs, each once; or "anything" when that is not known — a commit heard from another process
// (PostgreSQL's LISTEN connection, which also calls the listeners once after it reconnected), or a
// change that is not an append (Transaction::announce_log_change). A commit appends to one to
// three partitions, so a vector searched from the start is the set; a backend keeps one for its
// writer thread and clears it at each attempt, which keeps its capacity (no allocation per commit
// once it has grown).
class LogAppends {
 public:
  struct Partition {
    std::string topic;
    int partition = 0;
  };

  static LogAppends anything() {
    LogAppends appends;
    appends.anything_ = true;
    return appends;
  }

  // A pair already in is not added again.
  void add(std::string_view topic, int partition);
  void add_anything() { anything_ = true; }
  void clear() {
    partitions_.clear();
    anything_ = false;
  }

  // Nothing was appended (and it is not "anything"): a commit of other writes only.
  bool empty() const { return !anything_ && partitions_.empty(); }
  bool is_anything() const { return anything_; }
  bool touches(std::string_view topic, int partition) const;
  bool touches(std::string_view topic) const;
  // The pairs appended, in the order first announced; not all there is when is_anything().
  const std::vector<Partition>& partitions() const { return partitions_; }

 private:
  bool touches_exactly(std::string_view topic, int partition) const;

  std::vector<Partition> partitions_;
  bool anything_ = false;
};

// Names one commit listener of a Database, for its removal.
using CommitListenerId = std::uint64_t;

// A commit listener: called with what the commit appended to the log (LogAppends).
using CommitListener = std::function<void(const LogAppends&)>;

// The commit listeners of one Database, the registry every backend shares. Listeners are called
// in the order they were added, on the thread that calls notify(); several threads may notify at
// once. After remove() returns, the listener is not running and is never called again; a
// listener that removes a listener (itself included) does not wait, since it cannot wait for
// itself.
class CommitListeners {
 public:
  CommitListeners() = default;
  CommitListeners(const CommitListeners&) = delete;
  CommitListeners& operator=(const CommitListeners&) = delete;

  CommitListenerId add(CommitListener listener);
  // An unknown id is ignored.
  void remove(CommitListenerId id);
  // Calls every listener added before with `appends`; one that throws is logged and the others
  // still run.
  void notify(const LogAppends& appends);

 private:
  using Listener = std::shared_ptr<const CommitListener>;

  std::mutex mutex_;
  std::condition_variable idle_;
  std::map<CommitListenerId, Listener> listeners_;  // ordered: ids grow in the order added
  CommitListenerId last_id_ = 0;
  std::uint64_t notification_seq_ = 0;
  std::set<std::uint64_t> active_;  // notifications started and not yet finished, by seq

  static thread_local const CommitListeners* notifying_;  // this thread is inside notify()
};

enum class Durability {
  kFull,    // an acknowledged write survives power loss (fsync on every group commit)
  kNormal,  // survives a process crash; the last commits may be lost on power loss
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs `work` in one read-only transaction (a consistent snapshot). Blocks the calling thread;
  // call it from a blocking pool, never from an I/O thread.
  virtual void read(const std::function<void(Transaction&)>& work) = 0;

  // read() for `work` that runs one statement (or none): one statement sees one snapshot by
  // itself, so PostgreSQL runs it without BEGIN and COMMIT — one message and one wake-up of the
  // server fewer. A second statement throws DatabaseError, on every backend.
  void read_statement(const std::function<void(Transaction&)>& work);

  // A one-statement read (one SELECT `sql` with `params`) that no thread waits for: `each` gets
  // its rows in order, then `done` gets its error, or null. Never throws: a statement that is not
  // one SELECT, a closing database and every failure reach `done`. PostgreSQL queues it for its
  // reader threads, which send the reads waiting together in one pipeline (one round trip, and
  // one wake-up of the server, for all of them) and call `each` and `done` there: both must be
  // short and never block (decode the row, hand the result on). Other backends run it with
  // read_statement() on the calling thread.
  void read_statement_async(std::string sql, std::vector<Value> params,
                            std::function<void(const RowView&)> each,
                            std::function<void(std::exception_ptr)> done);
  // True when read_statement_async() only queues the read (PostgreSQL), so it may be called
  // from a thread that must not block; false when it runs the read on the calling thread.
  virtual bool reads_in_background() const { return false; }

  // Runs `work` in a write transaction and returns once it is durably committed. Concurrent
  // writes may share one commit (group commit); each runs in its own savepoint, so when `work`
  // throws, only its own effects are rolled back and the exception reaches this caller.
  //
  // `work` may run more than once: PostgreSQL runs each write as its own SERIALIZABLE
  // transaction and, on a serialization failure or deadlock, rolls it back and calls `work`
  // again from the start (a bounded number of times, then DatabaseError). So `work` reads what
  // it needs through the Transaction and has no effects outside it: no I/O, no counters, no
  // moving from captured state; whatever it returns or assigns is overwritten by the last run.
  virtual void write(const std::function<void(Transaction&)>& work) = 0;

  // write() without waiting: queues `work` (the same rules) and returns; once its group commit
  // ran, `done` gets the write's error, or null when it is durably committed. `done` runs on the
  // database's writer thread after the commit listeners, so it must be short and never block:
  // it hands the rest to another thread. A caller thus holds no thread while its write waits
  // for the batch, and a group commit is not capped by how many threads wait in write(). Throws
  // DatabaseError, without calling `done`, when the database is closing. The default runs
  // write() on the calling thread, then `done`.
  virtual void write_async(std::function<void(Transaction&)> work,
                           std::function<void(std::exception_ptr)> done);

  // True when the database answers a trivial query (by default: a read of SELECT 1).
  virtual bool ping();

  // Commit listeners are called after every successful commit of write(), on the thread that
  // committed (keep them short and non-blocking), in the order they were added, with what the
  // commit appended to the log (empty when it appended nothing). The event log uses them to wake
  // the consumers of the partitions that changed at once; every bus, and later every fan-out hub,
  // adds its own. May be added and removed at any time, from any thread. On PostgreSQL they are
  // also called, on the backend's listening thread and with LogAppends::anything(), after another
  // process (or another Database object) committed an append to the log, and once after that
  // thread reconnected to the server.
  virtual CommitListenerId add_commit_listener(CommitListener listener) = 0;
  // After it returns the listener is not running and is never called again (unless called from
  // inside a listener, which cannot wait for itself). An unknown id is ignored.
  virtual void remove_commit_listener(CommitListenerId id) = 0;

 protected:
  // How the backend runs read_statement()'s work (already limited to one statement): read() by
  // default.
  virtual void read_one_statement(const std::function<void(Transaction&)>& work) { read(work); }
  // How the backend runs read_statement_async()'s SELECT (already checked to be one): by default
  // read_statement() on the calling thread, then `done`.
  virtual void queue_one_statement(std::string sql, std::vector<Value> params,
                                   std::function<void(const RowView&)> each,
                                   std::function<void(std::exception_ptr)> done);
};

// Adds a commit listener for its own lifetime: the owner of a listener that captures `this`
// declares one as a member after what the listener uses, so it is removed before those go away.
class ScopedCommitListener {
 public:
  ScopedCommitListener(Database& db, CommitListener listener)
      : db_(&db), id_(db.add_commit_listener(std::move(listener))) {}
  ~ScopedCommitListener() { db_->remove_commit_listener(id_); }
  ScopedCommitListener(const ScopedCommitListener&) = delete;
  ScopedCommitListener& operator=(const ScopedCommitListener&) = delete;

 private:
  Database* db_;
  CommitListenerId id_;
};

// Convenience: return a value from a read or write.
template <class Work>
auto read_value(Database& db, Work&& work) {
  std::optional<decltype(work(std::declval<Transaction&>()))> out;
  db.read([&](Transaction& s) { out.emplace(work(s)); });
  return std::move(*out);
}

template <class Work>
auto read_statement_value(Database& db, Work&& work) {
  std::optional<decltype(work(std::declval<Transaction&>()))> out;
  db.read_statement([&](Transaction& s) { out.emplace(work(s)); });
  return std::move(*out);
}

template <class Work>
auto write_value(Database& db, Work&& work) {
  std::optional<decltype(work(std::declval<Transaction&>()))> out;
  db.write([&](Transaction& s) { out.emplace(work(s)); });
  return std::move(*out);
}

}  // namespace todo::store

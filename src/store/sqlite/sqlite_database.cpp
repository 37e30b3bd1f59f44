// SQLite Database: a pool of query_only reader connections, and one writer thread that runs
// queued writes in group commits (one BEGIN IMMEDIATE ... COMMIT, and one fsync, per batch).
#include "store/sqlite/sqlite_database.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "log/log.h"
#include "store/group_commit.h"
#include "store/migrations.h"
#include "store/sqlite/connection.h"

namespace todo::store {
namespace {

using sqlite::Access;
using sqlite::Connection;

class SqliteTransaction final : public Transaction {
 public:
  // `appends`: where a write collects what it appends to the log (null in a read).
  explicit SqliteTransaction(Connection& connection, LogAppends* appends = nullptr)
      : connection_(connection), appends_(appends) {}
  using Transaction::execute;
  using Transaction::query;

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::vector<Row> query(std::string_view sql, std::span<const Value> params) override {
    return connection_.query(sql, params);
  }
  void query_each(std::string_view sql, std::span<const Value> params,
                  const std::function<void(const RowView&)>& each) override {
    connection_.query_each(sql, params, each);
  }
  std::int64_t execute(std::string_view sql, std::span<const Value> params) override {
    return connection_.execute(sql, params);
  }
  void execute_script(std::string_view sql) override { connection_.execute_script(sql); }

  void savepoint(const std::function<void()>& work) override {
    const std::string name = "s" + std::to_string(++depth_);
    struct Depth {
      int& depth;
      ~Depth() { --depth; }
    } restore{depth_};
    connection_.control("SAVEPOINT " + name);
    try {
      work();
    } catch (...) {
      if (connection_.autocommit()) throw;  // SQLite already ended the whole transaction
      connection_.control("ROLLBACK TO " + name);
      connection_.control("RELEASE " + name);
      throw;
    }
    connection_.control("RELEASE " + name);
  }

  // Collected for the commit listeners. An append that a savepoint rolls back afterwards (the
  // one around its write in the batch, or one inside the write's work) stays in: a spurious
  // wake-up costs the consumer one poll.
  void announce_log_append(std::string_view topic, int partition) override {
    if (appends_ != nullptr) appends_->add(topic, partition);
  }
  void announce_log_change() override {
    if (appends_ != nullptr) appends_->add_anything();
  }

 private:
  Connection& connection_;
  LogAppends* const appends_;
  int depth_ = 0;
};

void check_and_create_directory(const SqliteOptions& options) {
  if (options.reader_connections < 1) throw DatabaseError("reader_connections must be >= 1");
  if (options.max_batch < 1) throw DatabaseError("max_batch must be >= 1");
  if (options.wal_restart_pages < 1000) throw DatabaseError("wal_restart_pages must be >= 1000");
  if (options.busy_timeout_ms < 0) throw DatabaseError("busy_timeout_ms must be >= 0");
  const auto dir = options.path.parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw DatabaseError("cannot create " + dir.string() + ": " + ec.message());
}

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const SqliteOptions& options)
      : wal_restart_pages_(options.wal_restart_pages),
        writer_(open(options, Access::kWrite)),
        writes_(static_cast<std::size_t>(options.max_batch),
                [this](const std::vector<QueuedWrite*>& batch) { return run_batch(batch); },
                [this] { after_commit(); }, [this] { restart_wal_if_wanted(); }) {
    for (int i = 0; i < options.reader_connections; ++i) {
      readers_.push_back(open(options, Access::kRead));
      free_readers_.push_back(readers_.back().get());
    }
    writer_->watch_wal();
    checkpointer_ = open(options, Access::kWrite);
    // Last: nothing below may throw, or the destructor that joins them would never run.
    writes_.start();
    checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
  }

  ~SqliteDatabase() override {
    writes_.stop();  // every queued write runs, and its caller has its answer
    {
      std::lock_guard lock(checkpoint_mutex_);
      stopping_ = true;
    }
    checkpoint_wanted_.notify_all();
    checkpoint_thread_.join();
    try {
      writer_->execute_script("PRAGMA optimize");
    } catch (const DatabaseError&) {  // an optimisation hint only; closing goes on regardless
    }
  }

  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }

  void read(const std::function<void(Transaction&)>& work) override {
    // A read inside a read would wait for a second connection, forever once the pool is busy.
    if (reading_ == this) throw DatabaseError("nested read");
    Connection& connection = acquire_reader();
    struct Release {
      SqliteDatabase& db;
      Connection& connection;
      const SqliteDatabase* outer;  // another database this thread was already reading
      ~Release() {
        reading_ = outer;
        db.release_reader(connection);
      }
    } release{*this, connection, reading_};
    reading_ = this;

    connection.control("BEGIN");
    try {
      SqliteTransaction tx(connection);
      work(tx);
      connection.control("COMMIT");
    } catch (...) {
      connection.rollback_if_open();
      throw;
    }
  }

  void write(const std::function<void(Transaction&)>& work) override { writes_.write(work); }
  void write_async(std::function<void(Transaction&)> work,
                   std::function<void(std::exception_ptr)> done) override {
    writes_.write_async(std::move(work), std::move(done));
  }

  CommitListenerId add_commit_listener(CommitListener listener) override {
    return listeners_.add(std::move(listener));
  }

  void remove_commit_listener(CommitListenerId id) override { listeners_.remove(id); }

  SqliteStats stats() const {
    const auto w = writes_.stats();
    std::int64_t reprepared = writer_->reprepared();
    for (const auto& reader : readers_) reprepared += reader->reprepared();
    std::lock_guard lock(checkpoint_mutex_);
    return SqliteStats{w.commits, w.writes, w.pending, checkpoints_, wal_restarts_, reprepared};
  }


 private:
  static std::unique_ptr<Connection> open(const SqliteOptions& options, Access access) {
    return std::make_unique<Connection>(
        options.path,
        sqlite::ConnectionOptions{access, options.durability, options.busy_timeout_ms});
  }

  Connection& acquire_reader() {
    std::unique_lock lock(readers_mutex_);
    reader_free_.wait(lock, [&] { return !free_readers_.empty(); });
    Connection* connection = free_readers_.back();
    free_readers_.pop_back();
    return *connection;
  }

  void release_reader(Connection& connection) {
    {
      std::lock_guard lock(readers_mutex_);
      free_readers_.push_back(&connection);
    }
    reader_free_.notify_one();
  }

  // On the writer thread after each group commit. A checkpoint is asked for each time the WAL has grown by kCheckpointPages since the last
  // request, not after every commit once it is that large: a page the batches keep writing (a
  // B-tree's right edge, a log head) is then copied into the database once per 1000 pages of WAL
  // rather than once per commit.
  void after_commit() {
    listeners_.notify(appends_);
    const int pages = writer_->wal_pages();
    if (pages < checkpoint_requested_at_) checkpoint_requested_at_ = 0;  // the WAL started over
    if (pages - checkpoint_requested_at_ >= kCheckpointPages) {
      checkpoint_requested_at_ = pages;
      request_checkpoint();
    }
  }

  // Checkpoints run on their own thread and connection, so no commit waits for one (SQLite's
  // automatic checkpoint would run inside the commit that crosses the threshold and hold up that
  // whole group — a tail latency of several milliseconds every few hundred writes).
  void request_checkpoint() {
    {
      std::lock_guard lock(checkpoint_mutex_);
      checkpoint_requested_ = true;
    }
    checkpoint_wanted_.notify_one();
  }

  void checkpoint_loop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mutex_);
        checkpoint_wanted_.wait(lock, [&] { return stopping_ || checkpoint_requested_; });
        if (stopping_) return;  // closing the last connection checkpoints anyway
        checkpoint_requested_ = false;
      }
      try {
        const auto result = checkpointer_->checkpoint_passive();
        if (result.wal_frames >= wal_restart_pages_) restart_wanted_ = true;
        std::lock_guard lock(checkpoint_mutex_);
        ++checkpoints_;
      } catch (const std::exception& e) {
        log::warn("WAL checkpoint failed; the next commit asks again", {{"error", e.what()}});
      }
    }
  }

  // A passive checkpoint never lets the WAL start over while writes keep coming: some reader is
  // always on a recent snapshot, so the copy is never complete, and the file grows for as long as
  // the load lasts (450 MB in 8 s of creates), each commit extending it (block allocation, and a
  // flush of the file's metadata with every fsync). Once a passive checkpoint leaves a WAL of
  // wal_restart_pages (16 MB by default) or more, the writer thread, between two batches, copies what is left and waits
  // (busy timeout) for readers still on older snapshots; the next commit then writes the WAL from
  // its start, over blocks the file already has. The writes queued meanwhile wait for that: the
  // copy of the frames committed since the passive checkpoint, 1.5-3 ms every ~170 ms under a
  // create load. It waits for readers at most kRestartWait, not the busy timeout: a long read (an
  // audit verification holds one snapshot) must not hold up the writes. SQLITE_BUSY (such a
  // reader, or the passive checkpoint running) leaves it to the next large WAL.
  void restart_wal_if_wanted() {
    if (!restart_wanted_.exchange(false)) return;
    try {
      const auto result = writer_->checkpoint_restart(kRestartWait);
      if (!result.busy) {
        std::lock_guard lock(checkpoint_mutex_);
        ++wal_restarts_;
      }
    } catch (const std::exception& e) {
      log::warn("WAL restart checkpoint failed; the next large WAL asks again",
                {{"error", e.what()}});
    }
  }

  // One transaction for the whole batch. First without a savepoint per job (each costs the
  // writer two statements and the pager's bookkeeping): a job that fails without having changed
  // anything just fails; one that fails after changing something is answered with its failure,
  // and the transaction is rolled back and run again without it — the same state before it, so
  // the same failure a savepoint would have given — with a savepoint per job from then on (the
  // jobs may run again: Database::write's contract). Returns whether it committed; what the
  // committed attempt appended to the log is then in appends_, for the commit listeners.
  bool run_batch(const std::vector<QueuedWrite*>& batch) noexcept {
    std::vector<bool> dropped(batch.size(), false);
    // Nothing of the batch was committed: every job not dropped fails with the batch (a dropped
    // one keeps its own failure).
    auto fail_remaining = [&](const std::string& message) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!dropped[i]) batch[i]->error = std::make_exception_ptr(DatabaseError(message));
      }
    };
    bool savepoints = false;
    for (;;) {
      appends_.clear();  // a rolled-back attempt appended nothing
      try {
        writer_->control("BEGIN IMMEDIATE");
      } catch (const std::exception& e) {
        writer_->rollback_if_open();
        fail_remaining(std::string("cannot begin the write transaction: ") + e.what());
        return false;
      }
      try {
        SqliteTransaction tx(*writer_, &appends_);
        std::optional<std::size_t> failed_with_changes;
        for (std::size_t i = 0; i < batch.size(); ++i) {
          if (dropped[i]) continue;
          batch[i]->error = nullptr;  // each run decides anew
          if (!run_job(tx, *batch[i], savepoints)) {
            failed_with_changes = i;
            break;
          }
        }
        if (failed_with_changes) {
          writer_->control("ROLLBACK");
          dropped[*failed_with_changes] = true;  // its error stays
          savepoints = true;
          continue;
        }
        writer_->control("COMMIT");
        return true;
      } catch (const std::exception& e) {
        writer_->rollback_if_open();
        fail_remaining(std::string("the group commit failed: ") + e.what());
        return false;
      }
    }
  }

  // Runs one job in the batch's transaction, in a savepoint of its own or straight in it. Its own
  // exception stays its own (job.error); a failure of the machinery throws and so fails the whole
  // batch. Returns false when, without a savepoint, it failed after changing something: the
  // transaction must then be rolled back.
  bool run_job(SqliteTransaction& tx, QueuedWrite& job, bool in_savepoint) {
    if (in_savepoint) writer_->control("SAVEPOINT w");
    const std::int64_t before = writer_->change_count();
    try {
      (*job.work)(tx);
    } catch (...) {
      job.error = std::current_exception();
    }
    if (writer_->autocommit()) {
      throw DatabaseError("SQLite ended the transaction after an error in a write");
    }
    if (!in_savepoint) return !job.error || writer_->change_count() == before;
    if (job.error) writer_->control("ROLLBACK TO w");
    writer_->control("RELEASE w");
    return true;
  }

  static constexpr int kCheckpointPages = 1000;  // SQLite's default auto-checkpoint threshold
  static constexpr std::chrono::milliseconds kRestartWait{20};

  const int wal_restart_pages_;
  int checkpoint_requested_at_ = 0;  // WAL pages at the last request; writer thread only
  std::unique_ptr<Connection> writer_;        // used only by the writer thread (after construction)
  std::unique_ptr<Connection> checkpointer_;  // used only by checkpoint_thread_

  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<Connection*> free_readers_;

  CommitListeners listeners_;  // called by the writer thread after each group commit
  LogAppends appends_;         // what the batch being run appended; writer thread only
  mutable std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_requested_ = false;
  bool stopping_ = false;
  std::int64_t checkpoints_ = 0;
  std::int64_t wal_restarts_ = 0;
  std::atomic<bool> restart_wanted_{false};  // set by the checkpoint thread, taken by the writer
  std::thread checkpoint_thread_;

  GroupCommitQueue writes_;  // last: its thread runs run_batch() on the members above

  static thread_local const SqliteDatabase* reading_;  // the database this thread reads from
};

thread_local const SqliteDatabase* SqliteDatabase::reading_ = nullptr;

}  // namespace

std::unique_ptr<Database> open_sqlite(const SqliteOptions& options) {
  check_and_create_directory(options);
  auto db = std::make_unique<SqliteDatabase>(options);
  apply_migrations(*db);
  return db;
}

std::optional<SqliteStats> sqlite_stats(const Database& db) {
  const auto* sqlite = dynamic_cast<const SqliteDatabase*>(&db);
  if (sqlite == nullptr) return std::nullopt;
  return sqlite->stats();
}

}  // namespace todo::store

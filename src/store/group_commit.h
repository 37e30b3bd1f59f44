// The write queue both backends share: callers of Database::write() wait while one writer thread
// takes the writes queued meanwhile (at most max_batch) and has the backend run them together in
// one transaction (group commit: one commit, one flush to disk, per batch).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store/database.h"

namespace todo::store {

// One write() waiting in the queue, or one write_async().
struct QueuedWrite {
  const std::function<void(Transaction&)>* work = nullptr;
  // An asynchronous write owns its work (`work` points at it) and is told its outcome through
  // `on_done` instead of waking a waiting caller.
  std::function<void(Transaction&)> owned_work;
  std::function<void(std::exception_ptr)> on_done;
  std::exception_ptr error;  // set by the writer thread when this write failed
  bool done = false;         // guarded by the queue's mutex
  // Its caller waits on this alone, so a batch wakes only its own callers, not every caller
  // waiting in the queue. Notified under the queue's mutex: the caller cannot return (and
  // destroy it) before the writer thread let go of it.
  std::condition_variable finished;
};

class GroupCommitQueue {
 public:
  // Runs a batch in one transaction on the writer thread, setting each failed write's error;
  // returns whether the transaction committed.
  using RunBatch = std::function<bool(const std::vector<QueuedWrite*>&)>;

  // `after_commit` runs on the writer thread after each commit, before the batch's callers
  // return (commit listeners, a checkpoint request): keep it short. `between_batches`, when set,
  // runs on the writer thread after the batch's callers were released and before the next batch
  // is taken (upkeep that must not run inside a write transaction).
  GroupCommitQueue(std::size_t max_batch, RunBatch run_batch, std::function<void()> after_commit,
                   std::function<void()> between_batches = {});
  ~GroupCommitQueue();  // stop()
  GroupCommitQueue(const GroupCommitQueue&) = delete;
  GroupCommitQueue& operator=(const GroupCommitQueue&) = delete;

  // Starts the writer thread: last in the owner's constructor, once run_batch can run.
  void start();
  // Runs every queued write, stops the thread and waits until every caller has returned.
  void stop();

  // Queues `work`, waits until its batch ran, and rethrows its error. From the writer thread
  // itself (a write inside a write) it throws "nested write": it would wait for itself.
  void write(const std::function<void(Transaction&)>& work);
  // Queues `work` and returns at once; after its batch ran (committed or not), the writer thread
  // calls `done` with the write's error, or null when it committed. `done` runs on the writer
  // thread after the commit listeners: it must be short and must not block (hand the rest to
  // another thread). May be called from any thread, the writer thread included. Throws
  // DatabaseError when the queue is stopping (then `done` is never called).
  void write_async(std::function<void(Transaction&)> work,
                   std::function<void(std::exception_ptr)> done);

  struct Stats {
    std::int64_t commits = 0;  // group commits that succeeded
    std::int64_t writes = 0;   // writes the writer thread has run, committed or not
    std::int64_t pending = 0;  // writes waiting for the writer thread right now
  };
  Stats stats() const;

 private:
  void loop();

  const std::size_t max_batch_;
  const RunBatch run_batch_;
  const std::function<void()> after_commit_;
  const std::function<void()> between_batches_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable callers_left_;  // stop() waits for waiting_callers_ == 0
  std::deque<QueuedWrite*> queue_;
  int waiting_callers_ = 0;
  bool stopping_ = false;
  std::int64_t commits_ = 0;
  std::int64_t writes_ = 0;
  std::thread thread_;
};

}  // namespace todo::store

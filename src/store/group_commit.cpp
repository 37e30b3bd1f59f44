#include "store/group_commit.h"

namespace todo::store {

GroupCommitQueue::GroupCommitQueue(std::size_t max_batch, RunBatch run_batch,
                                   std::function<void()> after_commit,
                                   std::function<void()> between_batches)
    : max_batch_(max_batch),
      run_batch_(std::move(run_batch)),
      after_commit_(std::move(after_commit)),
      between_batches_(std::move(between_batches)) {}

GroupCommitQueue::~GroupCommitQueue() { stop(); }

void GroupCommitQueue::start() { thread_ = std::thread([this] { loop(); }); }

void GroupCommitQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  if (thread_.joinable()) thread_.join();  // the loop runs every queued write before it returns
  // Their callers may still be waking up; they need mutex_ to return from write().
  std::unique_lock lock(mutex_);
  callers_left_.wait(lock, [&] { return waiting_callers_ == 0; });
}

void GroupCommitQueue::write(const std::function<void(Transaction&)>& work) {
  if (std::this_thread::get_id() == thread_.get_id()) throw DatabaseError("nested write");
  QueuedWrite job;
  job.work = &work;
  std::unique_lock lock(mutex_);
  if (stopping_) throw DatabaseError("the database is closing");
  queue_.push_back(&job);
  ++waiting_callers_;
  ready_.notify_one();
  job.finished.wait(lock, [&] { return job.done; });
  if (--waiting_callers_ == 0 && stopping_) callers_left_.notify_all();
  lock.unlock();
  if (job.error) std::rethrow_exception(job.error);
}

GroupCommitQueue::Stats GroupCommitQueue::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{commits_, writes_, static_cast<std::int64_t>(queue_.size())};
}

void GroupCommitQueue::loop() {
  std::vector<QueuedWrite*> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write has run
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    const bool committed = run_batch_(batch);
    // Before the callers return, so a write that returned has had its commit announced (and a
    // listener added after it returned never hears of it).
    if (committed) after_commit_();
    {
      std::lock_guard lock(mutex_);
      writes_ += static_cast<std::int64_t>(batch.size());
      if (committed) ++commits_;
      // Once the lock is released a caller may return and destroy its write: touch none after.
      for (QueuedWrite* job : batch) {
        job->done = true;
        job->finished.notify_one();
      }
    }
    if (between_batches_) between_batches_();
  }
}

}  // namespace todo::store

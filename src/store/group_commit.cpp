#include "store/group_commit.h"

#include <memory>

#include "log/log.h"

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

void GroupCommitQueue::write_async(std::function<void(Transaction&)> work,
                                   std::function<void(std::exception_ptr)> done) {
  auto job = std::make_unique<QueuedWrite>();
  job->owned_work = std::move(work);
  job->work = &job->owned_work;
  job->on_done = std::move(done);
  std::lock_guard lock(mutex_);
  if (stopping_) throw DatabaseError("the database is closing");
  queue_.push_back(job.release());  // the writer thread deletes it after calling on_done
  ready_.notify_one();
}

GroupCommitQueue::Stats GroupCommitQueue::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{commits_, writes_, static_cast<std::int64_t>(queue_.size())};
}

void GroupCommitQueue::loop() {
  std::vector<QueuedWrite*> batch;
  std::vector<std::unique_ptr<QueuedWrite>> asynchronous;
  for (;;) {
    batch.clear();
    asynchronous.clear();
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
        if (job->on_done) {
          asynchronous.emplace_back(job);
          continue;
        }
        job->done = true;
        job->finished.notify_one();
      }
    }
    for (const auto& job : asynchronous) {
      try {
        job->on_done(job->error);
      } catch (const std::exception& e) {
        log::error("an asynchronous write's completion threw", {{"error", e.what()}});
      } catch (...) {
        log::error("an asynchronous write's completion threw", {{"error", "unknown"}});
      }
    }
    if (between_batches_) between_batches_();
  }
}

}  // namespace todo::store

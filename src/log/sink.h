// The buffered, bounded writer behind log::write: callers never block on a slow or stopped
// reader of the log (a full pipe); lines beyond the bound are dropped and counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace todo::log {

class Sink {
 public:
  // Writes to fd (not owned). At most `capacity` bytes wait to be written; more are dropped.
  Sink(int fd, std::size_t capacity);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Never blocks on the fd and takes no lock for an ordinary line: the line goes onto a lock-free
  // queue (or is dropped when the bound is reached). The first line after a quiet spell wakes the
  // writer thread through an atomic; an urgent line, or the one that fills 64 KiB, also cuts its
  // 20 ms batching short, and only those take the writer's mutex.
  void add(std::string_view line, bool urgent);
  // Writes everything buffered now; blocks until written (before exiting).
  void flush();
  // Lines dropped since the start, for tests and metrics.
  std::uint64_t dropped_total() const;

 private:
  struct Line;  // one queued line: the link to the next and the text, in one allocation
  void run();
  void write_pending();  // takes the queue, writes it outside any lock the callers take
  void wake_batching();  // cuts the writer's 20 ms wait short

  int fd_;
  std::size_t capacity_;
  std::atomic<Line*> newest_{nullptr};  // the queue, newest first; the writer takes it whole
  std::atomic<std::size_t> pending_bytes_{0};
  std::atomic<std::uint64_t> dropped_{0};        // not yet reported
  std::atomic<std::uint64_t> dropped_total_{0};  // since the start
  std::atomic<bool> urgent_{false};              // a warning or error waits: write now
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> doorbell_{0};  // rung when lines arrive at an idle writer
  std::mutex mutex_;                        // only for the writer's timed wait (wake_)
  std::condition_variable wake_;
  std::mutex write_mutex_;  // one writer at a time (the thread, or flush()); guards batch_
  std::string batch_;
  std::thread thread_;
};

}  // namespace todo::log

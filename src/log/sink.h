// The buffered, bounded writer behind log::write: callers never block on a slow or stopped
// reader of the log (a full pipe); lines beyond the bound are dropped and counted.
#pragma once

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

  // Never blocks on the fd: appends the line (or drops it when the buffer is full) and, for an
  // urgent line or a large buffer, wakes the writer thread.
  void add(std::string_view line, bool urgent);
  // Writes everything buffered now; blocks until written (before exiting).
  void flush();
  // Lines dropped since the start, for tests and metrics.
  std::uint64_t dropped_total() const;

 private:
  void run();
  void write_pending();  // swaps the buffer out under the lock, writes outside it

  int fd_;
  std::size_t capacity_;
  mutable std::mutex mutex_;  // guards pending_, dropped_, urgent_, stopping_ (never held while
                              // writing)
  std::condition_variable wake_;
  std::string pending_;
  std::uint64_t dropped_ = 0;        // not yet reported
  std::uint64_t dropped_total_ = 0;  // since the start
  bool urgent_ = false;  // a warning or error waits: write now
  bool stopping_ = false;
  std::mutex write_mutex_;  // one writer at a time (the thread, or flush())
  std::thread thread_;
};

}  // namespace todo::log

// One PostgreSQL connection outside the pool that LISTENs on a channel, on a thread of its own
// that waits on the socket, so commits of other processes wake this one (docs/adr/0019).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace todo::store::postgres {

// The channel the outbox's appends are announced on (pg_notify in the appending transaction).
inline constexpr const char* kLogChannel = "todo_log";

struct NotificationListenerOptions {
  std::string url;  // as for the pool; never shown unredacted
  std::string channel = kLogChannel;
  int connect_timeout_s = 10;
  // After a broken connection: the first pause before reconnecting, doubled up to the last.
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // Whether a notification sent by the server process with this PID is the owner's own echo —
  // a commit of one of its pool's connections, whose listeners already heard it with the exact
  // partitions. Such notifications are dropped; unset, none is.
  std::function<bool(int pid)> is_own_backend;
};

class NotificationListener {
 public:
  // Connects and LISTENs before it returns (throws DatabaseError when it cannot), then calls
  // `on_notification` from its own thread for each batch of notifications received that holds
  // one not sent by the owner itself (options.is_own_backend), and once
  // after every reconnection (what was sent while it was away is lost). A broken connection is
  // reopened by the thread itself, with a growing pause between attempts.
  NotificationListener(NotificationListenerOptions options, std::function<void()> on_notification);
  // Stops the thread at once, whatever the server is doing: the thread waits on an eventfd next
  // to the socket, and never blocks on the server alone.
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  // True while the connection LISTENs (false between a break and the reconnection).
  bool listening() const { return listening_.load(); }

 private:
  class Session;
  void run();
  void notify_owner();

  const NotificationListenerOptions options_;
  const std::function<void()> on_notification_;
  int stop_fd_ = -1;  // an eventfd: readable once the destructor asks the thread to stop
  std::atomic<bool> listening_{false};
  std::unique_ptr<Session> session_;  // the thread's alone once it runs; null while broken
  std::thread thread_;
};

}  // namespace todo::store::postgres

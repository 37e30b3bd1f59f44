// The LISTEN connection of a PostgresDatabase: libpq's asynchronous API (PQconnectStart,
// PQsendQuery, PQconsumeInput, PQnotifies) over poll(), next to an eventfd the destructor uses to
// stop the thread, so nothing here ever blocks on the server alone.
#include "store/postgres/notification_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>

#include "log/log.h"
#include "store/database.h"
#include "store/open_database.h"  // redact_database_url

namespace todo::store::postgres {
namespace {

using Clock = std::chrono::steady_clock;

// Thrown inside the listener's thread once the destructor asked it to stop.
struct Stopped {};

enum class Wake { kReady, kTimeout };

// Waits until `fd` has one of `events` (or an error or hang-up, which libpq then reports) or the
// deadline passes. Throws Stopped as soon as `stop_fd` is readable.
Wake wait_for(int fd, short events, int stop_fd, std::optional<Clock::time_point> deadline) {
  if (fd < 0) throw DatabaseError("the PostgreSQL connection has no socket");
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    int timeout_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      timeout_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    const int n = ::poll(fds, 2, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DatabaseError(std::string("poll failed: ") + std::strerror(errno));
    }
    if (fds[1].revents != 0) throw Stopped{};
    return n == 0 ? Wake::kTimeout : Wake::kReady;
  }
}

// Sleeps for `pause` unless stopped first (then throws Stopped).
void pause_unless_stopped(int stop_fd, std::chrono::milliseconds pause) {
  pollfd fd{stop_fd, POLLIN, 0};
  const auto deadline = Clock::now() + pause;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const int n = ::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (n > 0) throw Stopped{};
    if (n == 0) return;
    if (errno != EINTR) throw DatabaseError(std::string("poll failed: ") + std::strerror(errno));
  }
}

struct Finish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

std::string message_of(PGconn* conn) {
  std::string message = conn == nullptr ? "out of memory" : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

// One connection that LISTENs: opened, then asked for notifications until it breaks.
class NotificationListener::Session {
 public:
  Session(const NotificationListenerOptions& options, int stop_fd)
      : stop_fd_(stop_fd), is_own_backend_(options.is_own_backend) {
    std::optional<Clock::time_point> deadline;
    if (options.connect_timeout_s > 0) {
      deadline = Clock::now() + std::chrono::seconds(options.connect_timeout_s);
    }
    connect(options, deadline);
    listen(options.channel, deadline);
  }

  // Waits for the socket; true when notifications not sent by the owner itself arrived (all of
  // them are consumed: one wake-up stands for any number). Throws DatabaseError when the
  // connection broke, Stopped when stopping.
  bool wait_for_notifications() {
    wait_for(PQsocket(conn_.get()), POLLIN, stop_fd_, std::nullopt);
    if (PQconsumeInput(conn_.get()) == 0) throw DatabaseError(message_of(conn_.get()));
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_.get())) {
      if (!is_own_backend_ || !is_own_backend_(n->be_pid)) any = true;
      PQfreemem(n);
    }
    if (PQstatus(conn_.get()) != CONNECTION_OK) throw DatabaseError(message_of(conn_.get()));
    return any;
  }

 private:
  void connect(const NotificationListenerOptions& options,
               std::optional<Clock::time_point> deadline) {
    // Keepalives notice a server that vanished without closing the TCP connection (they do not
    // apply to a Unix socket, whose peer's end is always seen).
    const char* keywords[] = {"dbname",
                              "application_name",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              nullptr};
    const char* values[] = {options.url.c_str(), "todo-listen", "1", "30", "10", "3", nullptr};
    conn_.reset(PQconnectStartParams(keywords, values, 1));
    const auto fail = [&](const std::string& why) {
      return DatabaseError("cannot open the notification connection to PostgreSQL at " +
                           redact_database_url(options.url) + ": " + why);
    };
    if (!conn_ || PQstatus(conn_.get()) == CONNECTION_BAD) throw fail(message_of(conn_.get()));
    // As libpq's documentation says: start as if the last poll asked for writing. The socket
    // may change between polls, so it is asked for each time.
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;
    while (status != PGRES_POLLING_OK) {
      if (status == PGRES_POLLING_FAILED) throw fail(message_of(conn_.get()));
      const short events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      if (wait_for(PQsocket(conn_.get()), events, stop_fd_, deadline) == Wake::kTimeout) {
        throw fail("timed out");
      }
      status = PQconnectPoll(conn_.get());
    }
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
    if (PQsetnonblocking(conn_.get(), 1) != 0) throw fail(message_of(conn_.get()));
  }

  void listen(const std::string& channel, std::optional<Clock::time_point> deadline) {
    PGconn* conn = conn_.get();
    char* quoted = PQescapeIdentifier(conn, channel.c_str(), channel.size());
    if (quoted == nullptr) throw DatabaseError(message_of(conn));
    const std::string sql = std::string("LISTEN ") + quoted;
    PQfreemem(quoted);
    if (PQsendQuery(conn, sql.c_str()) == 0) throw DatabaseError(message_of(conn));
    const auto wait = [&](short events) {
      if (wait_for(PQsocket(conn), events, stop_fd_, deadline) == Wake::kTimeout) {
        throw DatabaseError("LISTEN timed out");
      }
      if (PQconsumeInput(conn) == 0) throw DatabaseError(message_of(conn));
    };
    for (int flushed = PQflush(conn); flushed != 0; flushed = PQflush(conn)) {
      if (flushed < 0) throw DatabaseError(message_of(conn));
      wait(POLLIN | POLLOUT);
    }
    while (PQisBusy(conn) != 0) wait(POLLIN);
    bool listening = false;
    std::string error;
    while (PGresult* r = PQgetResult(conn)) {
      if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        listening = true;
      } else {
        error = PQresultErrorMessage(r);
      }
      PQclear(r);
    }
    if (!listening || !error.empty()) throw DatabaseError("LISTEN failed: " + error);
  }

  const int stop_fd_;
  const std::function<bool(int)> is_own_backend_;
  std::unique_ptr<PGconn, Finish> conn_;
};

NotificationListener::NotificationListener(NotificationListenerOptions options,
                                           std::function<void()> on_notification)
    : options_(std::move(options)), on_notification_(std::move(on_notification)) {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw DatabaseError(std::string("eventfd failed: ") + std::strerror(errno));
  try {
    session_ = std::make_unique<Session>(options_, stop_fd_);
    listening_ = true;
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    session_.reset();
    ::close(stop_fd_);
    throw;
  }
}

NotificationListener::~NotificationListener() {
  const std::uint64_t one = 1;
  // An eventfd write of 1 cannot fail here (the counter is far from overflowing); the thread
  // sees the descriptor readable from now on, in every wait.
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  session_.reset();
  ::close(stop_fd_);
}

void NotificationListener::notify_owner() {
  try {
    on_notification_();
  } catch (const std::exception& e) {
    log::error("a notification handler failed", {{"error", e.what()}});
  }
}

// Waits for notifications until stopped; a broken connection is reopened after a pause that
// doubles with each failed attempt, and a reopened one wakes the owner once.
void NotificationListener::run() {
  auto pause = options_.first_backoff;
  for (;;) {
    try {
      if (!session_) {
        session_ = std::make_unique<Session>(options_, stop_fd_);
        listening_ = true;
        pause = options_.first_backoff;
        log::info("listening for PostgreSQL notifications again", {{"channel", options_.channel}});
        notify_owner();  // what was announced while the connection was down is lost
      }
      if (session_->wait_for_notifications()) notify_owner();
    } catch (const Stopped&) {
      return;
    } catch (const std::exception& e) {
      const bool was_listening = session_ != nullptr;
      session_.reset();
      listening_ = false;
      log::warn(was_listening ? "the PostgreSQL notification connection broke; reconnecting"
                              : "cannot reopen the PostgreSQL notification connection yet",
                {{"error", e.what()}, {"retry_in_ms", static_cast<std::int64_t>(pause.count())}});
      try {
        pause_unless_stopped(stop_fd_, pause);
      } catch (const Stopped&) {
        return;
      } catch (const std::exception& pause_error) {
        log::error("the notification thread cannot wait; it stops",
                   {{"error", pause_error.what()}});
        return;
      }
      pause = std::min(pause * 2, options_.max_backoff);
    }
  }
}

}  // namespace todo::store::postgres

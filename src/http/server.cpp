// HTTP/1.1 server on Boost.Beast with C++20 coroutines: one strand per connection, handlers moved
// to bounded pools when they block, limits and timeouts on every read, graceful drain on stop.
#include "http/server.h"

#include "http/problem.h"
#include "http/request_target.h"
#include "http/response_head.h"
#include "http/websocket_session.h"
#include "log/log.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/url/parse.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <random>
#include <thread>
#include <tuple>

namespace todo::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// A connection's socket: an accepted TCP socket, or one end of a socketpair(2) that a test or
// fuzz target hands to Server::serve_socket; both run the same connection code.
using Socket = asio::generic::stream_protocol::socket;
using Stream = detail::ConnectionStream;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

// A bounded pool for blocking work: more than `limit` waiting jobs → 503 overloaded.
struct BlockingPool {
  BlockingPool(int threads, int queue_limit)
      : pool(static_cast<std::size_t>(std::max(1, threads))), limit(queue_limit) {}
  asio::thread_pool pool;
  int limit;
  std::atomic<int> pending{0};
};

// The asynchronous routes' replies still unanswered: the server's pools and contexts must outlive
// them, so run() and the destructor wait until there are none.
struct AsyncReplies {
  std::mutex mutex;
  std::condition_variable none_left;
  int live = 0;

  void wait_until_none() {
    std::unique_lock lock(mutex);
    none_left.wait(lock, [&] { return live == 0; });
  }
};

// The Reply target of one request of an asynchronous route: steps run on the route's pool; the
// answer resumes the request's coroutine on its own executor. The first answer wins; a target
// dropped unanswered answers with an error (a 500).
template <class Completion>
class PooledReply final : public Reply::Target,
                          public std::enable_shared_from_this<PooledReply<Completion>> {
 public:
  PooledReply(Completion completion, asio::thread_pool::executor_type pool, AsyncReplies& replies)
      : completion_(std::move(completion)), pool_(pool), replies_(replies) {
    std::lock_guard lock(replies_.mutex);
    ++replies_.live;
  }
  ~PooledReply() override {
    complete(std::make_exception_ptr(std::logic_error("the route gave no response")), {});
    std::lock_guard lock(replies_.mutex);
    if (--replies_.live == 0) replies_.none_left.notify_all();
  }
  PooledReply(const PooledReply&) = delete;
  PooledReply& operator=(const PooledReply&) = delete;

  void run(std::function<void()> step) override {
    asio::post(pool_, [self = this->shared_from_this(), step = std::move(step)] {
      try {
        step();
      } catch (...) {
        self->complete(std::current_exception(), {});
      }
    });
  }

  void complete(std::exception_ptr error, Response response) override {
    std::optional<Completion> completion;
    {
      std::lock_guard lock(mutex_);
      if (!completion_) return;  // answered already
      completion.emplace(std::move(*completion_));
      completion_.reset();
    }
    auto executor = asio::get_associated_executor(*completion);
    asio::post(executor, [completion = std::move(*completion), error,
                          response = std::move(response)]() mutable {
      std::move(completion)(error, std::move(response));
    });
  }

 private:
  std::mutex mutex_;
  std::optional<Completion> completion_;  // empty once answered
  asio::thread_pool::executor_type pool_;
  AsyncReplies& replies_;
};

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i) {
    id[static_cast<std::size_t>(i)] = kHex[v & 0xf];
    v >>= 4;
  }
  return id;
}

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Header names are lower-cased in place: no temporary string per header.
void assign_lower(std::string& out, std::string_view s) {
  out.assign(s.data(), s.size());
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

std::string join_methods(const std::vector<Method>& methods) {
  std::string out;
  for (Method m : methods) {
    if (!out.empty()) out += ", ";
    out += to_string(m);
  }
  return out;
}

using RequestParser = bhttp::request_parser<bhttp::string_body>;

// How reading one request ended. Beast throws for some inputs (a trailer field longer than
// basic_fields can hold): that is a bad request of this connection, never an escaped exception.
struct ReadResult {
  boost::system::error_code ec;
  std::string exception;  // what() of an exception thrown while parsing; ec is then bad_value
  std::optional<Response> refusal;  // the header was read but the request is refused: answer, close
  bool failed() const { return ec || !exception.empty(); }
};

// Feeds the buffered bytes to the parser until it needs more input or `done` holds.
// Returns false when it needs more bytes from the socket.
bool feed_parser(RequestParser& parser, beast::flat_buffer& buffer, ReadResult& result,
                 bool (*done)(const RequestParser&)) {
  while (!done(parser)) {
    if (buffer.size() == 0) return false;
    boost::system::error_code ec;
    std::size_t used = 0;
    try {
      used = parser.put(buffer.data(), ec);
    } catch (const std::exception& e) {
      result.exception = e.what();
      result.ec = bhttp::error::bad_value;
      return true;
    }
    buffer.consume(used);
    if (ec == bhttp::error::need_more) return false;
    if (ec) {
      result.ec = ec;
      return true;
    }
    if (used == 0) return false;
  }
  return true;
}

bool header_done(const RequestParser& p) { return p.is_header_done(); }

std::string_view trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// RFC 9112 §5.2: a server must reject obs-fold (a header line continued on the next line
// starting with a space or tab). Beast accepts it; the raw bytes of a complete header tell.
bool has_obs_fold(const beast::flat_buffer& buffer) {
  auto data = buffer.data();
  std::string_view text(static_cast<const char*>(data.data()), data.size());
  auto end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  text = text.substr(0, end + 2);
  return text.find("\r\n ") != std::string_view::npos ||
         text.find("\r\n\t") != std::string_view::npos;
}
bool message_done(const RequestParser& p) { return p.is_done(); }

constexpr std::size_t kReadChunk = 65536;

std::string canned_response(const Response& response) {
  std::string out = "HTTP/1.1 503 Service Unavailable\r\nserver: todo\r\nconnection: close\r\n";
  for (const auto& h : response.headers) out += h.name + ": " + h.value + "\r\n";
  out += "content-length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  out += response.body;
  return out;
}

// Ends a request read that takes longer than the read timeout by cancelling the socket's
// operations (not closing it, as tcp_stream's own timeout would), so a 408 can still be sent.
// Its timer is armed only when the read has to wait for more bytes: a request that is whole in
// the buffer after its first read (nearly every one) costs no timer.
class ReadWatchdog {
 public:
  ReadWatchdog(Stream& stream, Clock::time_point deadline) : stream_(stream), deadline_(deadline) {}
  ReadWatchdog(const ReadWatchdog&) = delete;
  ReadWatchdog& operator=(const ReadWatchdog&) = delete;
  ~ReadWatchdog() { disarm(); }

  // Before each wait for bytes; the first call starts the timer (for the deadline given above).
  void arm() {
    if (state_) return;
    state_ = std::make_shared<State>(stream_.get_executor());
    state_->stream = &stream_;
    state_->timer.expires_at(deadline_);
    state_->timer.async_wait([state = state_](boost::system::error_code ec) {
      if (ec || !state->stream) return;
      state->fired = true;
      state->stream->socket().cancel();
    });
  }
  void disarm() {
    if (!state_ || !state_->stream) return;
    state_->stream = nullptr;
    state_->timer.cancel();
  }
  bool fired() const { return state_ && state_->fired; }

 private:
  struct State {  // shared with the timer's handler, which may run after the read ended
    explicit State(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    Stream* stream = nullptr;
    bool fired = false;
  };
  Stream& stream_;
  const Clock::time_point deadline_;
  std::shared_ptr<State> state_;
};

// Ends the wait for a keep-alive connection's next request once it has lasted the idle timeout,
// by cancelling the read. One timer per connection, armed again only when it goes off: between
// two requests the connection just moves its deadline (a clock read), where arming and
// cancelling a timer around every wait cost more than the rest of a /health request's socket
// calls. The timer goes off at most once per idle timeout while requests keep coming.
class IdleWatch {
 public:
  IdleWatch(Stream& stream, Clock::duration timeout)
      : state_(std::make_shared<State>(stream)), timeout_(timeout) {}
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;
  ~IdleWatch() { detach(); }

  // Before the wait for the next request's first byte.
  void waiting() {
    state_->deadline = Clock::now() + timeout_;
    state_->waiting = true;
    if (!state_->armed) arm(state_);
  }
  // Once that byte came.
  void busy() { state_->waiting = false; }
  // Before the stream moves or goes away.
  void detach() {
    if (!state_->stream) return;
    state_->stream = nullptr;
    state_->timer.cancel();
  }

 private:
  struct State {  // shared with the timer's handler, which may run after the connection ended
    explicit State(Stream& s) : timer(s.get_executor()), stream(&s) {}
    asio::steady_timer timer;
    Stream* stream;
    Clock::time_point deadline;
    bool waiting = false;
    bool armed = false;
  };
  static void arm(const std::shared_ptr<State>& state) {
    state->armed = true;
    state->timer.expires_at(state->deadline);
    state->timer.async_wait([state](boost::system::error_code ec) {
      state->armed = false;
      // Busy: the next waiting() arms it again, for its own deadline.
      if (ec || !state->stream || !state->waiting) return;
      if (Clock::now() < state->deadline) {
        arm(state);  // the deadline moved on since it was armed
        return;
      }
      state->stream->socket().cancel();
    });
  }

  std::shared_ptr<State> state_;
  const Clock::duration timeout_;
};

// State of one connection that stop() needs to see.
struct ClientConnection {
  Stream* stream = nullptr;
  std::atomic<bool> idle{true};
  std::shared_ptr<WebSocketSink> websocket;  // after an upgrade (guarded by connections_mutex)
};


}  // namespace

namespace detail {

std::string response_head(const bhttp::response<bhttp::string_body>& m) {
  const unsigned version = m.version();
  const unsigned code = m.result_int();
  const std::string_view reason = m.reason();  // the set reason, else the standard one
  std::size_t size = 13 + reason.size() + 4;
  for (const auto& field : m) size += field.name_string().size() + field.value().size() + 4;
  std::string out;
  out.reserve(size);
  const char start[13] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10), '.',
                          static_cast<char>('0' + version % 10), ' ',
                          static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + (code / 10) % 10),
                          static_cast<char>('0' + code % 10), ' '};
  out.append(start, sizeof start);
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : m) {
    out.append(field.name_string().data(), field.name_string().size());
    out += ": ";
    out.append(field.value().data(), field.value().size());
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

bhttp::response<bhttp::string_body> beast_message(const Response& response, bool keep_alive,
                                                  bool head_request) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
  out.set(bhttp::field::server, "todo");
  for (const auto& h : response.headers) out.set(h.name, h.value);
  if (head_request) {
    out.content_length(response.body.size());
  } else {
    out.body() = response.body;
    out.prepare_payload();
  }
  out.keep_alive(keep_alive);
  return out;
}

std::string response_head(const Response& response, bool keep_alive, bool head_request) {
  const int code = response.status;
  const bool bodiless = !head_request && (code / 100 == 1 || code == 204 || code == 304);
  // What Beast does in ways not repeated here: refuse a body where none may be (it throws), and
  // edit the tokens of a Connection or Transfer-Encoding field a handler set. No handler does.
  bool unusual = code < 100 || code > 999 || (bodiless && !response.body.empty());
  for (const auto& h : response.headers) {
    unusual = unusual || beast::iequals(h.name, "connection") ||
              beast::iequals(h.name, "transfer-encoding");
  }
  if (unusual) return response_head(beast_message(response, keep_alive, head_request));

  // The fields in the order Beast keeps them: setting one removes those of the same name (in any
  // case) and adds it at the end.
  boost::container::small_vector<std::pair<std::string_view, std::string_view>, 16> fields;
  const auto erase = [&](std::string_view name) {
    fields.erase(std::remove_if(fields.begin(), fields.end(),
                                [&](const auto& field) { return beast::iequals(field.first, name); }),
                 fields.end());
  };
  const auto set = [&](std::string_view name, std::string_view value) {
    erase(name);
    fields.emplace_back(name, value);
  };
  set("Server", "todo");
  for (const auto& h : response.headers) set(h.name, h.value);
  std::array<char, 24> length;  // Beast sets it for every status, 0 for those without a body
  const auto end =
      std::to_chars(length.data(), length.data() + length.size(), response.body.size()).ptr;
  set("Content-Length", std::string_view(length.data(), end));
  if (!keep_alive) set("Connection", "close");

  const std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(code));
  std::size_t size = 13 + reason.size() + 4;
  for (const auto& field : fields) size += field.first.size() + field.second.size() + 4;
  std::string out;
  out.reserve(size);
  const char start[13] = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ',
                          static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + (code / 10) % 10),
                          static_cast<char>('0' + code % 10), ' '};
  out.append(start, sizeof start);
  out.append(reason);
  out += "\r\n";
  for (const auto& [name, value] : fields) {
    out.append(name);
    out += ": ";
    out.append(value);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace detail

struct Server::Impl {
  Impl(ServerOptions opts, const Router& r, Metrics& m)
      : options(std::move(opts)),
        router(r),
        metrics(m),
        io_threads(options.io_threads > 0
                       ? options.io_threads
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        contexts(make_contexts(io_threads)),
        ioc(*contexts.front()),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM),
        read_pool(options.read_threads, options.database_queue_limit),
        write_pool(options.write_threads, options.database_queue_limit),
        cpu_pool(options.cpu_threads, options.cpu_queue_limit),
        control(asio::make_strand(ioc)),
        grace_timer(control) {}

  ServerOptions options;
  const Router& router;
  Metrics& metrics;
  int io_threads;
  // One single-threaded io_context per I/O thread: a connection lives on one of them, so its
  // handlers never contend for a shared scheduler lock. The first also runs the acceptor,
  // signals and shutdown.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  asio::io_context& ioc;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::atomic<std::size_t> next_context{0};

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  void release_contexts() {
    for (auto& guard : keep_running) guard.reset();
  }
  void stop_contexts() {
    for (auto& c : contexts) c->stop();
  }
  tcp::acceptor acceptor;
  asio::signal_set signals;
  BlockingPool read_pool;
  BlockingPool write_pool;
  BlockingPool cpu_pool;
  asio::strand<asio::io_context::executor_type> control;  // serialises stop and the grace timer
  asio::steady_timer grace_timer;
  std::atomic<bool> stopping{false};
  std::mutex connections_mutex;
  std::list<std::shared_ptr<ClientConnection>> connections;

  // Keeps a connection in `connections` (and its admission) until it is destroyed, however the
  // connection ends (even by an exception), so a graceful stop never waits for it.
  struct Registration {
    Impl* impl;
    std::shared_ptr<ClientConnection> conn;
    std::list<std::shared_ptr<ClientConnection>>::iterator position;
    std::string client;
    Registration(Impl* i, std::shared_ptr<ClientConnection> c,
                 std::list<std::shared_ptr<ClientConnection>>::iterator p, std::string cl)
        : impl(i), conn(std::move(c)), position(p), client(std::move(cl)) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() {
      impl->release_admission(client);
      {
        std::lock_guard lock(impl->connections_mutex);
        conn->stream = nullptr;
        impl->connections.erase(position);
      }
      impl->finish_stop_if_drained();
    }
  };

  // An accepted upgrade, handed from the HTTP loop to the WebSocket session: the HTTP coroutine
  // (its read buffer, parser, request and response) is gone before the session starts, so an idle
  // WebSocket keeps only what it needs.
  struct WebSocketHandoff {
    Stream stream;
    bhttp::request<bhttp::string_body> upgrade;
    WebSocketSession session;
    detail::WebSocketLimits limits;
    std::shared_ptr<ClientConnection> conn;
    std::unique_ptr<Registration> registration;  // the connection stays registered until the end
  };

  void begin_stop();
  void finish_stop_if_drained();
  asio::awaitable<void> accept_loop();
  // Serves HTTP requests until the connection ends, or until an upgrade is accepted: then returns
  // what the WebSocket session needs.
  asio::awaitable<std::optional<WebSocketHandoff>> serve_connection(Socket socket,
                                                                    std::string client);
  asio::awaitable<void> serve_websocket(WebSocketHandoff handoff);
  asio::awaitable<void> serve_connection_safely(Socket socket, std::string client);
  // Admits the connection under the caps and serves it, or refuses it.
  void start_connection(Socket socket, std::string client);
  void refuse_connection(Socket socket, const std::string& detail);
  // max_connections, lowered by listen() to fit the descriptor limit
  std::size_t connection_cap = options.max_connections;
  template <class Work>
  void spawn(asio::any_io_executor executor, Work work);

  // Open connections, in total and per client address (guarded by connections_mutex).
  std::size_t open_connections = 0;
  std::unordered_map<std::string, std::size_t> open_per_client;
  // Counts the connection in when it is under both caps; otherwise says why not.
  std::optional<std::string> admit(const std::string& client);
  // Out of file descriptors: a descriptor kept in reserve is given up to accept one pending
  // connection and refuse it with a 503, so the backlog drains instead of accept spinning.
  int reserve_fd = -1;
  std::string out_of_descriptors_answer;  // a whole canned HTTP 503 response
  log::Recurring accept_failures{std::chrono::seconds(10)};
  void refuse_with_reserve();
  void release_admission(const std::string& client);
  // Bytes of request bodies being received, summed over connections (options.max_body_bytes_in_
  // flight): a body's bytes are reserved before they are read and released after its response.
  std::atomic<std::size_t> body_bytes_in_flight{0};
  std::atomic<bool> trim_after_peak{false};
  struct BodyReservation {
    explicit BodyReservation(Impl* owner) : impl(owner) {}
    Impl* impl;
    std::size_t reserved = 0;
    std::optional<std::size_t> expected;  // Content-Length, when the request has one
    bool cover(std::size_t bytes);        // false: the server-wide budget is exhausted
    BodyReservation(const BodyReservation&) = delete;
    BodyReservation& operator=(const BodyReservation&) = delete;
    ~BodyReservation();
  };

  asio::awaitable<ReadResult> read_request(Stream* stream, beast::flat_buffer* buffer,
                                           RequestParser* parser, BodyReservation* reservation,
                                           ReadWatchdog* watchdog);
  asio::awaitable<bool> read_more(Stream* stream, beast::flat_buffer* buffer, RequestParser* parser,
                                  ReadResult* result);
  std::optional<Response> check_header(const RequestParser& parser, BodyReservation& reservation);
  Response overloaded(std::string detail, std::string_view instance) const;
  void run_io(asio::io_context& context);
  asio::awaitable<Response> handle(Request& request);
  Response exception_response(const Request& request, const std::exception& e);
  // A WebSocket route's handler decides: the session to run, or (in `refusal`) its answer.
  std::optional<WebSocketSession> upgrade(Request& request, Response& refusal);
  asio::awaitable<Response> run_on(BlockingPool& pool, const Route& route, Request& request);
  asio::awaitable<std::tuple<std::exception_ptr, Response>> run_blocking(BlockingPool& pool,
                                                                         const Route& route,
                                                                         Request& request);
  asio::awaitable<std::tuple<std::exception_ptr, Response>> run_async(BlockingPool& pool,
                                                                      const Route& route,
                                                                      Request& request);
  AsyncReplies async_replies;
  void apply_cors(const Request& request, Response& response) const;
  std::optional<Response> preflight(const Request& request) const;
};

void Server::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  log::info("shutting down", {{"grace_seconds", static_cast<std::int64_t>(
                                                    options.shutdown_grace.count())}});
  boost::system::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  {
    std::lock_guard lock(connections_mutex);
    for (auto& c : connections) {
      // WebSocket sessions get a close frame (1001); idle keep-alive connections are closed now;
      // busy ones close after their response.
      if (c->websocket) {
        c->websocket->close(close_codes::kGoingAway, "server shutting down");
      } else if (c->idle.load() && c->stream) {
        auto conn = c;
        asio::post(c->stream->get_executor(), [conn] {
          if (conn->stream && conn->idle.load()) conn->stream->cancel();
        });
      }
    }
  }
  grace_timer.expires_after(options.shutdown_grace);
  grace_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) {
      log::warn("shutdown grace period over; closing remaining connections");
      stop_contexts();
    }
  });
}

// Once stopping and the last connection is gone, the grace timer is the only work left: cancel it
// so run() returns at once.
void Server::Impl::finish_stop_if_drained() {
  asio::post(control, [this] {
    if (!stopping.load()) return;
    std::lock_guard lock(connections_mutex);
    if (connections.empty()) {
      grace_timer.cancel();
      release_contexts();
    }
  });
}

// Runs a connection's coroutine; what it throws is counted and logged, never rethrown.
template <class Work>
void Server::Impl::spawn(asio::any_io_executor executor, Work work) {
  asio::co_spawn(executor, std::move(work), [this](std::exception_ptr e) {
    if (!e) return;
    metrics.count_connection_error("exception");
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("connection failed", {{"error", ex.what()}});
    } catch (...) {
      log::error("connection failed", {{"error", "unknown exception"}});
    }
  });
}

std::optional<std::string> Server::Impl::admit(const std::string& client) {
  std::lock_guard lock(connections_mutex);
  if (open_connections >= connection_cap) {
    metrics.count_connection_error("connection_limit");
    return "The server has " + std::to_string(connection_cap) +
           " open connections; retry later.";
  }
  auto& mine = open_per_client[client];
  // A trusted proxy (an ingress) carries many clients' connections: only the total caps it.
  if (mine >= options.max_connections_per_client && !options.trusted_proxies.trusts(client)) {
    metrics.count_connection_error("client_connection_limit");
    return "This client address has " + std::to_string(options.max_connections_per_client) +
           " open connections; close one or retry later.";
  }
  ++mine;
  ++open_connections;
  return std::nullopt;
}

void Server::Impl::release_admission(const std::string& client) {
  std::lock_guard lock(connections_mutex);
  --open_connections;
  auto it = open_per_client.find(client);
  if (it != open_per_client.end() && --it->second == 0) open_per_client.erase(it);
}

// A connection beyond a cap gets a 503 without its request being read and is closed at once, so
// refusals never hold descriptors (under a flood they would exhaust them).
void Server::Impl::refuse_connection(Socket socket, const std::string& detail) {
  std::string answer = canned_response(overloaded(detail, "/"));
  ssize_t sent = ::send(socket.native_handle(), answer.data(), answer.size(),
                        MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)sent;  // best effort: the connection is closed either way
  boost::system::error_code ec;
  socket.shutdown(asio::socket_base::shutdown_send, ec);
  socket.close(ec);
}

void Server::Impl::refuse_with_reserve() {
  if (reserve_fd < 0) return;
  ::close(reserve_fd);
  reserve_fd = -1;
  int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd >= 0) {
    ssize_t sent = ::send(fd, out_of_descriptors_answer.data(), out_of_descriptors_answer.size(),
                          MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)sent;  // best effort: the connection is closed either way
    ::close(fd);
    metrics.count_connection_error("no_descriptors");
  }
  reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

asio::awaitable<void> Server::Impl::accept_loop() {
  asio::steady_timer backoff_timer(ioc);
  Clock::duration backoff = std::chrono::milliseconds(5);
  while (!stopping.load()) {
    auto& target = *contexts[next_context.fetch_add(1) % contexts.size()];
    auto [ec, socket] = co_await acceptor.async_accept(target, kUseAwaitable);
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted) break;
      // Logged once per interval with a count: at the descriptor limit this fails for every
      // pending connection.
      if (auto count = accept_failures.occurred()) {
        log::warn("accept failed", {{"error", ec.message()}, {"occurrences", count}});
      }
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) refuse_with_reserve();
      // Back off instead of retrying at once: the condition rarely clears within microseconds.
      backoff_timer.expires_after(backoff);
      co_await backoff_timer.async_wait(kUseAwaitable);
      backoff = std::min<Clock::duration>(backoff * 2, std::chrono::seconds(1));
      continue;
    }
    backoff = std::chrono::milliseconds(5);
    boost::system::error_code endpoint_ec;
    std::string client = socket.remote_endpoint(endpoint_ec).address().to_string();
    start_connection(Socket(std::move(socket)), std::move(client));
  }
  // Nothing left to accept; when the last connection ends, run() returns.
  finish_stop_if_drained();
  co_return;
}

void Server::Impl::start_connection(Socket socket, std::string client) {
  if (auto why = admit(client)) {
    refuse_connection(std::move(socket), *why);
    return;
  }
  auto executor = socket.get_executor();
  auto session = [this, s = std::move(socket), c = std::move(client)]() mutable {
    return serve_connection_safely(std::move(s), std::move(c));
  };
  spawn(executor, std::move(session));
}

bool Server::Impl::BodyReservation::cover(std::size_t bytes) {
  std::size_t wanted = expected ? *expected : bytes;
  if (wanted <= reserved) return true;
  std::size_t more = wanted - reserved;
  std::size_t limit = impl->options.max_body_bytes_in_flight;
  std::size_t current = impl->body_bytes_in_flight.load();
  do {
    if (current + more > limit) return false;
  } while (!impl->body_bytes_in_flight.compare_exchange_weak(current, current + more));
  reserved += more;
  // After a peak, the allocator is asked to give the memory back once everything is released.
  if (current + more >= limit / 4) impl->trim_after_peak.store(true);
  return true;
}

Server::Impl::BodyReservation::~BodyReservation() {
  if (reserved == 0) return;
  std::size_t left = impl->body_bytes_in_flight.fetch_sub(reserved) - reserved;
  if (left == 0 && impl->trim_after_peak.exchange(false)) ::malloc_trim(0);
}

Response Server::Impl::overloaded(std::string detail, std::string_view instance) const {
  auto error = domain::make_error(domain::ErrorCode::kOverloaded, std::move(detail));
  error.retry_after_seconds = 1;
  return problem_response(error, instance);
}

// What the header alone decides: whether the body may be received at all.
std::optional<Response> Server::Impl::check_header(const RequestParser& parser,
                                                   BodyReservation& reservation) {
  const auto& header = parser.get();
  std::string_view target = header.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto bad_request = [&](std::string detail) {
    metrics.count_connection_error("bad_request");
    return problem_response(domain::make_error(domain::ErrorCode::kBadRequest, std::move(detail)),
                            path);
  };
  // RFC 9112 §3.2: a client must send Host in HTTP/1.1; exactly one.
  if (header.version() == 11 && header.count(bhttp::field::host) != 1) {
    return bad_request("An HTTP/1.1 request needs exactly one Host header.");
  }
  // Only chunked is implemented; Beast would decode "gzip, chunked" as plain chunked and hand
  // the handler a compressed body.
  if (header.count(bhttp::field::transfer_encoding) > 0) {
    if (header.count(bhttp::field::transfer_encoding) != 1 ||
        !beast::iequals(trimmed(header[bhttp::field::transfer_encoding]), "chunked")) {
      metrics.count_connection_error("not_implemented");
      return problem_response(
          ProblemKind{"not-implemented", 501, "Not implemented"},
          "Only Transfer-Encoding: chunked is supported.", path);
    }
  }
  if (parser.is_done()) return std::nullopt;  // no body
  if (auto length = parser.content_length()) reservation.expected = static_cast<std::size_t>(*length);
  if (!reservation.cover(std::min<std::size_t>(kReadChunk, options.body_limit))) {
    metrics.count_connection_error("body_bytes_in_flight");
    return overloaded("Too many request bodies are being received; retry later.", path);
  }
  return std::nullopt;
}

// One read from the socket into the bounded buffer. False: the request ends here (see result).
asio::awaitable<bool> Server::Impl::read_more(Stream* stream, beast::flat_buffer* buffer,
                                              RequestParser* parser, ReadResult* result) {
  // The buffer is bounded by the header limit: a header, trailer section or chunk line that
  // does not fit is refused instead of buffered without end.
  std::size_t room = std::min(kReadChunk, buffer->max_size() - buffer->size());
  if (room == 0) {
    result->ec = bhttp::error::header_limit;
    co_return false;
  }
  auto [ec, n] = co_await stream->async_read_some(buffer->prepare(room), kUseAwaitable);
  buffer->commit(n);
  if (ec == asio::error::eof) {
    if (!parser->got_some()) {
      result->ec = bhttp::error::end_of_stream;
      co_return false;
    }
    boost::system::error_code eof_ec;
    parser->put_eof(eof_ec);
    result->ec = eof_ec ? eof_ec : bhttp::error::end_of_stream;
    if (!eof_ec && parser->is_done()) result->ec = {};
    co_return false;
  }
  if (ec) {
    result->ec = ec;
    co_return false;
  }
  co_return true;
}

// Reads one whole request (the first byte is already buffered) without ever letting an exception
// thrown by the parser leave this coroutine: Beast's own async_read would throw it out of
// io_context::run() and abort the process. The header is read first and checked before any byte
// of the body is accepted.
asio::awaitable<ReadResult> Server::Impl::read_request(Stream* stream, beast::flat_buffer* buffer,
                                                       RequestParser* parser,
                                                       BodyReservation* reservation,
                                                       ReadWatchdog* watchdog) {
  ReadResult result;
  parser->eager(false);
  for (;;) {
    if (!parser->is_header_done() && has_obs_fold(*buffer)) {
      metrics.count_connection_error("bad_request");
      result.refusal = problem_response(
          domain::make_error(domain::ErrorCode::kBadRequest,
                             "Header lines continued by obs-fold are not accepted (RFC 9112)."),
          "/");
      co_return result;
    }
    if (feed_parser(*parser, *buffer, result, &header_done)) break;
    watchdog->arm();
    if (!co_await read_more(stream, buffer, parser, &result)) co_return result;
  }
  if (result.failed()) co_return result;
  if (auto refusal = check_header(*parser, *reservation)) {
    result.refusal = std::move(refusal);
    co_return result;
  }
  // The client waits for this before it sends the body (curl: one second, then sends anyway).
  if (!parser->is_done() && buffer->size() == 0) {
    auto expect = parser->get()[bhttp::field::expect];
    if (beast::iequals(trimmed(expect), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      watchdog->arm();
      auto [ec, n] = co_await asio::async_write(*stream, asio::buffer(kContinue), kUseAwaitable);
      (void)n;
      if (ec) {
        result.ec = ec;
        co_return result;
      }
    }
  }
  parser->eager(true);
  while (!feed_parser(*parser, *buffer, result, &message_done)) {
    // Chunked bodies reserve as they grow; a Content-Length body reserved all of it above.
    if (!reservation->cover(parser->get().body().size() + kReadChunk)) {
      metrics.count_connection_error("body_bytes_in_flight");
      std::string_view target = parser->get().target();
      result.refusal = overloaded("Too many request bodies are being received; retry later.",
                                  target.substr(0, target.find('?')));
      co_return result;
    }
    watchdog->arm();
    if (!co_await read_more(stream, buffer, parser, &result)) co_return result;
  }
  co_return result;
}

// The connection's coroutine: whatever it throws ends this connection only, counted and logged.
asio::awaitable<void> Server::Impl::serve_connection_safely(Socket socket, std::string client) {
  try {
    auto handoff = co_await serve_connection(std::move(socket), std::move(client));
    if (handoff) co_await serve_websocket(std::move(*handoff));
  } catch (const std::exception& e) {
    metrics.count_connection_error("exception");
    log::error("connection failed", {{"error", e.what()}});
  }
}

asio::awaitable<void> Server::Impl::serve_websocket(WebSocketHandoff handoff) {
  auto conn = handoff.conn;
  auto keep = [this, conn](std::shared_ptr<WebSocketSink> sink) {
    bool stop_now = false;
    {
      std::lock_guard lock(connections_mutex);
      conn->websocket = sink;
      stop_now = stopping.load();
    }
    if (stop_now) sink->close(close_codes::kGoingAway, "server shutting down");
  };
  co_await detail::run_websocket(std::move(handoff.stream), std::move(handoff.upgrade),
                                 std::move(handoff.session), handoff.limits, std::move(keep));
  std::lock_guard lock(connections_mutex);
  conn->websocket = nullptr;
}

asio::awaitable<std::optional<Server::Impl::WebSocketHandoff>> Server::Impl::serve_connection(
    Socket socket, std::string client) {
  boost::system::error_code ec;
  Stream stream(std::move(socket));
  auto conn = std::make_shared<ClientConnection>();
  conn->stream = &stream;
  std::list<std::shared_ptr<ClientConnection>>::iterator registration;
  {
    std::lock_guard lock(connections_mutex);
    registration = connections.insert(connections.end(), conn);
  }
  auto deregister = std::make_unique<Registration>(this, conn, registration, client);
  // Bounded: unparsed bytes never exceed the header limit (bodies go into the parser's body).
  beast::flat_buffer buffer(options.header_limit);
  IdleWatch idle(stream, options.idle_timeout);
  // For the response's first write, tried without waiting (below); Asio's own operations do not
  // mind the mode.
  stream.socket().non_blocking(true, ec);

  for (;;) {
    if (stopping.load()) break;
    conn->idle.store(true);
    if (buffer.size() == 0) {
      // Wait for the first byte of the next request under the idle timeout. The buffer holds at
      // most the header limit, which may be below this first read's size.
      idle.waiting();
      auto first = buffer.prepare(std::min<std::size_t>(4096, buffer.max_size()));
      auto [read_ec, n] = co_await stream.async_read_some(first, kUseAwaitable);
      idle.busy();
      if (read_ec) break;
      buffer.commit(n);
    }
    conn->idle.store(false);
    auto started = Clock::now();

    BodyReservation reservation{this};
    RequestParser parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // Chunk extensions count toward the body limit (Beast counts only chunk data), so a stream of
    // tiny chunks with long extensions cannot make us parse without end.
    std::size_t extension_bytes = 0;
    // Beast keeps a reference to the callback: it lives as long as the parser.
    auto count_extensions = [&extension_bytes, &parser, limit = options.body_limit](
                                std::uint64_t, std::string_view extensions,
                                boost::system::error_code& chunk_ec) {
      extension_bytes += extensions.size();
      if (extension_bytes + parser.get().body().size() > limit) chunk_ec = bhttp::error::body_limit;
    };
    parser.on_chunk_header(count_extensions);
    // The whole request must arrive within the read timeout: a slow client cannot hold us.
    stream.expires_never();
    ReadWatchdog watchdog(stream, started + options.read_timeout);
    ReadResult read = co_await read_request(&stream, &buffer, &parser, &reservation, &watchdog);
    watchdog.disarm();
    bool timed_out = watchdog.fired() && read.ec && parser.got_some();
    auto parse_ec = read.ec;
    bool refused = read.failed() || read.refusal.has_value();

    Response response;
    Request request;
    bool keep_alive = false;
    if (refused) {
      if (!timed_out && (parse_ec == bhttp::error::end_of_stream || parse_ec == beast::error::timeout ||
          parse_ec == asio::error::operation_aborted || parse_ec == asio::error::eof ||
          parse_ec == asio::error::connection_reset)) {
        break;
      }
      domain::ErrorCode code = domain::ErrorCode::kBadRequest;
      std::string detail = "The request could not be parsed: " + parse_ec.message() + ".";
      std::string_view reason = "bad_request";
      if (!read.exception.empty()) {
        // A field Beast cannot hold: too large, so 431 like any oversized header.
        reason = "parser_exception";
        code = domain::ErrorCode::kHeadersTooLarge;
        detail = "A header or trailer field is too large.";
        log::warn("request parser threw", {{"error", read.exception}, {"client", client}});
      } else if (parse_ec == bhttp::error::body_limit) {
        reason = "body_too_large";
        code = domain::ErrorCode::kPayloadTooLarge;
        detail = "The body exceeds " + std::to_string(options.body_limit) + " bytes.";
      } else if (parse_ec == bhttp::error::header_limit) {
        reason = "headers_too_large";
        code = domain::ErrorCode::kHeadersTooLarge;
        detail = "The request line and headers (or the trailer section, or one chunk line) exceed " +
                 std::to_string(options.header_limit) + " bytes.";
      }
      request.request_id = new_request_id();
      request.client_address = client;
      // The start line is parsed before any limit can trip, so the target is known here.
      if (const auto& h = parser.get(); !h.target().empty()) {
        request.method = parse_method(h.method_string());
        request.target = std::string(h.target());
        request.path = request.target.substr(0, request.target.find('?'));
      }
      request.route = "unmatched";
      if (timed_out) {
        metrics.count_connection_error("timeout");
        response = problem_response(ProblemKind{"request-timeout", 408, "Request timeout"},
                                    "The request did not arrive within " +
                                        std::to_string(options.read_timeout.count()) + " s.",
                                    request.path);
      } else if (read.refusal) {
        response = std::move(*read.refusal);
      } else {
        metrics.count_connection_error(reason);
        response = problem_response(domain::make_error(code, detail), request.path);
      }
    } else {
      auto message = parser.release();
      keep_alive = message.keep_alive();
      request.method = parse_method(message.method_string());
      request.target = std::string(message.target());
      std::vector<std::string_view> forwarded_for;
      request.headers.reserve(
          static_cast<std::size_t>(std::distance(message.begin(), message.end())));
      for (const auto& field : message) {
        Header& header = request.headers.emplace_back();
        assign_lower(header.name, field.name_string());
        header.value.assign(field.value().data(), field.value().size());
      }
      for (const auto& header : request.headers) {
        if (header.name == "x-forwarded-for") forwarded_for.push_back(header.value);
      }
      // Behind a trusted proxy the client is read from X-Forwarded-For (ADR 0022).
      request.client_address = options.trusted_proxies.client_address(client, forwarded_for);
      request.body = std::move(message.body());
      auto rid = request.header("x-request-id");
      request.request_id = rid && is_sane_request_id(*rid) ? std::string(*rid) : new_request_id();
      std::optional<WebSocketSession> accepted;
      if (beast::websocket::is_upgrade(message)) accepted = upgrade(request, response);
      if (accepted) {
        metrics.observe(request.route, request.method, 101,
                        std::chrono::duration<double>(Clock::now() - started).count());
        {
          std::lock_guard lock(connections_mutex);
          conn->stream = nullptr;  // the session owns the stream from here
        }
        detail::WebSocketLimits limits;
        limits.ping_interval = options.websocket_ping_interval;
        limits.idle_timeout = 2 * options.websocket_ping_interval;
        limits.message_limit = options.websocket_message_limit;
        limits.send_queue_limit = options.websocket_send_queue_limit;
        limits.send_queue_bytes = options.websocket_send_queue_bytes;
        idle.detach();
        co_return WebSocketHandoff{std::move(stream), std::move(message), std::move(*accepted),
                                   limits, conn, std::move(deregister)};
      }
      if (request.route.empty()) response = co_await handle(request);
    }
    if (stopping.load()) keep_alive = false;

    response.set_header("x-request-id", request.request_id);
    const bool head_request = request.method == Method::kHead;

    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    metrics.observe(request.route.empty() ? "unmatched" : request.route, request.method,
                    response.status, seconds);
    if (log::enabled(log::Level::kInfo)) {
      log::info("request", {{"request_id", request.request_id},
                            {"method", to_string(request.method)},
                            {"path", printable_target(request.path)},
                            {"route", request.route},
                            {"status", response.status},
                            {"duration_ms", seconds * 1000.0},
                            {"client", request.client_address.empty() ? client
                                                                      : request.client_address},
                            {"peer", client}});
    }

    const std::string head = detail::response_head(response, keep_alive, head_request);
    const std::array<asio::const_buffer, 2> wire{
        asio::buffer(head), head_request ? asio::const_buffer() : asio::buffer(response.body)};
    // The socket nearly always takes the whole response at once: tried first without waiting, so
    // no timer is armed for it. What it did not take is written under the read timeout.
    boost::system::error_code write_ec;
    const std::size_t sent = stream.socket().write_some(wire, write_ec);
    if (write_ec == asio::error::would_block || write_ec == asio::error::try_again) write_ec = {};
    if (!write_ec && sent < asio::buffer_size(wire)) {
      beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(wire);
      rest.consume(sent);
      stream.expires_after(options.read_timeout);
      auto [rest_ec, written] = co_await asio::async_write(stream, rest, kUseAwaitable);
      (void)written;
      write_ec = rest_ec;
      stream.expires_never();
    }
    if (write_ec || !keep_alive) {
      if (!write_ec && refused) {
        // The client may still be sending a body we refused: stop sending, drain briefly, so it
        // reads our answer instead of a connection reset.
        stream.socket().shutdown(asio::socket_base::shutdown_send, ec);
        stream.expires_after(std::chrono::seconds(2));
        std::size_t drained = 0;
        std::vector<char> sink(65536);
        while (drained < 8 * options.body_limit) {
          auto [drain_ec, n] =
              co_await stream.async_read_some(asio::buffer(sink), kUseAwaitable);
          if (drain_ec) break;
          drained += n;
        }
      }
      break;
    }
  }

  stream.socket().shutdown(asio::socket_base::shutdown_both, ec);
  stream.close();
  co_return std::nullopt;
}

std::optional<Response> Server::Impl::preflight(const Request& request) const {
  if (request.method != Method::kOptions) return std::nullopt;
  auto origin = request.header("origin");
  auto wanted = request.header("access-control-request-method");
  if (!origin || !wanted) return std::nullopt;
  Response res;
  res.status = 204;
  bool allowed = std::find(options.cors_origins.begin(), options.cors_origins.end(), *origin) !=
                 options.cors_origins.end();
  if (allowed) {
    res.set_header("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    res.set_header("access-control-allow-headers",
                   "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, "
                   "X-Request-Id");
    res.set_header("access-control-max-age", "600");
  }
  return res;
}

void Server::Impl::apply_cors(const Request& request, Response& response) const {
  auto origin = request.header("origin");
  if (!origin) return;
  bool allowed = std::find(options.cors_origins.begin(), options.cors_origins.end(), *origin) !=
                 options.cors_origins.end();
  if (!allowed) return;
  response.set_header("access-control-allow-origin", std::string(*origin));
  response.set_header("vary", "Origin");
  response.set_header("access-control-expose-headers",
                      "ETag, Location, Retry-After, X-Request-Id");
}

// Runs the route's handler on `pool`; more than the pool's limit of requests waiting → 503. An
// asynchronous route's request counts as waiting until it is answered, so the limit also bounds
// the writes waiting for a group commit.
asio::awaitable<Response> Server::Impl::run_on(BlockingPool& pool, const Route& route,
                                               Request& request) {
  if (pool.pending.fetch_add(1) >= pool.limit) {
    pool.pending.fetch_sub(1);
    co_return problem_response(
        domain::make_error(domain::ErrorCode::kOverloaded, "Too many requests are waiting."),
        request.path);
  }
  // Not a conditional expression of two co_awaits: GCC 12 mishandles the temporaries of one.
  std::tuple<std::exception_ptr, Response> outcome;
  if (route.async_handler) {
    outcome = co_await run_async(pool, route, request);
  } else {
    outcome = co_await run_blocking(pool, route, request);
  }
  pool.pending.fetch_sub(1);
  if (std::get<0>(outcome)) std::rethrow_exception(std::get<0>(outcome));
  co_return std::move(std::get<1>(outcome));
}

asio::awaitable<std::tuple<std::exception_ptr, Response>> Server::Impl::run_blocking(
    BlockingPool& pool, const Route& route, Request& request) {
  const RouteHandler* handler = &route.handler;
  Request* req = &request;
  auto work = [handler, req]() -> asio::awaitable<Response> { co_return (*handler)(*req); };
  co_return co_await asio::co_spawn(pool.pool.get_executor(), std::move(work), kUseAwaitable);
}

// The handler only starts the work (on the pool, or here on the I/O thread: AsyncStart); the
// request waits, holding no thread, until its Reply answers.
asio::awaitable<std::tuple<std::exception_ptr, Response>> Server::Impl::run_async(
    BlockingPool& pool, const Route& route, Request& request) {
  const AsyncRouteHandler* handler = &route.async_handler;
  const bool inline_start = route.start == AsyncStart::kInline;
  Request* req = &request;
  co_return co_await asio::async_initiate<decltype(kUseAwaitable),
                                          void(std::exception_ptr, Response)>(
      [this, &pool, handler, req, inline_start](auto completion) {
        using Target = PooledReply<decltype(completion)>;
        auto target = std::make_shared<Target>(std::move(completion), pool.pool.get_executor(),
                                               async_replies);
        Reply reply(target);
        if (!inline_start) {
          target->run([handler, req, reply = std::move(reply)] { (*handler)(*req, reply); });
          return;
        }
        try {
          (*handler)(*req, reply);
        } catch (...) {
          target->complete(std::current_exception(), {});
        }
      },
      kUseAwaitable);
}

std::optional<WebSocketSession> Server::Impl::upgrade(Request& request, Response& refusal) {
  request.path = request.target.substr(0, request.target.find('?'));
  Params params;
  const WebSocketRoute* route = router.match_websocket(request.path, params);
  if (!route) return std::nullopt;  // an ordinary route answers
  request.route = route->pattern;
  request.path_params = std::move(params);
  if (auto parsed = boost::urls::parse_origin_form(request.target)) {
    for (const auto& param : parsed->params()) request.query.emplace_back(param.key, param.value);
  }
  try {
    auto outcome = route->handler(request);
    if (auto* session = std::get_if<WebSocketSession>(&outcome)) return std::move(*session);
    refusal = std::get<Response>(std::move(outcome));
  } catch (const domain::ErrorException& e) {
    refusal = problem_response(e.error(), request.path);
  } catch (const std::exception& e) {
    refusal = exception_response(request, e);
  }
  apply_cors(request, refusal);
  return std::nullopt;
}

asio::awaitable<Response> Server::Impl::handle(Request& request) {
  using domain::ErrorCode;
  Response response;
  if (detail::is_plain_path(request.target)) {
    request.path = request.target;
  } else {
    auto parsed = boost::urls::parse_origin_form(request.target);
    if (!parsed) {
      request.path = request.target.substr(0, request.target.find('?'));
      request.route = "unmatched";
      response = problem_response(domain::make_error(ErrorCode::kBadRequest,
                                                     "The request target is not a valid path."),
                                  request.path);
      co_return response;
    }
    request.path = parsed->path();
    for (const auto& param : parsed->params()) {
      request.query.emplace_back(param.key, param.value);
    }
  }

  if (auto pre = preflight(request)) {
    request.route = "preflight";
    response = std::move(*pre);
    apply_cors(request, response);
    co_return response;
  }

  RouteMatch match = router.match(request.method, request.path);
  if (!match.route) {
    request.route = "unmatched";
    if (!match.allowed.empty()) {
      response = problem_response(
          domain::make_error(ErrorCode::kMethodNotAllowed,
                             std::string(to_string(request.method)) + " is not allowed here."),
          request.path);
      response.set_header("allow", join_methods(match.allowed));
    } else {
      response = problem_response(
          domain::make_error(ErrorCode::kRouteNotFound,
                             "No route matches " + printable_target(request.path) + "."),
          request.path);
    }
    apply_cors(request, response);
    co_return response;
  }

  request.route = match.route->pattern;
  request.path_params = std::move(match.path_params);
  try {
    switch (match.route->executor) {
      case Executor::kInline: response = match.route->handler(request); break;
      case Executor::kDatabaseRead:
        response = co_await run_on(read_pool, *match.route, request);
        break;
      case Executor::kDatabaseWrite:
        response = co_await run_on(write_pool, *match.route, request);
        break;
      case Executor::kCpuHeavy:
        response = co_await run_on(cpu_pool, *match.route, request);
        break;
    }
  } catch (const domain::ErrorException& e) {
    response = problem_response(e.error(), request.path);
  } catch (const std::exception& e) {
    response = exception_response(request, e);
  }
  apply_cors(request, response);
  co_return response;
}

// What a handler's exception becomes: the error the wiring classifies it as (logged as a
// warning: the condition is expected and passes), else a logged 500.
Response Server::Impl::exception_response(const Request& request, const std::exception& e) {
  if (options.classify_exception) {
    if (auto error = options.classify_exception(e)) {
      log::warn("handler refused", {{"request_id", request.request_id},
                                    {"route", request.route},
                                    {"error", e.what()}});
      return problem_response(*error, request.path);
    }
  }
  log::error("handler failed", {{"request_id", request.request_id},
                                {"route", request.route},
                                {"error", e.what()}});
  return problem_response(
      domain::make_error(domain::ErrorCode::kInternal, "An unexpected error occurred; see the logs."),
      request.path);
}

Server::Server(ServerOptions options, const Router& router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() {
  if (impl_->reserve_fd >= 0) ::close(impl_->reserve_fd);
  impl_->async_replies.wait_until_none();
  impl_->read_pool.pool.join();
  impl_->write_pool.pool.join();
  impl_->cpu_pool.pool.join();
}

namespace {

// The default soft limit (1024) is far below what a server needs; the hard limit is the
// operator's choice.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= limit.rlim_max || limit.rlim_max == RLIM_INFINITY) return;
  auto before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    log::info("raised the open file limit", {{"from", static_cast<std::uint64_t>(before)},
                                             {"to", static_cast<std::uint64_t>(limit.rlim_cur)}});
  }
}

}  // namespace

namespace {

// Connections must leave descriptors for everything else (database files, pools, the bus) and
// for accepting a connection only to refuse it: the cap is lowered to fit the descriptor limit,
// so the limit itself is never reached by connections.
std::size_t connection_cap_for_descriptors(std::size_t configured) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return configured;
  std::size_t in_use = 0;
  std::error_code ignored;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ignored);
       it != std::filesystem::directory_iterator(); it.increment(ignored)) {
    ++in_use;
  }
  std::size_t soft = static_cast<std::size_t>(limit.rlim_cur);
  std::size_t margin = 16 + soft / 32;
  std::size_t fits = soft > in_use + margin ? soft - in_use - margin : 1;
  if (fits < configured) {
    log::info("connection cap lowered to fit the open file limit",
              {{"max_connections", static_cast<std::uint64_t>(fits)},
               {"open_file_limit", static_cast<std::uint64_t>(soft)}});
    return fits;
  }
  return configured;
}

}  // namespace

void Server::listen() {
  auto& im = *impl_;
  raise_descriptor_limit();
  if (im.reserve_fd < 0) im.reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  im.connection_cap = connection_cap_for_descriptors(im.options.max_connections);
  im.out_of_descriptors_answer = canned_response(
      im.overloaded("The server is out of file descriptors; retry later.", "/"));
  auto address = asio::ip::make_address(im.options.address);
  tcp::endpoint endpoint(address, im.options.port);
  im.acceptor.open(endpoint.protocol());
  im.acceptor.set_option(asio::socket_base::reuse_address(true));
  im.acceptor.bind(endpoint);
  im.acceptor.listen(asio::socket_base::max_listen_connections);
}

unsigned short Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::run() {
  auto& im = *impl_;
  im.signals.async_wait([&im](boost::system::error_code ec, int signal) {
    if (ec) return;
    log::info("signal received", {{"signal", signal}});
    asio::post(im.control, [&im] { im.begin_stop(); });
  });
  asio::co_spawn(im.ioc, im.accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("accept loop failed", {{"error", ex.what()}});
    }
  });
  std::vector<std::thread> threads;
  for (auto& c : im.contexts) im.keep_running.push_back(asio::make_work_guard(*c));
  for (std::size_t i = 1; i < im.contexts.size(); ++i) {
    threads.emplace_back([&im, i] { im.run_io(*im.contexts[i]); });
  }
  im.run_io(im.ioc);
  for (auto& t : threads) t.join();
  // Writes still queued finish on the database's writer thread and answer through their pool.
  im.async_replies.wait_until_none();
  im.read_pool.pool.join();
  im.write_pool.pool.join();
  im.cpu_pool.pool.join();
}

// Runs one I/O thread. An exception that escapes a handler (none should: connections catch their
// own) is counted and logged, and the thread goes on serving the others.
void Server::Impl::run_io(asio::io_context& context) {
  for (;;) {
    try {
      context.run();
      return;
    } catch (const std::exception& e) {
      metrics.count_connection_error("escaped_exception");
      log::error("exception escaped an I/O handler", {{"error", e.what()}});
    } catch (...) {
      metrics.count_connection_error("escaped_exception");
      log::error("exception escaped an I/O handler", {{"error", "unknown"}});
    }
  }
}

void Server::serve_socket(int fd, std::string client) {
  auto& im = *impl_;
  Socket socket(im.ioc, asio::generic::stream_protocol(AF_UNIX, 0), fd);
  im.start_connection(std::move(socket), std::move(client));
}

bool Server::poll() {
  auto& ioc = impl_->ioc;
  ioc.poll();
  if (!ioc.stopped()) return true;
  ioc.restart();
  return false;
}

void Server::stop() {
  asio::post(impl_->control, [im = impl_.get()] { im->begin_stop(); });
}

}  // namespace todo::http

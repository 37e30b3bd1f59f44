// One WebSocket session on Boost.Beast: one reader coroutine (the connection's) and one writer
// coroutine draining a bounded queue, which any thread may fill through the Asio-free sink.
#include "http/websocket_session.h"

#include "log/log.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <mutex>

namespace todo::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

class Session : public WebSocketSink, public std::enable_shared_from_this<Session> {
 public:
  Session(ConnectionStream stream, WebSocketLimits limits)
      : ws_(std::move(stream)), limits_(limits), wake_(ws_.get_executor()) {}

  void send(std::string text) override {
    {
      std::lock_guard lock(mutex_);
      if (ended_ || closing_) return;
      if (queue_.size() >= limits_.send_queue_limit) {
        // Too slow: drop the connection rather than buffer without end or make the sender wait.
        // It does not read, so a close frame would not get through either.
        closing_ = true;
        overflowed_ = true;
        queue_.clear();
      } else {
        queue_.push_back(std::move(text));
      }
    }
    poke();
  }

  void close(int code, std::string reason) override {
    {
      std::lock_guard lock(mutex_);
      if (ended_ || closing_) return;
      closing_ = true;
      close_code_ = static_cast<std::uint16_t>(code);
      close_reason_ = std::move(reason);
    }
    poke();
  }

  websocket::stream<ConnectionStream>& ws() { return ws_; }

  // Wakes the writer on the session's executor (from any thread).
  void poke() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      bool drop = false;
      {
        std::lock_guard lock(self->mutex_);
        drop = self->overflowed_;
      }
      if (drop) self->ws_.next_layer().close();
      self->wake_.cancel();
    });
  }

  void end() {
    std::lock_guard lock(mutex_);
    ended_ = true;
    queue_.clear();
  }

  asio::awaitable<void> write_loop() {
    for (;;) {
      std::deque<std::string> batch;
      bool close_now = false;
      websocket::close_reason reason;
      {
        std::lock_guard lock(mutex_);
        if (ended_ || overflowed_) co_return;
        batch.swap(queue_);
        if (closing_) {
          close_now = true;
          reason.code = close_code_;
          auto text = std::string_view(close_reason_).substr(0, 123);
          reason.reason.assign(text.data(), text.size());
        }
      }
      for (auto& text : batch) {
        if (close_now) break;  // an overflow dropped the rest
        ws_.text(true);
        auto [ec, n] = co_await ws_.async_write(asio::buffer(text), kUseAwaitable);
        (void)n;
        if (ec) co_return;
      }
      if (close_now) {
        auto [ec] = co_await ws_.async_close(reason, kUseAwaitable);
        (void)ec;
        co_return;
      }
      wake_.expires_at(asio::steady_timer::time_point::max());
      auto [ec] = co_await wake_.async_wait(kUseAwaitable);
      (void)ec;  // cancelled = woken
    }
  }

 private:
  websocket::stream<ConnectionStream> ws_;
  WebSocketLimits limits_;
  asio::steady_timer wake_;
  std::mutex mutex_;
  std::deque<std::string> queue_;
  bool closing_ = false;
  bool overflowed_ = false;
  bool ended_ = false;
  std::uint16_t close_code_ = websocket::close_code::normal;
  std::string close_reason_;
};

// What services hold: a weak handle, so a service keeping a sink never keeps the session (and
// its Asio objects) alive past its connection or the server.
class SinkHandle : public WebSocketSink {
 public:
  explicit SinkHandle(std::weak_ptr<Session> session) : session_(std::move(session)) {}
  void send(std::string text) override {
    if (auto s = session_.lock()) s->send(std::move(text));
  }
  void close(int code, std::string reason) override {
    if (auto s = session_.lock()) s->close(code, std::move(reason));
  }

 private:
  std::weak_ptr<Session> session_;
};

}  // namespace

asio::awaitable<void> run_websocket(ConnectionStream stream,
                                    beast::http::request<beast::http::string_body> upgrade,
                                    WebSocketSession session, WebSocketLimits limits) {
  // The HTTP stream timeout would close a quiet socket: WebSocket timeouts take over.
  stream.expires_never();
  auto self = std::make_shared<Session>(std::move(stream), limits);
  auto& ws = self->ws();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::seconds(10);
  timeout.idle_timeout = limits.idle_timeout;
  timeout.keep_alive_pings = true;  // Beast pings after half the idle timeout of silence
  ws.set_option(timeout);
  ws.read_message_max(limits.message_limit);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "todo"); }));

  auto [accept_ec] = co_await ws.async_accept(upgrade, kUseAwaitable);
  if (accept_ec) {
    if (session.on_close) session.on_close(1006);
    co_return;
  }
  auto writer = [self]() { return self->write_loop(); };
  asio::co_spawn(ws.get_executor(), std::move(writer), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("websocket writer failed", {{"error", ex.what()}});
    }
  });
  std::shared_ptr<WebSocketSink> sink = std::make_shared<SinkHandle>(self);
  try {
    if (session.on_open) session.on_open(sink);
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(buffer, kUseAwaitable);
      (void)n;
      if (ec) break;
      if (ws.got_text() && session.on_message) {
        auto data = buffer.data();
        session.on_message(sink, std::string_view(static_cast<const char*>(data.data()),
                                                  data.size()));
      }
      buffer.consume(buffer.size());
    }
  } catch (const std::exception& e) {
    log::error("websocket session failed", {{"error", e.what()}});
  }
  self->end();
  self->poke();
  int code = ws.reason().code != websocket::close_code::none ? ws.reason().code : 1006;
  if (session.on_close) session.on_close(code);
}

}  // namespace todo::http::detail

// One WebSocket session on Boost.Beast: one reader coroutine (the connection's) and one writer
// coroutine draining a bounded queue, which any thread may fill through the Asio-free sink.
#include "http/websocket_session.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <array>
#include <mutex>
#include <utility>
#include <vector>

#include "domain/text.h"
#include "log/log.h"

namespace todo::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

class Session : public WebSocketSink, public std::enable_shared_from_this<Session> {
 public:
  Session(ConnectionStream stream, WebSocketLimits limits)
      : ws_(std::move(stream)),
        limits_(limits),
        wake_(ws_.get_executor()),
        cut_timer_(ws_.get_executor()) {}

  void send(std::string text) override {
    bool overflow = false;
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (ended_ || closing_) return;
      if (queue_.size() >= limits_.send_queue_limit ||
          queued_bytes_ + text.size() > limits_.send_queue_bytes) {
        // Too slow: close rather than buffer without end or make the sender wait. The queue is
        // dropped; the close frame goes out if the client still reads at all (else cut_later).
        closing_ = true;
        overflow = true;
        close_code_ = static_cast<std::uint16_t>(close_codes::kSlowConsumer);
        close_reason_ = "slow consumer: the send queue overflowed";
        server_code_ = close_codes::kSlowConsumer;
        queue_.clear();
        queued_bytes_ = 0;
      } else {
        queued_bytes_ += text.size();
        queue_.push_back(std::move(text));
      }
      // A writer at work finds the frame when it looks at the queue again: only a sleeping one
      // is woken (one post and one timer cancel less per frame under load).
      wake = std::exchange(writer_sleeping_, false) || overflow;
    }
    if (overflow) cut_later();
    if (wake) poke();
  }

  void close(int code, std::string reason) override {
    {
      std::lock_guard lock(mutex_);
      if (ended_ || closing_) return;
      closing_ = true;
      close_code_ = static_cast<std::uint16_t>(code);
      close_reason_ = std::move(reason);
      server_code_ = code;
    }
    cut_later();
    poke();
  }

  websocket::stream<ConnectionStream>& ws() { return ws_; }

  // Wakes the writer on the session's executor (from any thread).
  void poke() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
  }

  // A peer that does not finish the closing handshake within close_timeout (it stopped reading,
  // or broke the protocol while our close was under way) is cut off.
  void cut_later() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      {
        std::lock_guard lock(self->mutex_);
        if (self->ended_) return;
      }
      self->cut_timer_.expires_after(self->limits_.close_timeout);
      self->cut_timer_.async_wait([self](boost::system::error_code ec) {
        if (ec) return;
        self->cut();
      });
    });
  }

  // Closes the socket and ends the reading and closing operations wherever they wait. Closing
  // the socket alone is not enough: Beast 1.81 can leave both suspended on each other, off the
  // socket (a protocol error read while our async_close waits for the read side: the read waits
  // for the write side to send its own close frame, which the close holds). Only their
  // cancellation slots reach them there.
  void cut() {
    boost::system::error_code ignored;
    ws_.next_layer().socket().close(ignored);
    close_cancel_.emit(asio::cancellation_type::terminal);
    read_cancel_.emit(asio::cancellation_type::terminal);
  }

  // The reader's completion token: cut() can end the read wherever Beast suspended it.
  auto read_token() { return asio::bind_cancellation_slot(read_cancel_.slot(), kUseAwaitable); }

  // The reader saw the end: no more writes; the close code the session reports.
  int end(int peer_code) {
    std::lock_guard lock(mutex_);
    ended_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    cut_timer_.cancel();
    if (server_code_ != 0) return server_code_;
    return peer_code;
  }

  // Records a close the transport decided itself (too big, binary).
  void closed_by_server(int code) {
    std::lock_guard lock(mutex_);
    if (server_code_ == 0) server_code_ = code;
  }

  asio::awaitable<void> write_loop() {
    for (;;) {
      bool close_now = false;
      websocket::close_reason reason;
      {
        // Scoped: what was written is freed before the writer sleeps (an idle connection holds
        // no frame it has sent).
        std::vector<std::string> batch;
        {
          std::lock_guard lock(mutex_);
          if (ended_) co_return;
          writer_sleeping_ = false;  // woken by close() or end(), which poke unconditionally
          batch.swap(queue_);
          queued_bytes_ = 0;
          if (closing_) {
            close_now = true;
            reason.code = close_code_;
            auto text = std::string_view(close_reason_).substr(0, 123);
            reason.reason.assign(text.data(), text.size());
          }
        }
        for (auto& text : batch) {
          ws_.text(true);
          auto [ec, n] = co_await ws_.async_write(asio::buffer(text), kUseAwaitable);
          (void)n;
          if (ec) co_return;
        }
      }
      if (close_now) {
        auto [ec] = co_await ws_.async_close(
            reason, asio::bind_cancellation_slot(close_cancel_.slot(), kUseAwaitable));
        (void)ec;
        co_return;
      }
      {
        // A poke that ran while the batch was being written cancelled no wait: whatever it
        // announced is in the queue now, so go round again instead of sleeping on it. (The check
        // and the wait below run on the session's strand, as pokes do, so none falls in between.)
        std::lock_guard lock(mutex_);
        if (ended_) co_return;
        if (!queue_.empty() || closing_) continue;
        writer_sleeping_ = true;  // from here a send() pokes
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
  asio::steady_timer cut_timer_;
  asio::cancellation_signal read_cancel_;   // emitted by cut() only, on the session's strand
  asio::cancellation_signal close_cancel_;
  std::mutex mutex_;
  std::vector<std::string> queue_;  // swapped out whole by the writer (no deque: ~600 B empty)
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool ended_ = false;
  bool writer_sleeping_ = false;  // the writer waits on wake_ (or is about to)
  int server_code_ = 0;
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

asio::awaitable<void> run_websocket(
    ConnectionStream stream, beast::http::request<beast::http::string_body> upgrade,
    WebSocketSession session, WebSocketLimits limits,
    std::function<void(std::shared_ptr<WebSocketSink>)> on_accepted) {
  // The HTTP stream timeout would close a quiet socket: WebSocket timeouts take over.
  stream.expires_never();
  auto self = std::make_shared<Session>(std::move(stream), limits);
  auto& ws = self->ws();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::seconds(10);  // also bounds the closing handshake
  timeout.idle_timeout = limits.idle_timeout;
  timeout.keep_alive_pings = true;  // Beast pings after half the idle timeout of silence
  ws.set_option(timeout);
  ws.read_message_max(limits.message_limit);
  ws.set_option(websocket::stream_base::decorator(
      [subprotocol = session.subprotocol](websocket::response_type& res) {
        res.set(beast::http::field::server, "todo");
        if (!subprotocol.empty()) res.set(beast::http::field::sec_websocket_protocol, subprotocol);
      }));

  auto [accept_ec] = co_await ws.async_accept(upgrade, kUseAwaitable);
  upgrade = {};  // its fields are not needed again: an idle connection does not keep them
  if (accept_ec) {
    if (session.on_close) session.on_close(close_codes::kAbnormal);
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
  if (on_accepted) on_accepted(sink);
  try {
    if (session.on_open) session.on_open(sink);
    // Read piecewise into a small chunk of this frame and gather the message in a string: a
    // dynamic buffer would reserve its first read's room on the heap for every idle connection.
    std::array<char, 256> chunk;
    std::string message;
    for (;;) {
      auto [ec, n] = co_await ws.async_read_some(asio::buffer(chunk), self->read_token());
      if (ec == websocket::error::message_too_big) {
        self->closed_by_server(close_codes::kTooBig);  // Beast sent the 1009 close frame
      }
      if (ec) break;
      if (!ws.got_text()) {
        self->close(close_codes::kUnsupportedData, "binary frames are not supported");
        continue;  // read on (and discard) until the client answers the close
      }
      message.append(chunk.data(), n);
      if (!ws.is_message_done()) continue;
      // Beast checks UTF-8 as bytes arrive, but when a text message ends with an empty
      // continuation frame it skips the check that the last character is complete (Boost 1.81,
      // websocket/impl/read.hpp): "caf\xC3" then an empty final frame would pass. Check it whole.
      if (!domain::is_valid_utf8(message)) {
        self->close(close_codes::kInvalidPayload, "text messages must be UTF-8");
        message.clear();
        continue;  // read on (and discard) until the client answers the close
      }
      if (session.on_message) session.on_message(sink, message);
      message.clear();
      if (message.capacity() > 1024) std::string().swap(message);
    }
  } catch (const std::exception& e) {
    log::error("websocket session failed", {{"error", e.what()}});
  }
  const int peer =
      ws.reason().code != websocket::close_code::none ? ws.reason().code : close_codes::kAbnormal;
  const int code = self->end(peer);
  self->poke();
  if (session.on_close) session.on_close(code);
}

}  // namespace todo::http::detail

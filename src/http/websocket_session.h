// Internal to src/http (server.cpp and websocket_session.cpp): runs one accepted WebSocket on the
// connection's stream. Not for services: they see websocket.h only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "http/websocket.h"

namespace todo::http::detail {

struct WebSocketLimits {
  std::chrono::seconds ping_interval{30};  // a ping after this long without traffic
  std::chrono::seconds idle_timeout{60};   // closed when nothing (not even a pong) arrives
  std::size_t message_limit = 64 * 1024;   // bytes of one incoming message
  std::size_t send_queue_limit = 256;      // queued outgoing messages; a slower client is closed
  std::size_t send_queue_bytes = 1024 * 1024;  // bytes of queued outgoing messages, likewise
  std::chrono::seconds close_timeout{2};  // an overflowed client that takes no close frame is cut
};

// Accepts the upgrade and serves the session until it ends. Never throws. `on_accepted` gets the
// session's sink right after the handshake (the server keeps it to close with 1001 on shutdown).
boost::asio::awaitable<void> run_websocket(
    boost::beast::tcp_stream stream,
    boost::beast::http::request<boost::beast::http::string_body> upgrade, WebSocketSession session,
    WebSocketLimits limits, std::function<void(std::shared_ptr<WebSocketSink>)> on_accepted);

}  // namespace todo::http::detail

// Internal to src/http (server.cpp and websocket_session.cpp): runs one accepted WebSocket on the
// connection's stream. Not for services: they see websocket.h only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/rate_policy.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "http/websocket.h"

namespace todo::http::detail {

// A connection's stream: over an accepted TCP socket in production, over one end of a
// socketpair(2) in tests and fuzz targets (Server::serve_socket); the same code runs on both.
using ConnectionStream =
    boost::beast::basic_stream<boost::asio::generic::stream_protocol, boost::asio::any_io_executor,
                               boost::beast::unlimited_rate_policy>;

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
    ConnectionStream stream, boost::beast::http::request<boost::beast::http::string_body> upgrade,
    WebSocketSession session, WebSocketLimits limits,
    std::function<void(std::shared_ptr<WebSocketSink>)> on_accepted);

}  // namespace todo::http::detail

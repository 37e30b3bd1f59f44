// WebSocket routes as services see them: no Asio, no Beast. A handler gets the upgrade request and
// either refuses it with an ordinary Response (401 before the handshake) or accepts it with
// callbacks; the session gives them a sink that is safe to use from any thread.
#pragma once

#include "http/message.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace todo::http {

// One open WebSocket, as a service holds it. Every member is safe from any thread; calls after
// the session ended do nothing.
class WebSocketSink {
 public:
  virtual ~WebSocketSink() = default;
  // Queues a text message. A client too slow to keep its bounded queue from overflowing is closed
  // (1008 policy violation) instead of making the sender wait.
  virtual void send(std::string text) = 0;
  virtual void close(int code, std::string reason) = 0;
};

// What an accepted upgrade does. Callbacks run on the session's I/O thread: they must not block.
struct WebSocketSession {
  std::function<void(std::shared_ptr<WebSocketSink>)> on_open;  // after the handshake
  std::function<void(std::shared_ptr<WebSocketSink>, std::string_view)> on_message;  // text
  std::function<void(int code)> on_close;  // once, however the session ended (1006: abnormally)
};

// Refuse (any Response, e.g. a 401 problem) or accept.
using WebSocketHandler = std::function<std::variant<Response, WebSocketSession>(Request&)>;

}  // namespace todo::http

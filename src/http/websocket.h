// WebSocket routes as services see them: no Asio, no Beast. A handler gets the upgrade request and
// either refuses it with an ordinary Response (a 401/403/429/503 problem before the handshake) or
// accepts it with callbacks; the session gives them a sink that is safe to use from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "http/message.h"

namespace todo::http {

// Close codes the transport itself uses (RFC 6455 §7.4 and our 4xxx range; docs/api/websocket.md).
namespace close_codes {
inline constexpr int kNormal = 1000;
inline constexpr int kGoingAway = 1001;        // the server shuts down
inline constexpr int kUnsupportedData = 1003;  // a binary frame
inline constexpr int kAbnormal = 1006;  // no close frame: the connection dropped or timed out
inline constexpr int kInvalidPayload = 1007;  // a text message that is not UTF-8
inline constexpr int kPolicy = 1008;
inline constexpr int kTooBig = 1009;        // an incoming message over the limit
inline constexpr int kSlowConsumer = 4408;  // the bounded send queue overflowed
}  // namespace close_codes

// One open WebSocket, as a service holds it. Every member is safe from any thread; calls after
// the session ended do nothing.
class WebSocketSink {
 public:
  virtual ~WebSocketSink() = default;
  // Queues a text message. A client too slow to keep its bounded queue (frames and bytes) from
  // overflowing is closed with 4408 instead of making the sender wait; its queue is dropped.
  virtual void send(std::string text) = 0;
  virtual void close(int code, std::string reason) = 0;
};

// What an accepted upgrade does. Callbacks run on the session's I/O thread: they must not block.
struct WebSocketSession {
  std::string subprotocol;  // echoed in Sec-WebSocket-Protocol when not empty
  std::function<void(std::shared_ptr<WebSocketSink>)> on_open;  // after the handshake
  std::function<void(std::shared_ptr<WebSocketSink>, std::string_view)> on_message;  // text
  // Once, however the session ended: the code the server closed with (close(), 4408 overflow,
  // 1009 too big, 1003 binary, 1001 shutdown), else the peer's code, else 1006.
  std::function<void(int code)> on_close;
};

// Refuse (any Response, e.g. a 401 problem) or accept.
using WebSocketHandler = std::function<std::variant<Response, WebSocketSession>(Request&)>;

}  // namespace todo::http

// The WebSocket frame reader: a client completes a valid upgrade handshake on a route registered
// with Router::add_websocket (the real server and session code, over Server::serve_socket), then
// sends the input as its frames (masked or not, fragmented, control frames, close codes, any
// length, any payload) and closes its sending side. The route echoes text messages, sends
// "hello" on open and closes (4000) when asked with the text "close".
// Properties: nothing crashes, leaks or hangs; the session ends and leaves no work behind, with
// exactly one on_close carrying a valid code; a message handed to the route is valid UTF-8 and
// within the message limit; the server never answers the handshake with anything but 101.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http_support.h"

namespace {

using namespace todo;

constexpr std::size_t kMessageLimit = 4096;

constexpr std::string_view kHandshake =
    "GET /ws/echo?token=good HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

http::ServerOptions options() {
  http::ServerOptions o;
  o.io_threads = 1;
  o.read_threads = o.write_threads = o.cpu_threads = 1;
  o.websocket_message_limit = kMessageLimit;
  o.websocket_send_queue_limit = 16;  // an echo of many small frames can overflow it
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet_logs();
  static auto* metrics = new http::Metrics;
  static auto* server = new http::Server(options(), fuzz::router(), *metrics);
  {
    fuzz::Connection connection(*server);
    connection.write(kHandshake);
    // A client sends frames only once the server accepted (RFC 6455 §4.1).
    FUZZ_CHECK(connection.read_until("\r\n\r\n"));
    FUZZ_CHECK(connection.received().starts_with("HTTP/1.1 101 "));
    connection.write(fuzz::as_text(data, size));
    connection.finish();
  }
  const auto& record = fuzz::websocket_record();
  FUZZ_CHECK(record.largest_message <= kMessageLimit);
  fuzz::check_websocket_sessions_ended();
  fuzz::check_metrics(*metrics);
  return 0;
}

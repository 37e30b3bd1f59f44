// The HTTP request path: the input is what a client sends on one connection of a real
// http::Server (Server::serve_socket runs the code of every accepted connection: caps, the bounded
// parser, header/body/trailer limits, obs-fold, Expect: 100-continue, the router, problem
// responses, the WebSocket upgrade), then it closes its sending side. Every input goes to two
// servers: small limits (edges reached fast), and a header limit above what one Beast field can
// hold, so the parser's own exception (issue 10: a trailer value of 65,535 bytes) is reached.
// Properties: nothing crashes, leaks or hangs; the connection ends and leaves no work behind; the
// server sends HTTP/1.1 responses only, never a 500, and no connection ends by an exception; every
// problem+json body is a UTF-8 JSON object whose status is the response's.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/text.h"
#include "fuzz_support.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http_support.h"

namespace {

using namespace todo;
namespace bhttp = boost::beast::http;

http::ServerOptions small_limits() {
  http::ServerOptions options;
  options.io_threads = 1;
  options.read_threads = options.write_threads = options.cpu_threads = 1;
  options.header_limit = 1024;
  options.body_limit = 4096;
  options.websocket_message_limit = 1024;
  options.websocket_send_queue_limit = 8;
  return options;
}

// Beast holds a field value of at most 65,535 bytes; above that its parser throws. A body budget
// below the body limit answers 503 for a large Content-Length.
http::ServerOptions large_headers() {
  http::ServerOptions options;
  options.io_threads = 1;
  options.read_threads = options.write_threads = options.cpu_threads = 1;
  options.header_limit = 72 * 1024;
  options.max_body_bytes_in_flight = 32 * 1024;
  return options;
}

struct Instance {
  explicit Instance(http::ServerOptions options)
      : server(std::move(options), fuzz::router(), metrics) {}
  http::Metrics metrics;
  http::Server server;
};

bool contains_head(std::string_view input) {
  for (std::size_t i = 0; i + 4 <= input.size(); ++i) {
    if ((input[i] | 0x20) == 'h' && (input[i + 1] | 0x20) == 'e' && (input[i + 2] | 0x20) == 'a' &&
        (input[i + 3] | 0x20) == 'd') {
      return true;
    }
  }
  return false;
}

void check_problem(const bhttp::response<bhttp::string_body>& response) {
  const std::string& body = response.body();
  FUZZ_CHECK(domain::is_valid_utf8(body));
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(body, ec);
  FUZZ_CHECK(!ec && value.is_object());
  const auto* status = value.as_object().if_contains("status");
  FUZZ_CHECK(status != nullptr && status->is_int64());
  FUZZ_CHECK(status->as_int64() == static_cast<std::int64_t>(response.result_int()));
  const auto* type = value.as_object().if_contains("type");
  FUZZ_CHECK(type != nullptr && type->is_string());
  if (const auto* instance = value.as_object().if_contains("instance")) {
    FUZZ_CHECK(instance->is_string());
  }
}

// The answers, one after the other. A response to HEAD announces a body it does not carry, so
// when the input may hold one only the first status line is checked.
void check_responses(std::string_view out, bool may_hold_head) {
  if (out.empty()) return;  // closed without an answer (e.g. the client sent nothing)
  FUZZ_CHECK(out.starts_with("HTTP/1.1 "));
  if (may_hold_head) return;
  while (!out.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(boost::none);
    parser.header_limit(64 * 1024);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const std::size_t n = parser.put(boost::asio::buffer(out.substr(used)), ec);
      used += n;
      // The parser was given every byte left: needing more means a truncated answer.
      if (ec == bhttp::error::need_more && n > 0) continue;
      FUZZ_CHECK(!ec);  // every answer is complete and well-formed
      if (n == 0) break;
    }
    FUZZ_CHECK(parser.is_done());
    out.remove_prefix(used);
    const auto& response = parser.get();
    FUZZ_CHECK(response.version() == 11);
    FUZZ_CHECK(response.result_int() != 500);
    if (response.result_int() == 101) return;  // WebSocket frames follow
    if (response[bhttp::field::content_type] == "application/problem+json") check_problem(response);
  }
}

void exchange(Instance& instance, std::string_view input) {
  std::string received;
  {
    fuzz::Connection connection(instance.server);
    connection.write(input);
    received = connection.finish();
  }
  check_responses(received, contains_head(input));
  fuzz::check_metrics(instance.metrics);
  fuzz::check_websocket_sessions_ended();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet_logs();
  // Built once and never destroyed: their pools' threads outlive every input.
  static auto* small = new Instance(small_limits());
  static auto* large = new Instance(large_headers());
  const std::string_view input = fuzz::as_text(data, size);
  exchange(*small, input);
  exchange(*large, input);
  return 0;
}

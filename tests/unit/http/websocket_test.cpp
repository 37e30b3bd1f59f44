// WebSocket routes end to end: http::Server on port 0 with an echo route, driven by a Beast
// WebSocket client — echo, a push from another thread, close, a refused upgrade, a slow client, a
// protocol error in the middle of the server's close.
#include "http/problem.h"
#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace todo::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;

struct Echo {
  std::mutex mutex;
  std::shared_ptr<WebSocketSink> sink;
  std::atomic<int> closed_code{0};
  std::shared_ptr<WebSocketSink> current() {
    std::lock_guard lock(mutex);
    return sink;
  }
};

template <class Condition>
bool eventually(Condition condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add_websocket("/ws/echo", [this](Request& request) -> std::variant<Response, WebSocketSession> {
      if (request.query_param("token") != std::optional<std::string_view>("ok")) {
        return problem_response(
            domain::make_error(domain::ErrorCode::kTokenMissing, "A token is required."),
            request.path);
      }
      WebSocketSession session;
      session.on_open = [this](std::shared_ptr<WebSocketSink> sink) {
        std::lock_guard lock(echo.mutex);
        echo.sink = std::move(sink);
      };
      session.on_message = [](std::shared_ptr<WebSocketSink> sink, std::string_view text) {
        sink->send("echo: " + std::string(text));
      };
      session.on_close = [this](int code) { echo.closed_code = code; };
      return session;
    });
    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.io_threads = 1;
    options.shutdown_grace = std::chrono::seconds(1);
    options.websocket_ping_interval = std::chrono::seconds(1);
    options.websocket_send_queue_limit = 4;
    server = std::make_unique<Server>(options, router, metrics);
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    server->stop();
    thread.join();
  }

  websocket::stream<tcp::socket> connect(std::string_view target) {
    websocket::stream<tcp::socket> ws(client_io);
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
    ws.handshake("127.0.0.1", target);
    return ws;
  }

  Router router;
  Metrics metrics;
  Echo echo;
  std::unique_ptr<Server> server;
  std::thread thread;
  asio::io_context client_io;
};

std::string read_text(websocket::stream<tcp::socket>& ws) {
  beast::flat_buffer buffer;
  ws.read(buffer);
  return beast::buffers_to_string(buffer.data());
}

TEST_F(WebSocketTest, EchoesPushesFromAnotherThreadAndCloses) {
  auto ws = connect("/ws/echo?token=ok");
  ws.write(asio::buffer(std::string("hello")));
  EXPECT_EQ(read_text(ws), "echo: hello");

  ASSERT_TRUE(eventually([&] { return echo.current() != nullptr; }));
  std::thread pusher([&] { echo.current()->send("pushed"); });
  pusher.join();
  EXPECT_EQ(read_text(ws), "pushed");

  ws.close(websocket::close_code::normal);
  ASSERT_TRUE(eventually([&] { return echo.closed_code.load() != 0; }));
  EXPECT_EQ(echo.closed_code.load(), 1000);
}

TEST_F(WebSocketTest, ServerInitiatedCloseReachesTheClient) {
  auto ws = connect("/ws/echo?token=ok");
  ASSERT_TRUE(eventually([&] { return echo.current() != nullptr; }));
  echo.current()->close(4000, "bye");
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  ws.read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws.reason().code, 4000);
}

TEST_F(WebSocketTest, RefusedUpgradeIsAnOrdinaryResponse) {
  websocket::stream<tcp::socket> ws(client_io);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
  websocket::response_type response;
  boost::system::error_code ec;
  ws.handshake(response, "127.0.0.1", "/ws/echo?token=bad", ec);
  EXPECT_EQ(ec, websocket::error::upgrade_declined);
  EXPECT_EQ(response.result_int(), 401);
  EXPECT_EQ(response[beast::http::field::content_type], "application/problem+json");
}

TEST_F(WebSocketTest, ASlowClientIsClosedWhenItsQueueOverflows) {
  auto ws = connect("/ws/echo?token=ok");
  ASSERT_TRUE(eventually([&] { return echo.current() != nullptr; }));
  auto sink = echo.current();
  std::string big(256 * 1024, 'x');
  // The client reads nothing: socket buffers fill, then the bounded queue overflows.
  std::thread pusher([&] {
    for (int i = 0; i < 200 && echo.closed_code.load() == 0; ++i) sink->send(big);
  });
  pusher.join();
  EXPECT_TRUE(eventually([&] { return echo.closed_code.load() != 0; }));
}

// A binary frame makes the server close (1003) while the reader goes on; the frames behind it end
// in an unmasked one, a protocol error the reader meets while the close waits for the read side.
// Beast 1.81 suspends the two on each other there, off the socket; the session must still end
// (within the close timeout) with its on_close, instead of holding the connection for ever.
TEST_F(WebSocketTest, AProtocolErrorWhileTheServerClosesStillEndsTheSession) {
  auto ws = connect("/ws/echo?token=ok");
  ASSERT_TRUE(eventually([&] { return echo.current() != nullptr; }));
  auto masked = [](char opcode, std::string_view payload) {
    std::string frame{static_cast<char>(0x80 | opcode), static_cast<char>(0x80 | payload.size())};
    frame.append(4, '\0');  // a zero masking key leaves the payload as it is
    frame.append(payload);
    return frame;
  };
  const std::string bytes = masked(0x2, "binary") + masked(0x1, "m7") + masked(0x1, "m8") +
                            std::string("\x00\x00", 2);  // unmasked continuation: protocol error
  asio::write(ws.next_layer(), asio::buffer(bytes));
  EXPECT_TRUE(eventually([&] { return echo.closed_code.load() != 0; }));
  EXPECT_EQ(echo.closed_code.load(), 1003);
}

// Beast 1.81 skips its end-of-message UTF-8 check when a text message ends with an empty final
// frame, so "caf\xC3" would reach the handler. The server checks the whole message itself: the
// broken one is closed with 1007 and never handled, a valid one split the same way is echoed.
TEST_F(WebSocketTest, ATextMessageEndingInAnIncompleteCharacterIsClosedWith1007) {
  auto frame = [](char first_byte, std::string_view payload) {
    std::string bytes{first_byte, static_cast<char>(0x80 | payload.size())};
    bytes.append(4, '\0');  // a zero masking key leaves the payload as it is
    bytes.append(payload);
    return bytes;
  };
  const char kTextNotFinal = 0x01;
  const char kContinuationFinal = static_cast<char>(0x80);

  auto ws = connect("/ws/echo?token=ok");
  const std::string valid = frame(kTextNotFinal, "caf\xC3\xA9") + frame(kContinuationFinal, "");
  asio::write(ws.next_layer(), asio::buffer(valid));
  EXPECT_EQ(read_text(ws), "echo: caf\xC3\xA9");

  const std::string broken = frame(kTextNotFinal, "caf\xC3") + frame(kContinuationFinal, "");
  asio::write(ws.next_layer(), asio::buffer(broken));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  ws.read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(ws.reason().code, close_codes::kInvalidPayload);
  EXPECT_EQ(buffer.size(), 0u) << "the broken message was handled";
  ASSERT_TRUE(eventually([&] { return echo.closed_code.load() != 0; }));
}

}  // namespace
}  // namespace todo::http

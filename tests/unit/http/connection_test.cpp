// The connection code of http::Server over one end of a socket pair (Server::serve_socket), driven
// on the test's thread (Server::poll): what any accepted connection does, without a TCP port.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>
#include <string>
#include <string_view>
#include <variant>

#include "domain/error.h"
#include "domain/text.h"
#include "http/server.h"

namespace todo::http {
namespace {

// Sends `request`, closes the sending side and returns everything the server answered before it
// closed the connection.
std::string send_and_read(Server& server, std::string_view request) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  EXPECT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  server.serve_socket(fds[1], "192.0.2.1");
  EXPECT_EQ(::send(fds[0], request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  ::shutdown(fds[0], SHUT_WR);
  std::string received;
  bool eof = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((server.poll() || !eof) && std::chrono::steady_clock::now() < deadline) {
    char chunk[4096];
    ssize_t n = ::recv(fds[0], chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) received.append(chunk, static_cast<std::size_t>(n));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) eof = true;
  }
  EXPECT_TRUE(eof) << "the server did not close the connection";
  ::close(fds[0]);
  return received;
}

class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionTest() {
    router.add(Method::kGet, "/health", Executor::kInline, [](Request&) {
      Response response;
      response.body = "ok";
      return response;
    });
    router.add(Method::kGet, "/whoami", Executor::kInline, [](Request& request) {
      Response response;
      response.body = "client=" + request.client_address;
      return response;
    });
  }
  std::unique_ptr<Server> make_server(ServerOptions options) {
    options.io_threads = 1;
    options.read_threads = options.write_threads = options.cpu_threads = 1;
    return std::make_unique<Server>(options, router, metrics);
  }
  Router router;
  Metrics metrics;
};

TEST_F(ConnectionTest, AnswersPipelinedRequestsAndClosesAtTheEnd) {
  auto server = make_server({});
  const std::string out = send_and_read(*server,
                                        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                                        "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(out.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos) << out;
}

// The handlers see the forwarded client only when the peer (192.0.2.1 in send_and_read) is a
// trusted proxy (ADR 0022).
TEST_F(ConnectionTest, TheClientAddressComesFromXForwardedForOnlyThroughATrustedProxy) {
  const std::string request =
      "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.4, 192.0.2.9\r\n\r\n";
  auto untrusted = make_server({});
  EXPECT_NE(send_and_read(*untrusted, request).find("client=192.0.2.1"), std::string::npos);

  ServerOptions options;
  options.trusted_proxies = std::get<TrustedProxies>(TrustedProxies::parse("192.0.2.0/24"));
  auto behind_proxy = make_server(options);
  EXPECT_NE(send_and_read(*behind_proxy, request).find("client=198.51.100.4"), std::string::npos);
  const std::string garbage =
      "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.4, nonsense\r\n\r\n";
  EXPECT_NE(send_and_read(*behind_proxy, garbage).find("client=192.0.2.1"), std::string::npos);
}

// Found by the http_request fuzz target: the first read of a request asked the buffer for 4 KiB,
// more than a header limit below 4 KiB lets it hold, and Beast threw out of the connection.
TEST_F(ConnectionTest, AHeaderLimitBelowTheFirstReadStillServes) {
  ServerOptions options;
  options.header_limit = 1024;
  auto server = make_server(options);
  const std::string out = send_and_read(*server, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_EQ(metrics.render().find("reason=\"exception\""), std::string::npos) << metrics.render();
  const std::string refused = send_and_read(
      *server, "GET /health HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 431 ")) << refused;
}

// Found by the http_request fuzz target: the 404's detail quoted the percent-decoded path, so
// "%C3%28" put raw invalid UTF-8 into the JSON body.
TEST_F(ConnectionTest, ANotFoundProblemIsValidUtf8WhateverThePathDecodesTo) {
  auto server = make_server({});
  const std::string out = send_and_read(*server, "GET /nowhere/%C3%28 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(out.starts_with("HTTP/1.1 404 ")) << out;
  const std::string body = out.substr(out.find("\r\n\r\n") + 4);
  EXPECT_TRUE(domain::is_valid_utf8(body)) << body;
  EXPECT_NE(body.find("/nowhere/%C3("), std::string::npos) << body;
}

// ---- asynchronous routes ---------------------------------------------------------------------

// A client on one end of a socket pair whose request was sent whole.
struct Client {
  int fd = -1;
  std::string received;
  bool eof = false;
  ~Client() {
    if (fd >= 0) ::close(fd);
  }
};

std::unique_ptr<Client> connect(Server& server, std::string_view request) {
  auto client = std::make_unique<Client>();
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  EXPECT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  client->fd = fds[0];
  server.serve_socket(fds[1], "192.0.2.1");
  EXPECT_EQ(::send(fds[0], request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  ::shutdown(fds[0], SHUT_WR);
  return client;
}

// Runs the server on this thread and reads every client until `done` holds (or 20 s passed).
template <class Done>
bool pump(Server& server, const std::vector<std::unique_ptr<Client>>& clients, Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    server.poll();
    for (const auto& c : clients) {
      char chunk[4096];
      ssize_t n = ::recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) c->received.append(chunk, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) c->eof = true;
    }
    if (done()) return true;
  }
  return false;
}

class AsyncRouteTest : public ConnectionTest {
 protected:
  AsyncRouteTest() {
    // Keeps its Reply: the test answers it later, from a thread of its own.
    router.add_async(Method::kPost, "/later", Executor::kDatabaseWrite,
                     [this](Request&, Reply reply) {
                       std::lock_guard lock(mutex);
                       waiting.push_back(std::move(reply));
                     });
    router.add_async(Method::kPost, "/now", Executor::kDatabaseWrite, [](Request&, Reply reply) {
      Response response;
      response.status = 202;
      response.body = "now";
      reply.send(std::move(response));
    });
    router.add_async(Method::kPost, "/step-throws", Executor::kDatabaseWrite,
                     [](Request&, Reply reply) {
                       reply.post([] { throw std::runtime_error("the step failed"); });
                     });
    router.add_async(Method::kPost, "/make-refuses", Executor::kDatabaseWrite,
                     [](Request&, Reply reply) {
                       reply([]() -> Response {
                         throw domain::ErrorException(domain::make_error(
                             domain::ErrorCode::kTaskNotFound, "No such task."));
                       });
                     });
    router.add_async(Method::kPost, "/dropped", Executor::kDatabaseWrite,
                     [](Request&, Reply) {});
    // Started on the I/O thread; its step goes on on the route's pool.
    router.add_async(
        Method::kPost, "/inline", Executor::kDatabaseRead,
        [this](Request&, Reply reply) {
          handler_thread = std::this_thread::get_id();
          reply.post([this, reply] {
            step_thread = std::this_thread::get_id();
            Response response;
            response.body = "inline";
            reply.send(std::move(response));
          });
        },
        AsyncStart::kInline);
    router.add_async(
        Method::kPost, "/inline-refuses", Executor::kDatabaseRead,
        [](Request&, Reply) {
          throw domain::ErrorException(
              domain::make_error(domain::ErrorCode::kTaskNotFound, "No such task."));
        },
        AsyncStart::kInline);
  }
  std::size_t waiting_count() {
    std::lock_guard lock(mutex);
    return waiting.size();
  }
  std::mutex mutex;
  std::vector<Reply> waiting;
  std::thread::id handler_thread;  // of /inline
  std::thread::id step_thread;
};

std::string post(std::string_view path) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
}

// With one write thread, three requests of an asynchronous route are all started before any is
// answered: a request waiting for its answer holds no thread. Answered from another thread, each
// gets its own response.
TEST_F(AsyncRouteTest, RequestsWaitingForTheirAnswerHoldNoPoolThread) {
  auto server = make_server({});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect(*server, post("/later")));
  ASSERT_TRUE(pump(*server, clients, [&] { return waiting_count() == 3; }));
  std::thread answering([this] {
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      waiting[i]([i] {
        Response response;
        response.body = "answer " + std::to_string(i);
        return response;
      });
    }
    waiting.clear();  // the replies are answered; dropping them now changes nothing
  });
  answering.join();
  ASSERT_TRUE(pump(*server, clients, [&] {
    for (const auto& c : clients) {
      if (!c->eof) return false;
    }
    return true;
  }));
  std::vector<std::string> bodies;
  for (const auto& c : clients) {
    EXPECT_TRUE(c->received.starts_with("HTTP/1.1 200 OK\r\n")) << c->received;
    bodies.push_back(c->received.substr(c->received.find("\r\n\r\n") + 4));
  }
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"answer 0", "answer 1", "answer 2"}));
}

TEST_F(AsyncRouteTest, AnAnswerGivenAtOnceIsSent) {
  auto server = make_server({});
  const std::string out = send_and_read(*server, post("/now"));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 202 Accepted\r\n")) << out;
  EXPECT_TRUE(out.ends_with("now")) << out;
}

// Errors are answered as a synchronous handler's would be: a domain error is its problem, any
// other exception a 500, and a request whose Reply was dropped unanswered a 500 too.
TEST_F(AsyncRouteTest, ErrorsAndDroppedRepliesAreAnsweredLikeAHandlersExceptions) {
  auto server = make_server({});
  const std::string refused = send_and_read(*server, post("/make-refuses"));
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 404 ")) << refused;
  EXPECT_NE(refused.find("No such task."), std::string::npos) << refused;
  for (std::string_view path : {"/step-throws", "/dropped"}) {
    const std::string out = send_and_read(*server, post(path));
    EXPECT_TRUE(out.starts_with("HTTP/1.1 500 ")) << path << ": " << out;
    EXPECT_NE(out.find("application/problem+json"), std::string::npos) << out;
  }
}

// AsyncStart::kInline: the handler runs on the I/O thread (here the test's own, which runs the
// server), its steps on the route's pool; a handler that throws there is answered as any.
TEST_F(AsyncRouteTest, AnInlineStartRunsTheHandlerOnTheIoThreadAndItsStepsOnThePool) {
  auto server = make_server({});
  const std::string out = send_and_read(*server, post("/inline"));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(out.ends_with("inline")) << out;
  EXPECT_EQ(handler_thread, std::this_thread::get_id());
  EXPECT_NE(step_thread, std::thread::id());
  EXPECT_NE(step_thread, std::this_thread::get_id());
  const std::string refused = send_and_read(*server, post("/inline-refuses"));
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 404 ")) << refused;
  EXPECT_NE(refused.find("No such task."), std::string::npos) << refused;
}

TEST(AsyncRoute, AnInlineAsynchronousRouteIsRefused) {
  Router router;
  EXPECT_THROW(router.add_async(Method::kPost, "/x", Executor::kInline, [](Request&, Reply) {}),
               std::invalid_argument);
}

}  // namespace
}  // namespace todo::http

// The HTTP/1.1 server (Boost.Beast, C++20 coroutines). Asio stays inside server.cpp.
#pragma once

#include "http/forwarded.h"
#include "http/metrics.h"
#include "http/router.h"

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.h"

namespace todo::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  unsigned short port = 8000;  // 0 picks a free port
  int io_threads = 0;          // 0 = one per core
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;  // request line and headers; trailers; one chunk line
  // Bytes of request bodies being received at once, over all connections; 503 beyond.
  std::size_t max_body_bytes_in_flight = 64 * 1024 * 1024;
  // Open connections, in total and from one client address; 503 beyond either.
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_client = 1000;
  std::chrono::seconds read_timeout{10};   // to receive one whole request once it started
  std::chrono::seconds idle_timeout{60};   // keep-alive connection without a request
  int read_threads = 4;    // as many as SQLite reader connections
  int write_threads = 32;  // mostly waiting for the group commit: enough to fill one
  int database_queue_limit = 1024;  // waiting requests beyond this (per pool) get 503 overloaded
  int cpu_threads = 2;
  int cpu_queue_limit = 64;
  std::vector<std::string> cors_origins;  // exact origins allowed; empty = same origin only
  // Peers whose X-Forwarded-For is believed (an ingress, a load balancer): the request's
  // client_address comes from the header when the TCP peer is one of them, and they are exempt
  // from max_connections_per_client. Empty: the peer is always the client.
  TrustedProxies trusted_proxies;
  std::chrono::seconds shutdown_grace{10};
  // WebSocket routes: a ping after this long without traffic, closed after twice as long
  // without an answer; the largest incoming message; queued outgoing messages (and their bytes)
  // per session, beyond which the client is closed with 4408. Shutdown closes sessions with 1001.
  std::chrono::seconds websocket_ping_interval{30};
  std::size_t websocket_message_limit = 64 * 1024;
  std::size_t websocket_send_queue_limit = 256;
  std::size_t websocket_send_queue_bytes = 1024 * 1024;
  // An exception a handler threw that is an expected condition after all, as its error (e.g. an
  // unreachable database → 503 unavailable); nullopt or unset → 500 internal-error. The wiring
  // names the exception types, so http depends on no backend.
  std::function<std::optional<domain::Error>(const std::exception&)> classify_exception;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::system_error when the address is taken.
  void listen();
  unsigned short port() const;  // the bound port, after listen()

  // Serves until stop() or SIGTERM/SIGINT, then stops accepting, finishes in-flight requests
  // (up to shutdown_grace) and returns.
  void run();
  void stop();  // thread-safe

  // For tests and fuzz targets: serves `fd`, one end of a connected stream socket pair
  // (socketpair(2)), with the code of every accepted connection (caps, parser, limits, router,
  // problem responses, WebSocket upgrade) as a connection from `client`. Takes ownership of fd;
  // needs neither listen() nor run(). Use with io_threads = 1.
  void serve_socket(int fd, std::string client);
  // Runs on the calling thread whatever I/O is ready, without waiting; false once no work is left
  // (every connection ended and nothing of theirs is pending), ready for the next serve_socket.
  bool poll();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace todo::http

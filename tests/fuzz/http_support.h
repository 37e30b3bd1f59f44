// What the HTTP fuzz targets share: a real http::Server serving one end of a socketpair(2)
// (Server::serve_socket, the code of every accepted connection), a client on the other end driven
// on the same thread, and a router with representative routes.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "domain/text.h"
#include "fuzz_support.h"
#include "http/json.h"
#include "http/metrics.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/server.h"
#include "log/log.h"

namespace todo::fuzz {

// One connection: the server end is served by `server`, this object is the client. Every call
// pumps the server (Server::poll) and both directions without blocking, so neither side can stall
// the other however much the server answers.
class Connection {
 public:
  explicit Connection(http::Server& server) : server_(server) {
    int fds[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    FUZZ_CHECK(::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
    fd_ = fds[0];
    server_.serve_socket(fds[1], "192.0.2.1");
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends all of `bytes` (unless the server stops reading and closes first).
  void write(std::string_view bytes) {
    pending_ += bytes;
    pump_until([this] { return pending_.empty() || write_closed_; });
  }

  // Pumps until what arrived contains `marker` or the server closed; whether it arrived.
  bool read_until(std::string_view marker) {
    pump_until([&] { return received_.find(marker) != std::string::npos || eof_; });
    return received_.find(marker) != std::string::npos;
  }

  // Ends the client's sending side and pumps until the server closed the connection and has no
  // work left at all (nothing of the connection outlives it); returns everything received.
  const std::string& finish() {
    pump_until([this] { return pending_.empty() || write_closed_; });
    ::shutdown(fd_, SHUT_WR);
    bool idle = false;
    pump_until([&] {
      idle = !server_.poll();
      return idle && eof_;
    });
    return received_;
  }

  const std::string& received() const { return received_; }

 private:
  template <class Done>
  void pump_until(Done done) {
    // The server's own timeouts are seconds; an input that needs more than this hangs it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      server_.poll();
      step();
      FUZZ_CHECK(std::chrono::steady_clock::now() < deadline);
    }
  }

  void step() {
    if (!pending_.empty() && !write_closed_) {
      ssize_t n = ::send(fd_, pending_.data(), pending_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        pending_.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        write_closed_ = true;  // the server closed its side (EPIPE, ECONNRESET)
      }
    }
    if (!eof_) {
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        received_.append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        eof_ = true;
      }
    }
  }

  http::Server& server_;
  int fd_ = -1;
  std::string pending_;
  std::string received_;
  bool write_closed_ = false;
  bool eof_ = false;
};

// No response was a 500 and no connection ended by an exception: both would be a bug whatever the
// client sent.
inline void check_metrics(const http::Metrics& metrics) {
  const std::string text = metrics.render();
  FUZZ_CHECK(text.find("status=\"500\"") == std::string::npos);
  FUZZ_CHECK(text.find("reason=\"exception\"") == std::string::npos);
  FUZZ_CHECK(text.find("reason=\"escaped_exception\"") == std::string::npos);
}

// What the WebSocket route saw; checked after every input.
struct WebSocketRecord {
  int accepted = 0;  // sessions the route's handler returned
  int opened = 0;
  int closed = 0;
  std::size_t largest_message = 0;
};

inline WebSocketRecord& websocket_record() {
  static WebSocketRecord record;
  return record;
}

// The routes: a JSON POST (database-write pool), a GET and a parameterised GET (read pool, 404
// for an unknown id), an inline DELETE answering 204, a CPU-pool POST, and a WebSocket echo route
// that wants ?token=good (else 401). Anything else is the router's 404 or 405.
inline const http::Router& router() {
  static const http::Router* routes = [] {
    auto* r = new http::Router;
    r->add(http::Method::kGet, "/health", http::Executor::kInline, [](http::Request&) {
      http::Response res;
      res.set_header("content-type", "text/plain");
      res.body = "ok";
      return res;
    });
    r->add(http::Method::kPost, "/api/items", http::Executor::kDatabaseWrite,
           [](http::Request& req) {
             auto object = http::parse_json_object(req);
             if (!object) return http::problem_response(object.error(), req.path);
             http::FieldReader fields(*object);
             auto title = fields.string("title", true);
             if (!fields.ok()) {
               auto error = domain::make_error(domain::ErrorCode::kValidation, "Invalid item.");
               error.fields = fields.take_errors();
               return http::problem_response(error, req.path);
             }
             return http::json_response(201, boost::json::object{{"id", "1"}, {"title", *title}});
           });
    r->add(http::Method::kGet, "/api/items", http::Executor::kDatabaseRead, [](http::Request& req) {
      boost::json::array items;
      for (auto tag : req.query_params("tag")) items.emplace_back(boost::json::string(tag));
      return http::json_response(200, boost::json::object{{"items", std::move(items)}});
    });
    r->add(http::Method::kGet, "/api/items/{id}", http::Executor::kDatabaseRead,
           [](http::Request& req) {
             if (req.path_param("id") != "1") {
               return http::problem_response(
                   domain::make_error(domain::ErrorCode::kTaskNotFound, "No such item."), req.path);
             }
             return http::json_response(200, boost::json::object{{"id", "1"}});
           });
    r->add(http::Method::kDelete, "/api/items/{id}", http::Executor::kInline, [](http::Request&) {
      http::Response res;
      res.status = 204;
      return res;
    });
    r->add(http::Method::kPost, "/api/hash", http::Executor::kCpuHeavy, [](http::Request& req) {
      return http::json_response(200, boost::json::object{{"length", req.body.size()}});
    });
    r->add_websocket(
        "/ws/echo", [](http::Request& req) -> std::variant<http::Response, http::WebSocketSession> {
          if (req.query_param("token") != "good") {
            return http::problem_response(
                domain::make_error(domain::ErrorCode::kTokenMissing, "A token is required."),
                req.path);
          }
          ++websocket_record().accepted;
          http::WebSocketSession session;
          session.on_open = [](std::shared_ptr<http::WebSocketSink> sink) {
            ++websocket_record().opened;
            sink->send(R"({"type":"hello"})");
          };
          session.on_message = [](std::shared_ptr<http::WebSocketSink> sink,
                                  std::string_view text) {
            auto& record = websocket_record();
            record.largest_message = std::max(record.largest_message, text.size());
            FUZZ_CHECK(domain::is_valid_utf8(text));
            if (text == "close") {
              sink->close(4000, "asked to");
            } else {
              sink->send(std::string(text));
            }
          };
          session.on_close = [](int code) {
            // 1006 when it ended without a close frame; else the client's code, which Beast takes
        // from 1000 to 65535 but for the reserved ones (RFC 6455 §7.4.2 defines up to 4999).
        FUZZ_CHECK(code >= 1000 && code <= 65535);
            ++websocket_record().closed;
          };
          return session;
        });
    return r;
  }();
  return *routes;
}

// Every session the route accepted ended with exactly one on_close.
inline void check_websocket_sessions_ended() {
  const auto& record = websocket_record();
  FUZZ_CHECK(record.closed == record.accepted);
  FUZZ_CHECK(record.opened <= record.accepted);
}

inline void quiet_logs() {
  static const bool once = [] {
    log::set_level(log::Level::kError);
    return true;
  }();
  (void)once;
}

}  // namespace todo::fuzz

// Routes requests by method and path pattern ("/api/tasks/{id}") to handlers. Wiring is explicit:
// app/ adds every route in one place. Patterns are compiled into a tree of segments when added, so
// a request is matched by walking its path once, without allocating and without trying every route.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/websocket.h"

namespace todo::http {

// Where a handler runs. Handlers are plain synchronous functions; the server moves them off the
// I/O threads when they block.
enum class Executor {
  kInline,         // cheap, never blocks: runs on the I/O thread (health, metrics)
  kDatabaseRead,   // reads the database: a pool about as large as the reader connections
  kDatabaseWrite,  // writes: a larger pool, so concurrent writes can share one group commit
  kCpuHeavy,       // password hashing: small bounded pool of its own
};

using RouteHandler = std::function<Response(Request&)>;

// How an asynchronous route answers later. Its handler starts work that finishes on another
// thread — a queued database write (Database::write_async) — and returns; whoever finishes it
// calls the Reply, from any thread (the database's writer thread included: a Reply only posts).
// Steps run on the route's pool, where they may block; an exception a step throws is answered
// as a handler's would be (a problem, or a 500). Copies share one request: the first response
// given is the one sent, and a request whose every copy was dropped unanswered gets a 500.
class Reply {
 public:
  // What the server implements for one request.
  class Target {
   public:
    virtual ~Target() = default;
    // Runs `step` on the route's pool; if it throws, the request is answered with that error.
    virtual void run(std::function<void()> step) = 0;
    // Answers the request (the first call wins): `error`, when set, as a handler's exception.
    virtual void complete(std::exception_ptr error, Response response) = 0;
  };

  explicit Reply(std::shared_ptr<Target> target) : target_(std::move(target)) {}

  // Answers with what `make` returns, run on the route's pool.
  void operator()(std::function<Response()> make) const {
    target_->run([target = target_, make = std::move(make)] { target->complete({}, make()); });
  }
  // Goes on with `step` on the route's pool (which answers through this Reply in the end).
  void post(std::function<void()> step) const { target_->run(std::move(step)); }
  // Answers with a response made already.
  void send(Response response) const { target_->complete({}, std::move(response)); }

 private:
  std::shared_ptr<Target> target_;
};

// Starts the work of a request and answers through the Reply (see above); it runs on the pool of
// its executor, which must not be kInline.
using AsyncRouteHandler = std::function<void(Request&, Reply)>;

// Where an asynchronous route's handler runs (its Reply's steps always run on the route's pool).
enum class AsyncStart {
  kOnPool,  // on the route's pool: it may block
  // On the I/O thread, where the request was read: for a handler that never blocks (it checks the
  // request and queues work that answers from another thread), so the request costs no hop to
  // the pool and back.
  kInline,
};

struct Route {
  Method method;
  std::string pattern;
  Executor executor;
  RouteHandler handler;             // empty for an asynchronous route
  AsyncRouteHandler async_handler;  // set for an asynchronous route
  AsyncStart start = AsyncStart::kOnPool;
};

struct RouteMatch {
  const Route* route = nullptr;  // nullptr: see allowed
  Params path_params;
  std::vector<Method> allowed;  // non-empty when the path exists under other methods (405)
};

struct WebSocketRoute {
  std::string pattern;
  WebSocketHandler handler;  // runs on the I/O thread: must not block
};

class Router {
 public:
  void add(Method method, std::string pattern, Executor executor, RouteHandler handler);
  // An asynchronous route (see Reply). Throws std::invalid_argument for kInline.
  void add_async(Method method, std::string pattern, Executor executor, AsyncRouteHandler handler,
                 AsyncStart start = AsyncStart::kOnPool);
  // does not ask for an upgrade gets 426.
  void add_websocket(std::string pattern, WebSocketHandler handler);
  // The route of GET and HEAD requests no other route matches (the web app's files and client
  // routes); without one, such requests get 404. Its pattern (for metrics and logs) is
  // "unmatched" unless the handler names what it served in request.route.
  void set_fallback(Executor executor, RouteHandler handler);
  RouteMatch match(Method method, std::string_view path) const;
  // The WebSocket route of this path, with its path parameters; nullptr when none.
  const WebSocketRoute* match_websocket(std::string_view path, Params& path_params) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  // One segment position of the patterns added so far: the literal segments that continue from
  // here, the placeholder that does, and the patterns (by index) that end here.
  struct Node {
    std::vector<std::pair<std::string, std::uint32_t>> literals;  // segment text → node index
    std::uint32_t placeholder = kNoNode;
    std::vector<std::uint32_t> ends;  // indices of the patterns ending here, in the order added
  };
  static constexpr std::uint32_t kNoNode = 0xffffffffu;
  // A compiled pattern: where its placeholders are and how many literal segments it has.
  struct Compiled {
    std::vector<std::pair<std::size_t, std::string>> placeholders;  // segment index → name
    int literals = 0;
  };
  // The patterns of one kind (ordinary or WebSocket) as a tree: node 0 is the root.
  struct Tree {
    std::vector<Node> nodes{Node{}};
    std::vector<Compiled> compiled;  // parallel to the routes of this kind
    void add(std::string_view pattern);
  };
  static Params params_of(const Compiled& compiled, std::string_view path);

  std::vector<Route> routes_;
  std::vector<WebSocketRoute> websocket_routes_;
  Tree tree_;            // of routes_
  Tree websocket_tree_;  // of websocket_routes_
  std::optional<Route> fallback_;
};

}  // namespace todo::http

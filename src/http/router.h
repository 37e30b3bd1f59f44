// Routes requests by method and path pattern ("/api/tasks/{id}") to handlers. Wiring is explicit:
// app/ adds every route in one place. Patterns are compiled into a tree of segments when added, so
// a request is matched by walking its path once, without allocating and without trying every route.
#pragma once

#include <cstdint>
#include <functional>
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

struct Route {
  Method method;
  std::string pattern;
  Executor executor;
  RouteHandler handler;
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

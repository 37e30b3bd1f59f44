// Pattern matching of paths: literal segments and {name} placeholders that match one non-empty
// segment. A path has at least one segment: "" and "/" are one empty segment, "/a/" is "a" and "".
#include "http/router.h"

#include <stdexcept>

#include <algorithm>
#include <array>

namespace todo::http {
namespace {

// The path without its leading '/': segments are then separated by '/'.
std::string_view segments_of(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

// Splits the first segment off `rest`; false when it was the last one.
bool next_segment(std::string_view& rest, std::string_view& segment) {
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    segment = rest;
    rest = {};
    return false;
  }
  segment = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  return true;
}

bool is_placeholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// The indices of the patterns a path matches. Few match any one path; more spill to the heap.
class Matches {
 public:
  void add(const std::vector<std::uint32_t>& indices) {
    for (std::uint32_t i : indices) {
      if (size_ < inline_.size()) {
        inline_[size_++] = i;
      } else {
        spilled_.push_back(i);
      }
    }
  }
  // In the order the patterns were added, which decides ties and the order of the Allow header.
  template <class Visit>
  void for_each_in_order(Visit&& visit) {
    std::vector<std::uint32_t> all;
    std::uint32_t* begin = inline_.data();
    std::uint32_t* end = begin + size_;
    if (!spilled_.empty()) {
      all.assign(begin, end);
      all.insert(all.end(), spilled_.begin(), spilled_.end());
      begin = all.data();
      end = begin + all.size();
    }
    std::sort(begin, end);
    for (auto* i = begin; i != end; ++i) visit(*i);
  }
  bool empty() const { return size_ == 0; }

 private:
  std::array<std::uint32_t, 16> inline_{};
  std::size_t size_ = 0;
  std::vector<std::uint32_t> spilled_;
};

}  // namespace

void Router::Tree::add(std::string_view pattern) {
  Compiled entry;
  std::uint32_t node = 0;
  std::string_view rest = segments_of(pattern);
  std::string_view segment;
  bool more = true;
  for (std::size_t index = 0; more; ++index) {
    more = next_segment(rest, segment);
    std::uint32_t next = kNoNode;
    if (is_placeholder(segment)) {
      entry.placeholders.emplace_back(index, std::string(segment.substr(1, segment.size() - 2)));
      next = nodes[node].placeholder;
      if (next == kNoNode) {
        next = static_cast<std::uint32_t>(nodes.size());
        nodes[node].placeholder = next;
        nodes.emplace_back();
      }
    } else {
      ++entry.literals;
      auto& literals = nodes[node].literals;
      auto found = std::find_if(literals.begin(), literals.end(),
                                [segment](const auto& l) { return l.first == segment; });
      if (found != literals.end()) {
        next = found->second;
      } else {
        next = static_cast<std::uint32_t>(nodes.size());
        literals.emplace_back(std::string(segment), next);
        nodes.emplace_back();
      }
    }
    node = next;
  }
  nodes[node].ends.push_back(static_cast<std::uint32_t>(compiled.size()));
  compiled.push_back(std::move(entry));
}

namespace {

// Walks every branch the path's segments follow: a literal child equal to the segment and, for a
// non-empty segment, the placeholder child. Patterns ending where the path ends are matches.
template <class Node>
void collect(const std::vector<Node>& nodes, std::uint32_t node, std::string_view rest,
             Matches& matches) {
  std::string_view segment;
  bool more = next_segment(rest, segment);
  const Node& here = nodes[node];
  auto follow = [&](std::uint32_t child) {
    if (more) {
      collect(nodes, child, rest, matches);
    } else {
      matches.add(nodes[child].ends);
    }
  };
  for (const auto& [literal, child] : here.literals) {
    if (literal == segment) {
      follow(child);
      break;
    }
  }
  if (here.placeholder != 0xffffffffu && !segment.empty()) follow(here.placeholder);
}

}  // namespace

Params Router::params_of(const Compiled& compiled, std::string_view path) {
  Params params;
  if (compiled.placeholders.empty()) return params;
  params.reserve(compiled.placeholders.size());
  std::string_view rest = segments_of(path);
  std::string_view segment;
  auto placeholder = compiled.placeholders.begin();
  bool more = true;
  for (std::size_t index = 0; more && placeholder != compiled.placeholders.end(); ++index) {
    more = next_segment(rest, segment);
    if (placeholder->first == index) {
      params.emplace_back(placeholder->second, std::string(segment));
      ++placeholder;
    }
  }
  return params;
}

void Router::add(Method method, std::string pattern, Executor executor, RouteHandler handler) {
  tree_.add(pattern);
  routes_.push_back(Route{method, std::move(pattern), executor, std::move(handler), {}});
}

void Router::add_async(Method method, std::string pattern, Executor executor,
                       AsyncRouteHandler handler, AsyncStart start) {
  if (executor == Executor::kInline) {
    throw std::invalid_argument("an asynchronous route runs on a pool: " + pattern);
  }
  tree_.add(pattern);
  routes_.push_back(Route{method, std::move(pattern), executor, {}, std::move(handler), start});
}

void Router::add_websocket(std::string pattern, WebSocketHandler handler) {
  websocket_tree_.add(pattern);
  websocket_routes_.push_back(WebSocketRoute{std::move(pattern), std::move(handler)});
}

// The first WebSocket route added that matches: these have no literal-over-placeholder rule.
const WebSocketRoute* Router::match_websocket(std::string_view path, Params& path_params) const {
  Matches matches;
  collect(websocket_tree_.nodes, 0, segments_of(path), matches);
  if (matches.empty()) return nullptr;
  std::uint32_t first = 0xffffffffu;
  matches.for_each_in_order([&first](std::uint32_t i) { first = std::min(first, i); });
  path_params = params_of(websocket_tree_.compiled[first], path);
  return &websocket_routes_[first];
}

void Router::set_fallback(Executor executor, RouteHandler handler) {
  fallback_ = Route{Method::kGet, "unmatched", executor, std::move(handler), {}};
}

RouteMatch Router::match(Method method, std::string_view path) const {
  RouteMatch result;
  Matches matches;
  collect(tree_.nodes, 0, segments_of(path), matches);
  // Literal routes win over placeholders: "/api/tasks/search" before "/api/tasks/{id}"; among
  // equals, the first added. The other methods of the path are collected for a 405.
  const Route* best = nullptr;
  std::uint32_t best_index = 0;
  int best_literals = -1;
  matches.for_each_in_order([&](std::uint32_t i) {
    const Route& r = routes_[i];
    if (r.method != method && !(method == Method::kHead && r.method == Method::kGet)) {
      if (std::find(result.allowed.begin(), result.allowed.end(), r.method) ==
          result.allowed.end()) {
        result.allowed.push_back(r.method);
      }
      return;
    }
    if (tree_.compiled[i].literals > best_literals) {
      best = &r;
      best_index = i;
      best_literals = tree_.compiled[i].literals;
    }
  });
  if (best) result.path_params = params_of(tree_.compiled[best_index], path);
  if (!best && result.allowed.empty() && fallback_ &&
      (method == Method::kGet || method == Method::kHead)) {
    best = &*fallback_;
  }
  result.route = best;
  if (best) result.allowed.clear();
  return result;
}

}  // namespace todo::http

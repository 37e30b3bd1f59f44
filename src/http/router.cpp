// Pattern matching of paths: literal segments and {name} placeholders that match one segment.
#include "http/router.h"

#include <algorithm>

namespace todo::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  if (!path.empty() && path.front() == '/') i = 1;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool match_pattern(std::string_view pattern, std::string_view path, Params& params) {
  auto want = split_path(pattern);
  auto got = split_path(path);
  if (want.size() != got.size()) return false;
  Params found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    std::string_view w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (got[i].empty()) return false;
      found.emplace_back(std::string(w.substr(1, w.size() - 2)), std::string(got[i]));
    } else if (w != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::add(Method method, std::string pattern, Executor executor, RouteHandler handler) {
  routes_.push_back(Route{method, std::move(pattern), executor, std::move(handler)});
}

void Router::add_websocket(std::string pattern, WebSocketHandler handler) {
  websocket_routes_.push_back(WebSocketRoute{std::move(pattern), std::move(handler)});
}

const WebSocketRoute* Router::match_websocket(std::string_view path, Params& path_params) const {
  for (const WebSocketRoute& r : websocket_routes_) {
    if (match_pattern(r.pattern, path, path_params)) return &r;
  }
  return nullptr;
}

void Router::set_fallback(Executor executor, RouteHandler handler) {
  fallback_ = Route{Method::kGet, "unmatched", executor, std::move(handler)};
}

RouteMatch Router::match(Method method, std::string_view path) const {
  RouteMatch result;
  // Literal routes win over placeholders: "/api/tasks/search" before "/api/tasks/{id}".
  const Route* best = nullptr;
  int best_literals = -1;
  for (const Route& r : routes_) {
    Params params;
    if (!match_pattern(r.pattern, path, params)) continue;
    if (r.method != method && !(method == Method::kHead && r.method == Method::kGet)) {
      if (std::find(result.allowed.begin(), result.allowed.end(), r.method) ==
          result.allowed.end()) {
        result.allowed.push_back(r.method);
      }
      continue;
    }
    int literals = static_cast<int>(split_path(r.pattern).size() - params.size());
    if (literals > best_literals) {
      best = &r;
      best_literals = literals;
      result.path_params = std::move(params);
    }
  }
  if (!best && result.allowed.empty() && fallback_ &&
      (method == Method::kGet || method == Method::kHead)) {
    best = &*fallback_;
  }
  result.route = best;
  if (best) result.allowed.clear();
  return result;
}

}  // namespace todo::http

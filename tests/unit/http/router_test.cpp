// Routing by method and pattern, 405 detection, literal segments winning over placeholders.
#include "http/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace todo::http {
namespace {

RouteHandler respond_with(int status) {
  return [status](Request&) {
    Response r;
    r.status = status;
    return r;
  };
}

TEST(Router, MatchesLiteralAndPlaceholderSegments) {
  Router router;
  router.add(Method::kGet, "/api/tasks/{id}", Executor::kDatabaseRead, respond_with(1));
  router.add(Method::kGet, "/api/tasks/search", Executor::kDatabaseRead, respond_with(2));
  auto m = router.match(Method::kGet, "/api/tasks/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/tasks/{id}");
  ASSERT_EQ(m.path_params.size(), 1u);
  EXPECT_EQ(m.path_params[0].first, "id");
  EXPECT_EQ(m.path_params[0].second, "abc");
  auto literal = router.match(Method::kGet, "/api/tasks/search");
  ASSERT_NE(literal.route, nullptr);
  EXPECT_EQ(literal.route->pattern, "/api/tasks/search");
}

TEST(Router, ReportsAllowedMethodsForKnownPath) {
  Router router;
  router.add(Method::kGet, "/api/me", Executor::kDatabaseRead, respond_with(200));
  router.add(Method::kPatch, "/api/me", Executor::kDatabaseRead, respond_with(200));
  auto m = router.match(Method::kDelete, "/api/me");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<Method>{Method::kGet, Method::kPatch}));
}

TEST(Router, UnknownPathHasNoMatchAndNoAllowedMethods) {
  Router router;
  router.add(Method::kGet, "/api/me", Executor::kDatabaseRead, respond_with(200));
  auto m = router.match(Method::kGet, "/api/you");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
  EXPECT_EQ(router.match(Method::kGet, "/api/me/extra").route, nullptr);
  EXPECT_EQ(router.match(Method::kGet, "/api/tasks/").route, nullptr);
}

TEST(Router, EmptyPlaceholderSegmentDoesNotMatch) {
  Router router;
  router.add(Method::kGet, "/api/tasks/{id}", Executor::kDatabaseRead, respond_with(200));
  EXPECT_EQ(router.match(Method::kGet, "/api/tasks/").route, nullptr);
}

TEST(Router, HeadIsServedByGet) {
  Router router;
  router.add(Method::kGet, "/health", Executor::kInline, respond_with(200));
  EXPECT_NE(router.match(Method::kHead, "/health").route, nullptr);
}

}  // namespace
}  // namespace todo::http

namespace todo::http {
namespace {

// The router before patterns were compiled: every pattern split and compared on each request.
// The compiled router must answer exactly as it did, for every path.
struct ReferenceRouter {
  struct Entry {
    Method method;
    std::string pattern;
  };
  std::vector<Entry> routes;
  std::vector<std::string> websocket;

  static std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t i = (!path.empty() && path.front() == '/') ? 1 : 0;
    while (i <= path.size()) {
      std::size_t j = path.find('/', i);
      if (j == std::string_view::npos) j = path.size();
      out.push_back(path.substr(i, j - i));
      i = j + 1;
    }
    return out;
  }
  static bool match(std::string_view pattern, std::string_view path, Params& params) {
    auto want = split(pattern);
    auto got = split(path);
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
  // The index of the matched route (-1: none), its parameters and the allowed methods.
  std::tuple<int, Params, std::vector<Method>> resolve(Method method, std::string_view path) const {
    int best = -1;
    int best_literals = -1;
    Params best_params;
    std::vector<Method> allowed;
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const auto& r = routes[i];
      Params params;
      if (!match(r.pattern, path, params)) continue;
      if (r.method != method && !(method == Method::kHead && r.method == Method::kGet)) {
        if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
          allowed.push_back(r.method);
        }
        continue;
      }
      int literals = static_cast<int>(split(r.pattern).size() - params.size());
      if (literals > best_literals) {
        best = static_cast<int>(i);
        best_literals = literals;
        best_params = std::move(params);
      }
    }
    if (best >= 0) allowed.clear();
    return {best, best_params, allowed};
  }
};

TEST(CompiledRouter, AnswersExactlyAsMatchingEveryPatternDid) {
  const std::vector<std::pair<Method, std::string>> patterns = {
      {Method::kGet, "/health"},
      {Method::kGet, "/api/tasks"},
      {Method::kPost, "/api/tasks"},
      {Method::kGet, "/api/tasks/{id}"},
      {Method::kPatch, "/api/tasks/{id}"},
      {Method::kDelete, "/api/tasks/{id}"},
      {Method::kGet, "/api/tasks/search"},
      {Method::kPost, "/api/tasks/{id}/complete"},
      {Method::kPost, "/api/tasks/{id}/reopen"},
      {Method::kGet, "/api/{user_id}/tasks"},
      {Method::kGet, "/api/{user_id}/tasks/{id}"},
      {Method::kPut, "/api/{a}/{b}"},
      {Method::kGet, "/"},
      {Method::kGet, "/dir/"},
      {Method::kGet, "/x/{}"},
      {Method::kGet, "/dapr/events/{topic}"},
      {Method::kPost, "/dapr/events/{topic}"},
      {Method::kGet, "/{only}"},
  };
  Router router;
  ReferenceRouter reference;
  for (const auto& [method, pattern] : patterns) {
    router.add(method, pattern, Executor::kInline, respond_with(200));
    reference.routes.push_back({method, pattern});
  }
  const std::vector<std::string> paths = {
      "", "/", "//", "/health", "/health/", "/healthz", "/api", "/api/", "/api/tasks",
      "/api/tasks/", "/api/tasks/abc", "/api/tasks/search", "/api/tasks/search/complete",
      "/api/tasks/abc/complete", "/api/tasks/abc/reopen", "/api/tasks/abc/other",
      "/api/u1/tasks", "/api/u1/tasks/t1", "/api/u1/other", "/api//tasks", "/dir/", "/dir",
      "/x/{}", "/x/y", "/dapr/events/orders", "/dapr/events/", "/a/b/c/d/e/f/g", "health",
      "/api/tasks/abc/complete/more", "/metrics"};
  const std::vector<Method> methods = {Method::kGet,   Method::kHead,   Method::kPost,
                                       Method::kPatch, Method::kDelete, Method::kPut,
                                       Method::kOptions};
  for (const auto& path : paths) {
    for (Method method : methods) {
      SCOPED_TRACE(std::string(to_string(method)) + " " + path);
      auto [want_index, want_params, want_allowed] = reference.resolve(method, path);
      auto got = router.match(method, path);
      if (want_index < 0) {
        EXPECT_EQ(got.route, nullptr);
      } else {
        EXPECT_EQ(got.route, &router.routes()[static_cast<std::size_t>(want_index)]);
        EXPECT_EQ(got.path_params, want_params);
      }
      EXPECT_EQ(got.allowed, want_allowed);
    }
  }
}

TEST(CompiledRouter, LiteralWinsWhicheverWasAddedFirstAndTiesGoToTheFirstAdded) {
  Router router;
  router.add(Method::kGet, "/api/{kind}/search", Executor::kInline, respond_with(1));
  router.add(Method::kGet, "/api/tasks/{id}", Executor::kInline, respond_with(2));
  router.add(Method::kGet, "/api/tasks/search", Executor::kInline, respond_with(3));
  auto m = router.match(Method::kGet, "/api/tasks/search");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/tasks/search");
  EXPECT_TRUE(m.path_params.empty());
  // Both have two literal segments: the first added answers.
  auto tie = router.match(Method::kGet, "/api/notes/search");
  ASSERT_NE(tie.route, nullptr);
  EXPECT_EQ(tie.route->pattern, "/api/{kind}/search");
  EXPECT_EQ(tie.path_params, (Params{{"kind", "notes"}}));
}

TEST(CompiledRouter, FillsEveryPlaceholderInOrder) {
  Router router;
  router.add(Method::kPost, "/api/{user_id}/tasks/{id}/{action}", Executor::kInline,
             respond_with(200));
  auto m = router.match(Method::kPost, "/api/u-1/tasks/t-2/complete");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.path_params,
            (Params{{"user_id", "u-1"}, {"id", "t-2"}, {"action", "complete"}}));
}

TEST(CompiledRouter, AllowedMethodsFollowTheOrderRoutesWereAdded) {
  Router router;
  router.add(Method::kPatch, "/api/tasks/{id}", Executor::kInline, respond_with(200));
  router.add(Method::kGet, "/api/tasks/{id}", Executor::kInline, respond_with(200));
  router.add(Method::kDelete, "/api/tasks/{id}", Executor::kInline, respond_with(200));
  router.add(Method::kPost, "/api/tasks/search", Executor::kInline, respond_with(200));
  auto m = router.match(Method::kPut, "/api/tasks/search");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed,
            (std::vector<Method>{Method::kPatch, Method::kGet, Method::kDelete, Method::kPost}));
  // A method one of them serves: no 405, whichever pattern serves it.
  auto get = router.match(Method::kGet, "/api/tasks/search");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->pattern, "/api/tasks/{id}");
  EXPECT_TRUE(get.allowed.empty());
}

TEST(CompiledRouter, FallbackAnswersUnknownGetAndHeadButNeverHidesA405) {
  Router router;
  router.add(Method::kPost, "/api/tasks", Executor::kInline, respond_with(200));
  router.set_fallback(Executor::kInline, respond_with(200));
  auto get = router.match(Method::kGet, "/app/settings");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->pattern, "unmatched");
  ASSERT_NE(router.match(Method::kHead, "/").route, nullptr);
  EXPECT_EQ(router.match(Method::kPost, "/app/settings").route, nullptr);
  auto wrong_method = router.match(Method::kGet, "/api/tasks");
  EXPECT_EQ(wrong_method.route, nullptr);
  EXPECT_EQ(wrong_method.allowed, (std::vector<Method>{Method::kPost}));
}

TEST(CompiledRouter, WebSocketRoutesMatchInTheOrderAddedWithTheirParameters) {
  Router router;
  auto refuse = [](Request&) -> std::variant<Response, WebSocketSession> { return Response{}; };
  router.add_websocket("/ws/{channel}", refuse);
  router.add_websocket("/ws/tasks", refuse);
  router.add_websocket("/ws/tasks/{id}", refuse);
  Params params{{"kept", "when nothing matches"}};
  EXPECT_EQ(router.match_websocket("/ws", params), nullptr);
  EXPECT_EQ(router.match_websocket("/ws/", params), nullptr);
  EXPECT_EQ(params, (Params{{"kept", "when nothing matches"}}));
  // No literal preference among WebSocket routes: the first added wins.
  const WebSocketRoute* first = router.match_websocket("/ws/tasks", params);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->pattern, "/ws/{channel}");
  EXPECT_EQ(params, (Params{{"channel", "tasks"}}));
  const WebSocketRoute* task = router.match_websocket("/ws/tasks/42", params);
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->pattern, "/ws/tasks/{id}");
  EXPECT_EQ(params, (Params{{"id", "42"}}));
  // Ordinary routes do not see WebSocket patterns, nor the other way round.
  EXPECT_EQ(router.match(Method::kGet, "/ws/tasks").route, nullptr);
}

TEST(CompiledRouter, ManyPatternsMatchingOnePathAllCount) {
  // More matches than the inline buffer holds: every one is still considered, in order.
  Router router;
  const std::vector<Method> methods = {Method::kPost, Method::kPut, Method::kPatch,
                                       Method::kDelete, Method::kOptions};
  for (int i = 0; i < 20; ++i) {
    router.add(methods[static_cast<std::size_t>(i) % methods.size()],
               i % 2 == 0 ? "/a/{x}" : "/a/{y}", Executor::kInline, respond_with(i));
  }
  router.add(Method::kGet, "/a/{z}", Executor::kInline, respond_with(99));
  auto m = router.match(Method::kGet, "/a/b");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.path_params, (Params{{"z", "b"}}));
  auto not_allowed = router.match(Method::kHead, "/a/b");
  ASSERT_NE(not_allowed.route, nullptr);  // HEAD is served by GET
  Router no_get;
  for (int i = 0; i < 20; ++i) {
    no_get.add(methods[static_cast<std::size_t>(19 - i) % methods.size()], "/a/{x}",
               Executor::kInline, respond_with(i));
  }
  EXPECT_EQ(no_get.match(Method::kGet, "/a/b").allowed,
            (std::vector<Method>{Method::kOptions, Method::kDelete, Method::kPatch, Method::kPut,
                                 Method::kPost}));
}

}  // namespace
}  // namespace todo::http

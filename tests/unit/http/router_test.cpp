// Routing by method and pattern, 405 detection, literal segments winning over placeholders.
#include "http/router.h"

#include <gtest/gtest.h>

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

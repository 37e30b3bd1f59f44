// /metrics without and with a token: open by default; with one, only `Bearer <token>` (scheme in
// any case) is let through, and every other request is a 401 problem that tells missing from wrong.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "services/api/operations_routes.h"

namespace todo::services::api {
namespace {

constexpr char kToken[] = "metrics-token-0123456789abcdef";

http::Response scrape(const http::Router& router, std::optional<std::string> authorization) {
  http::Request req;
  req.method = http::Method::kGet;
  req.target = req.path = "/metrics";
  if (authorization) req.headers.push_back({"authorization", *authorization});
  auto match = router.match(http::Method::kGet, "/metrics");
  EXPECT_NE(match.route, nullptr);
  return match.route->handler(req);
}

std::string type_of(const http::Response& res) {
  const auto at = res.body.find("\"type\":\"");
  if (at == std::string::npos) return "";
  const auto start = at + 8;
  return res.body.substr(start, res.body.find('"', start) - start);
}

TEST(MetricsRoute, OpenWithoutAToken) {
  http::Metrics metrics;
  http::Router router;
  add_metrics_route(router, metrics, std::nullopt);
  auto res = scrape(router, std::nullopt);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type").value_or(""), "text/plain; version=0.0.4");
}

TEST(MetricsRoute, WithATokenOnlyTheBearerOfThatTokenIsServed) {
  http::Metrics metrics;
  http::Router router;
  add_metrics_route(router, metrics, std::string(kToken));

  auto missing = scrape(router, std::nullopt);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(type_of(missing), "token-missing");
  EXPECT_EQ(missing.header("www-authenticate").value_or(""), "Bearer");

  for (const std::string& bad :
       {std::string("Bearer wrong"), std::string("Bearer ") + kToken + "x",
        std::string("Basic ") + kToken, std::string(kToken), std::string("Bearer ")}) {
    auto res = scrape(router, bad);
    EXPECT_EQ(res.status, 401) << bad;
    EXPECT_EQ(type_of(res), "token-invalid") << bad;
    EXPECT_EQ(res.header("content-type").value_or(""), "application/problem+json");
  }
  for (const std::string& good : {std::string("Bearer ") + kToken, std::string("bearer ") + kToken,
                                  std::string("BEARER ") + kToken}) {
    auto res = scrape(router, good);
    EXPECT_EQ(res.status, 200) << good;
  }
}

}  // namespace
}  // namespace todo::services::api

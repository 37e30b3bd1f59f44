// Liveness, readiness, Prometheus metrics (optionally behind a bearer token) and the API
// description.
#include "services/api/operations_routes.h"

#include "auth/tokens.h"
#include "http/json.h"
#include "http/problem.h"

#include <boost/json.hpp>

#include <algorithm>

namespace todo::services::api {

// The document outgrew the 65,536 characters C++ promises for one literal; GCC and clang take far
// longer ones, and clang -Wpedantic (the fuzz preset) would otherwise refuse it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
std::string_view openapi_document() {
  static constexpr char kDocument[] =
#include "openapi_json.inc"
      ;
  return {kDocument, sizeof(kDocument) - 1};
}
#pragma GCC diagnostic pop

void add_operations_routes(http::Router& router, store::Database& database, const bus::Bus& bus) {
  using http::Executor;
  using http::Method;
  using http::Request;
  using http::Response;
  router.add(Method::kGet, "/health", Executor::kInline, [](Request&) {
    Response res;
    res.body = R"({"status":"ok"})";
    res.set_header("content-type", "application/json");
    return res;
  });
  router.add(Method::kGet, "/ready", Executor::kDatabaseRead, [&database, &bus](Request& req) {
    if (!database.ping()) {
      return http::problem_response(
          domain::make_error(domain::ErrorCode::kUnavailable, "The database does not answer."),
          req.path);
    }
    if (!bus.running()) {
      return http::problem_response(
          domain::make_error(domain::ErrorCode::kUnavailable, "The event bus is not delivering."),
          req.path);
    }
    return http::json_response(
        200, boost::json::object{
                 {"status", "ready"},
                 {"checks", boost::json::object{{"database", "ok"}, {"bus", "ok"}}}});
  });
  router.add(Method::kGet, "/openapi.json", Executor::kInline, [](Request&) {
    Response res;
    res.body = std::string(openapi_document());
    res.set_header("content-type", "application/json");
    return res;
  });
}

void add_metrics_route(http::Router& router, http::Metrics& metrics,
                       std::optional<std::string> token) {
  router.add(
      http::Method::kGet, "/metrics", http::Executor::kInline,
      [&metrics, token = std::move(token)](http::Request& req) {
        if (token) {
          const std::string_view presented = req.header("authorization").value_or("");
          if (presented.empty()) {
            return http::problem_response(
                domain::make_error(domain::ErrorCode::kTokenMissing,
                                   "/metrics requires Authorization: Bearer <token>."),
                req.path);
          }
          constexpr std::string_view kScheme = "bearer ";
          const bool bearer = presented.size() > kScheme.size() &&
                              std::equal(kScheme.begin(), kScheme.end(), presented.begin(),
                                         [](char a, char b) { return a == (b | 0x20); });
          if (!bearer || !auth::constant_time_equal(presented.substr(kScheme.size()), *token)) {
            return http::problem_response(
                domain::make_error(domain::ErrorCode::kTokenInvalid,
                                   "The metrics token is not the configured one."),
                req.path);
          }
        }
        http::Response res;
        res.body = metrics.render();
        res.set_header("content-type", "text/plain; version=0.0.4");
        return res;
      });
}

}  // namespace todo::services::api

// Liveness, readiness, Prometheus metrics and the API description.
#include "services/api/operations_routes.h"

#include "http/json.h"
#include "http/problem.h"

#include <boost/json.hpp>

namespace todo::services::api {

std::string_view openapi_document() {
  static constexpr char kDocument[] =
#include "openapi_json.inc"
      ;
  return {kDocument, sizeof(kDocument) - 1};
}

void add_operations_routes(http::Router& router, store::Database& database, const bus::Bus& bus,
                           http::Metrics& metrics) {
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
  router.add(Method::kGet, "/metrics", Executor::kInline, [&metrics](Request&) {
    Response res;
    res.body = metrics.render();
    res.set_header("content-type", "text/plain; version=0.0.4");
    return res;
  });
  router.add(Method::kGet, "/openapi.json", Executor::kInline, [](Request&) {
    Response res;
    res.body = std::string(openapi_document());
    res.set_header("content-type", "application/json");
    return res;
  });
}

}  // namespace todo::services::api

// Dapr's app-side HTTP contract: the token check, the answers (HTTP 200 with a status body) and
// the problems (400 naming the field of a malformed CloudEvent, 401 for a wrong token).
#include "app/dapr_routes.h"

#include <optional>
#include <string>

#include "auth/tokens.h"
#include "domain/error.h"
#include "http/problem.h"

namespace todo::app {
namespace {

// nullopt when the sidecar presented the configured app token (or none is configured).
std::optional<http::Response> refused(const bus::PushDelivery& push, const http::Request& req) {
  const auto& expected = push.app_token();
  if (expected.empty()) return std::nullopt;
  const auto presented = req.header("dapr-api-token");
  if (!presented) {
    return http::problem_response(
        domain::make_error(domain::ErrorCode::kTokenMissing,
                           "The Dapr routes require the dapr-api-token header."),
        req.path);
  }
  if (!auth::constant_time_equal(*presented, expected)) {
    return http::problem_response(
        domain::make_error(domain::ErrorCode::kTokenInvalid,
                           "The dapr-api-token is not the configured app token."),
        req.path);
  }
  return std::nullopt;
}

http::Response json(std::string body) {
  http::Response res;
  res.body = std::move(body);
  res.set_header("content-type", "application/json");
  return res;
}

http::Response answer(const bus::PushAnswer& a, const http::Request& req) {
  switch (a.kind) {
    case bus::PushAnswer::Kind::kStatus:
      return json(bus::dapr_status_body(a.status));
    case bus::PushAnswer::Kind::kInvalid: {
      auto error = domain::make_error(
          domain::ErrorCode::kBadRequest,
          "The body is not a structured CloudEvent 1.0: " + a.field + " " + a.reason + ".");
      error.fields.push_back({a.field, a.reason});
      return http::problem_response(error, req.path);
    }
    case bus::PushAnswer::Kind::kUnknownTopic:
      break;
  }
  return http::problem_response(
      domain::make_error(domain::ErrorCode::kRouteNotFound,
                         "No consumer of this process subscribes to this topic."),
      req.path);
}

}  // namespace

void add_dapr_routes(http::Router& router, bus::PushDelivery& push) {
  router.add(http::Method::kGet, "/dapr/subscribe", http::Executor::kInline,
             [&push](http::Request& req) {
               if (auto r = refused(push, req)) return std::move(*r);
               return json(push.subscriptions_json());
             });
  router.add(http::Method::kPost, "/dapr/events/{topic}", http::Executor::kDatabaseWrite,
             [&push](http::Request& req) {
               if (auto r = refused(push, req)) return std::move(*r);
               return answer(push.deliver(req.path_param("topic"), req.body), req);
             });
  router.add(http::Method::kPost, "/dapr/fanout/{topic}", http::Executor::kDatabaseRead,
             [&push](http::Request& req) {
               if (auto r = refused(push, req)) return std::move(*r);
               return answer(push.deliver_fanout(req.path_param("topic"), req.body), req);
             });
}

}  // namespace todo::app

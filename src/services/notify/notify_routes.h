// HTTP routes of the notification service: the caller's notification targets
// (GET/POST/DELETE /api/notification-targets), the VAPID public key browsers subscribe with, and a
// task's delivery log (GET /api/tasks/{id}/reminders).
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/quota.h"
#include "http/router.h"
#include "store/database.h"

namespace todo::notify {

// The caller's user id from the request's access token, or the 401 problem.
using Authenticate = std::function<domain::Result<std::string>(const http::Request&)>;

// The SSRF guard of webhook URLs: resolves the host and returns why the URL is refused (loopback,
// private, link-local, metadata addresses), or nullopt. The app passes check_webhook_url
// (ssrf_guard.h); the same check runs again at each delivery. Without it,
// literal_webhook_host_refusal below is all that runs.
using WebhookDestinationCheck = std::function<std::optional<std::string>(std::string_view url)>;

// The push channel's check of a canonical PushSubscription JSON (its endpoint through the SSRF
// guard): the reason it is refused — "endpoint: <why>" for the endpoint — or nullopt. The app
// passes check_push_subscription (web_push.h).
using PushSubscriptionCheck = std::function<std::optional<std::string>(std::string_view json)>;

// The VAPID public key (base64url, uncompressed P-256 point) or nullopt when Web Push is not
// configured (then the route answers a 404 not-found problem saying so).
using VapidPublicKey = std::function<std::optional<std::string>()>;

struct NotifyRouteDependencies {
  store::Database& database;
  const domain::Clock& clock;
  domain::RandomSource&
      random;  // thread-safe (it makes ids and webhook secrets on handler threads)
  Authenticate authenticate;
  bool allow_private_webhooks = false;
  WebhookDestinationCheck check_webhook_destination;  // may be empty
  PushSubscriptionCheck check_push_subscription;      // may be empty
  VapidPublicKey vapid_public_key;                    // may be empty
  domain::QuotaLimits quotas;  // notification_targets: targets per account (409 quota-exceeded)
};

void add_notify_routes(http::Router& router, const NotifyRouteDependencies& deps);

// A target as POST validated it: kind and the canonical address (PushSubscription JSON for
// webpush).
struct TargetInput {
  std::string kind, address;
};
// Validates a POST body; the error names each invalid field. `allow_private_webhooks` also admits
// http:// webhook URLs and push endpoints.
domain::Result<TargetInput> parse_target_input(const boost::json::object& body,
                                               bool allow_private_webhooks);

// Why a webhook URL's host is refused without resolving it: a literal loopback, private,
// link-local, unspecified or metadata address, or `localhost`; nullopt when it is not one.
std::optional<std::string> literal_webhook_host_refusal(std::string_view host);

}  // namespace todo::notify

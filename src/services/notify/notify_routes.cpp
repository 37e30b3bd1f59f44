// Handlers of the notification routes: target validation per kind, the webhook secret shown once,
// and the delivery log of a task (another user's task is a 404).
#include "services/notify/notify_routes.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstring>

#include "auth/tokens.h"
#include "domain/ids.h"
#include "domain/time_format.h"
#include "domain/user.h"
#include "http/json.h"
#include "http/problem.h"
#include "services/notify/email_channel.h"
#include "services/notify/notify_repository.h"
#include "store/task_repository.h"
#include "store/user_repository.h"

namespace todo::notify {
namespace {

namespace json = boost::json;
using domain::ErrorCode;
using domain::FieldError;
using http::Request;
using http::Response;

constexpr std::size_t kMaxUrlLength = 2048;
constexpr std::size_t kMaxTokenLength = 4096;

Response problem(const Request& req, const domain::Error& error) {
  return http::problem_response(error, req.path);
}

const store::TaskRepository& tasks() {
  static const store::TaskRepository repository([](std::string_view t) { return std::string(t); });
  return repository;
}

const json::string* string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

// An absolute http(s) URL without user info; `field` names it in the errors.
std::optional<std::string> check_url(std::string_view url, bool allow_http, std::string_view field,
                                     std::vector<FieldError>& errors) {
  const auto add = [&](std::string reason) {
    errors.push_back({std::string(field), std::move(reason)});
    return std::nullopt;
  };
  if (url.empty() || url.size() > kMaxUrlLength) return add("must be 1 to 2048 characters");
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return add("must be an absolute URL");
  const std::string scheme(parsed->scheme());
  if (scheme != "https" && !(allow_http && scheme == "http")) {
    return add(allow_http ? "must be an http or https URL" : "must be an https URL");
  }
  if (!parsed->has_authority() || parsed->host().empty()) return add("must name a host");
  if (parsed->has_userinfo()) return add("must not contain a user name or password");
  return std::string(parsed->host());
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == ':';
}

std::optional<std::string> webpush_address(const json::object& body, bool allow_http,
                                           std::vector<FieldError>& errors) {
  const json::value* v = body.if_contains("subscription");
  if (!v || !v->is_object()) {
    errors.push_back({"subscription", "must be the browser's PushSubscription object"});
    return std::nullopt;
  }
  const json::object& sub = v->as_object();
  const std::size_t before = errors.size();
  std::string endpoint;
  if (const auto* e = string_member(sub, "endpoint")) {
    endpoint = std::string(*e);
    check_url(endpoint, allow_http, "subscription.endpoint", errors);
  } else {
    errors.push_back({"subscription.endpoint", "must be a string"});
  }
  const json::value* keys_value = sub.if_contains("keys");
  std::string p256dh, auth_secret;
  if (!keys_value || !keys_value->is_object()) {
    errors.push_back({"subscription.keys", "must be an object with p256dh and auth"});
  } else {
    const json::object& keys = keys_value->as_object();
    const auto* p = string_member(keys, "p256dh");
    const auto decoded_p = p ? auth::base64url_decode(std::string(*p)) : std::nullopt;
    if (!decoded_p || decoded_p->size() != 65 || (*decoded_p)[0] != '\x04') {
      errors.push_back({"subscription.keys.p256dh",
                        "must be the base64url uncompressed P-256 public key (65 bytes)"});
    } else {
      p256dh = std::string(*p);
    }
    const auto* a = string_member(keys, "auth");
    const auto decoded_a = a ? auth::base64url_decode(std::string(*a)) : std::nullopt;
    if (!decoded_a || decoded_a->size() != 16) {
      errors.push_back({"subscription.keys.auth", "must be the base64url 16-byte auth secret"});
    } else {
      auth_secret = std::string(*a);
    }
  }
  if (errors.size() != before) return std::nullopt;
  // Canonical: the same subscription is the same address, whatever else the browser added.
  return json::serialize(json::object{
      {"endpoint", endpoint}, {"keys", json::object{{"p256dh", p256dh}, {"auth", auth_secret}}}});
}

json::object target_json(const StoredTarget& t) {
  json::object o{{"id", t.id}, {"kind", t.kind}};
  if (t.kind == "email") o["address"] = t.address;
  if (t.kind == "webhook") o["url"] = t.address;
  if (t.kind == "fcm") o["token"] = t.address;
  if (t.kind == "webpush") {
    boost::system::error_code ec;
    const json::value sub = json::parse(t.address, ec);
    o["endpoint"] = !ec && sub.is_object() && sub.as_object().contains("endpoint")
                        ? sub.as_object().at("endpoint")
                        : json::value(nullptr);
  }
  o["created_at"] = domain::format_rfc3339(t.created_at);
  return o;
}

json::value optional_time(const std::optional<domain::Timestamp>& t) {
  if (!t) return nullptr;
  return json::value(domain::format_rfc3339(*t));
}

json::value optional_text(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return json::value(*s);
}

json::object delivery_json(const StoredDelivery& d) {
  json::object target{{"id", d.target}, {"kind", d.target_kind}};
  if (!d.target_address.empty()) target["address"] = d.target_address;
  return json::object{
      {"id", d.id},
      {"channel", d.channel},
      {"target", std::move(target)},
      {"status", d.status},
      {"attempts", d.attempts},
      {"last_error", optional_text(d.last_error)},
      {"next_attempt_at", optional_time(d.next_attempt_at)},
      {"provider_id", optional_text(d.provider_id)},
      {"created_at", domain::format_rfc3339(d.created_at)},
      {"updated_at", domain::format_rfc3339(d.updated_at)},
  };
}

// ---- handlers ---------------------------------------------------------------------------------

Response list_targets(const NotifyRouteDependencies& deps, Request&, const std::string& caller) {
  json::array items;
  std::string default_email;
  bool has_email = false;
  deps.database.read([&](store::Transaction& tx) {
    for (const StoredTarget& t : NotifyRepository().targets_of(tx, caller)) {
      has_email = has_email || t.kind == "email";
      items.push_back(target_json(t));
    }
    if (auto user = store::UserRepository().find_by_id(tx, caller)) {
      default_email = user->reminder_email.value_or(user->email);
    }
  });
  return http::json_response(200, json::object{{"items", std::move(items)},
                                               {"default_email", default_email},
                                               {"default_email_used", !has_email}});
}

Response add_target(const NotifyRouteDependencies& deps, Request& req, const std::string& caller) {
  auto body = http::parse_json_object(req);
  if (!body) return problem(req, body.error());
  auto input = parse_target_input(*body, deps.allow_private_webhooks);
  if (!input) return problem(req, input.error());
  if (input->kind == "webhook" && !deps.allow_private_webhooks) {
    const auto host = std::string(boost::urls::parse_absolute_uri(input->address)->host());
    std::optional<std::string> refusal = literal_webhook_host_refusal(host);
    if (!refusal && deps.check_webhook_destination) {
      refusal = deps.check_webhook_destination(input->address);
    }
    if (refusal) return problem(req, domain::validation_error({{"url", *refusal}}));
  }
  if (input->kind == "webpush" && deps.check_push_subscription) {
    // The push channel's own reading of the subscription, its endpoint through the SSRF guard.
    if (auto refusal = deps.check_push_subscription(input->address)) {
      constexpr std::string_view kEndpoint = "endpoint: ";
      if (refusal->starts_with(kEndpoint)) {
        return problem(req, domain::validation_error(
                                {{"subscription.endpoint", refusal->substr(kEndpoint.size())}}));
      }
      return problem(req, domain::validation_error({{"subscription", *refusal}}));
    }
  }

  StoredTarget target;
  target.id = domain::new_uuid_v7(deps.clock.now(), deps.random);
  target.user_id = caller;
  target.kind = input->kind;
  target.address = input->address;
  target.created_at = deps.clock.now();
  if (target.kind == "webhook") {
    std::array<std::byte, 32> bytes;
    deps.random.fill(bytes);
    target.secret = "whsec_" + base64_encode(std::string_view(
                                   reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  enum class Outcome { kAdded, kExists, kOverQuota };
  Outcome outcome = Outcome::kAdded;
  std::optional<domain::Error> over_quota;
  try {
    deps.database.write([&](store::Transaction& tx) {
      const NotifyRepository repository;
      auto allowed =
          domain::check_notification_targets(deps.quotas, repository.count_targets(tx, caller));
      if (!allowed) {
        outcome = Outcome::kOverQuota;
        over_quota = allowed.error();
        return;
      }
      repository.insert_target(tx, target);
    });
  } catch (const store::ConstraintViolation&) {
    outcome = Outcome::kExists;
  }
  if (outcome == Outcome::kOverQuota) return problem(req, std::move(*over_quota));
  if (outcome == Outcome::kExists) {
    return problem(req, domain::make_error(ErrorCode::kTargetExists,
                                           "You already have this " + target.kind + " target."));
  }
  json::object out = target_json(target);
  // The signing secret is shown this once; it is never returned again.
  if (!target.secret.empty()) out["secret"] = target.secret;
  Response res = http::json_response(201, out);
  res.set_header("location", "/api/notification-targets/" + target.id);
  return res;
}

Response delete_target(const NotifyRouteDependencies& deps, Request& req,
                       const std::string& caller) {
  const std::string id(req.path_param("id"));
  const bool deleted = store::write_value(deps.database, [&](store::Transaction& tx) {
    return NotifyRepository().delete_target(tx, caller, id);
  });
  if (!deleted) {
    return problem(req, domain::make_error(ErrorCode::kTargetNotFound, "No such target."));
  }
  Response res;
  res.status = 204;
  return res;
}

Response task_reminders(const NotifyRouteDependencies& deps, Request& req,
                        const std::string& caller) {
  const std::string task_id(req.path_param("id"));
  bool found = false;
  json::array items;
  deps.database.read([&](store::Transaction& tx) {
    if (!tasks().find(tx, caller, task_id, false)) return;
    found = true;
    const NotifyRepository repository;
    for (const StoredReminder& r : repository.reminders_of_task(tx, task_id, caller)) {
      json::array deliveries;
      for (const StoredDelivery& d : repository.deliveries_of(tx, r.id)) {
        deliveries.push_back(delivery_json(d));
      }
      json::value offset = nullptr;
      if (r.offset_minutes) offset = *r.offset_minutes;
      items.push_back(json::object{
          {"id", r.id},
          {"fire_at", domain::format_rfc3339(r.fire_at)},
          {"offset_minutes", offset},
          {"status", r.status},
          {"late", r.late},
          {"fired_at", optional_time(r.fired_at)},
          {"deliveries", std::move(deliveries)},
      });
    }
  });
  if (!found) return problem(req, domain::make_error(ErrorCode::kTaskNotFound, "No such task."));
  return http::json_response(200, json::object{{"task_id", task_id}, {"items", std::move(items)}});
}

Response vapid_key(const NotifyRouteDependencies& deps, Request& req) {
  std::optional<std::string> key;
  if (deps.vapid_public_key) key = deps.vapid_public_key();
  if (!key) {
    return problem(req, domain::make_error(ErrorCode::kRouteNotFound,
                                           "Web Push is not configured on this server."));
  }
  return http::json_response(200, json::object{{"public_key", *key}});
}

}  // namespace

domain::Result<TargetInput> parse_target_input(const json::object& body,
                                               bool allow_private_webhooks) {
  std::vector<FieldError> errors;
  const auto* kind_value = string_member(body, "kind");
  const std::string kind = kind_value ? std::string(*kind_value) : std::string();
  TargetInput input{kind, {}};
  if (kind == "email") {
    const auto* address = string_member(body, "address");
    if (!address) {
      errors.push_back({"address", "must be an e-mail address"});
    } else if (auto normalized = domain::normalize_email(*address); !normalized) {
      for (const FieldError& f : normalized.error().fields) errors.push_back({"address", f.reason});
    } else {
      input.address = *normalized;
    }
  } else if (kind == "webpush") {
    if (auto address = webpush_address(body, allow_private_webhooks, errors)) {
      input.address = *address;
    }
  } else if (kind == "fcm") {
    const auto* token = string_member(body, "token");
    if (!token || token->empty() || token->size() > kMaxTokenLength ||
        !std::all_of(token->begin(), token->end(), is_token_char)) {
      errors.push_back(
          {"token", "must be an FCM registration token (1 to 4096 characters A-Z a-z 0-9 - _ :)"});
    } else {
      input.address = std::string(*token);
    }
  } else if (kind == "webhook") {
    const auto* url = string_member(body, "url");
    if (!url) {
      errors.push_back({"url", "must be an https URL"});
    } else if (check_url(*url, allow_private_webhooks, "url", errors)) {
      input.address = std::string(*url);
    }
  } else {
    errors.push_back({"kind", "must be email, webpush, fcm or webhook"});
  }
  if (!errors.empty()) return domain::validation_error(std::move(errors));
  return input;
}

std::optional<std::string> literal_webhook_host_refusal(std::string_view host_in) {
  std::string host(host_in);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "localhost" || host.ends_with(".localhost")) return "must not point to this machine";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const auto a = ntohl(v4.s_addr);
    const auto in = [a](std::uint32_t net, int bits) {
      return (a >> (32 - bits)) == (net >> (32 - bits));
    };
    if (in(0x00000000, 8) || in(0x7f000000, 8)) return "must not point to this machine";
    if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10)) {
      return "must not point to a private network address";
    }
    if (in(0xa9fe0000, 16)) return "must not point to a link-local or cloud metadata address";
    return std::nullopt;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    const unsigned char* b = v6.s6_addr;
    static const unsigned char kZero[16] = {};
    const bool loopback = std::memcmp(b, kZero, 15) == 0 && (b[15] == 1 || b[15] == 0);
    if (loopback) return "must not point to this machine";
    if ((b[0] & 0xfe) == 0xfc) return "must not point to a private network address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "must not point to a link-local address";
    const bool mapped = std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
    if (mapped) return "must not be an IPv4-mapped address";
  }
  return std::nullopt;
}

// The handlers keep a copy of `deps` (references and functions), so a temporary may be passed.
void add_notify_routes(http::Router& router, const NotifyRouteDependencies& deps) {
  auto route = [&router, &deps](http::Method method, std::string pattern, http::Executor executor,
                                auto handler) {
    router.add(method, std::move(pattern), executor, [deps, handler](Request& req) {
      auto caller = deps.authenticate(req);
      if (!caller) return problem(req, caller.error());
      return handler(deps, req, *caller);
    });
  };
  using http::Executor;
  using http::Method;
  route(Method::kGet, "/api/notification-targets", Executor::kDatabaseRead, list_targets);
  route(Method::kPost, "/api/notification-targets", Executor::kDatabaseWrite, add_target);
  route(Method::kDelete, "/api/notification-targets/{id}", Executor::kDatabaseWrite, delete_target);
  router.add(Method::kGet, "/api/notification-targets/vapid-public-key", Executor::kInline,
             [deps](Request& req) { return vapid_key(deps, req); });
  route(Method::kGet, "/api/tasks/{id}/reminders", Executor::kDatabaseRead, task_reminders);
}

}  // namespace todo::notify

// The webhook channel and the Standard Webhooks signature.
#include "services/notify/webhook_channel.h"

#include <boost/json.hpp>
#include <chrono>

#include "domain/time_format.h"
#include "services/notify/channels_crypto.h"

namespace todo::notify {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

std::string snippet(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return s;
}

}  // namespace

std::string generate_webhook_secret() {
  return std::string(kSecretPrefix) + base64_encode(random_bytes(32));
}

std::optional<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                             std::int64_t timestamp, std::string_view body) {
  if (!secret.starts_with(kSecretPrefix)) return std::nullopt;
  auto key = base64_decode(secret.substr(kSecretPrefix.size()));
  if (!key || key->empty()) return std::nullopt;
  std::string signed_content =
      std::string(id) + "." + std::to_string(timestamp) + "." + std::string(body);
  return "v1," + base64_encode(hmac_sha256(*key, signed_content));
}

std::string webhook_body(const Reminder& r, std::string_view timestamp_rfc3339) {
  boost::json::object data{
      {"delivery_id", r.delivery_id},
      {"task_id", r.task_id},
      {"title", r.title},
      {"due_at",
       r.due_at_utc.empty() ? boost::json::value(nullptr) : boost::json::value(r.due_at_utc)},
      {"due_local", r.due_local},
      {"fire_at", r.fire_at_utc},
      {"late", r.late},
      {"task_url", r.task_url},
  };
  boost::json::object body{
      {"type", "reminder.fired"}, {"timestamp", timestamp_rfc3339}, {"data", std::move(data)}};
  return boost::json::serialize(body);
}

Result classify_http(const HttpResponse& response) {
  switch (response.failure) {
    case HttpFailure::kNone:
      break;
    case HttpFailure::kRefused:
      return {Outcome::kFailed, "", response.error};
    case HttpFailure::kTimeout:
    case HttpFailure::kTransport:
    case HttpFailure::kTooLarge:
      return {Outcome::kRetry, "", response.error};
  }
  long s = response.status;
  if (s >= 200 && s < 300) return {Outcome::kDelivered, "", ""};
  std::string error = "HTTP " + std::to_string(s);
  if (!response.body.empty()) error += ": " + snippet(response.body);
  if (s == 408 || s == 425 || s == 429 || s >= 500) return {Outcome::kRetry, "", error};
  if (s >= 300 && s < 400) error += " (redirects are not followed)";
  return {Outcome::kFailed, "", error};
}

Result WebhookChannel::send(const Reminder& reminder, const Target& target) {
  auto now = clock_.now();
  std::int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string body = webhook_body(reminder, domain::format_rfc3339(now));
  auto signature = webhook_signature(target.secret, reminder.delivery_id, timestamp, body);
  if (!signature)
    return {Outcome::kFailed, "", "the target's signing secret is not whsec_<base64>"};

  HttpRequest request;
  request.url = target.address;
  request.user_chosen = true;
  request.body = std::move(body);
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", reminder.delivery_id},
                     {"webhook-timestamp", std::to_string(timestamp)},
                     {"webhook-signature", *signature}};
  HttpResponse response = http_.send(request);
  if (response.ok() && response.status == 410) {
    return {Outcome::kTargetGone, "", "HTTP 410: the receiver asked to remove this webhook"};
  }
  return classify_http(response);
}

}  // namespace todo::notify

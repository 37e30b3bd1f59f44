// RFC 8291 encryption, the push payload and the request to the push service.
#include "services/notify/web_push.h"

#include <boost/json.hpp>

#include "services/notify/channels_crypto.h"
#include "services/notify/ssrf_guard.h"
#include "services/notify/webhook_channel.h"

namespace todo::notify {
namespace {

// The push service answers with a 4096-byte limit on the body (RFC 8030 §7.2 lets it refuse
// more); the header (86) and tag (16) and the delimiter (1) leave this much for the payload.
constexpr std::size_t kMaxPayload = 4096 - 86 - 16 - 1;
constexpr std::size_t kMaxTitleBytes = 1024;

std::string truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;  // not mid-sequence
  return std::string(s.substr(0, n)) + "…";
}

const boost::json::string* string_at(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? &it->value().get_string() : nullptr;
}

}  // namespace

ParsedSubscription parse_push_subscription(std::string_view json, bool allow_private) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return {std::nullopt, "address must be a PushSubscription JSON object"};
  const auto& o = v.get_object();
  const auto* endpoint = string_at(o, "endpoint");
  if (!endpoint) return {std::nullopt, "endpoint must be a string"};
  ParsedUrl url = parse_http_url(*endpoint);
  if (!url.endpoint || (url.endpoint->scheme != "https" && !allow_private)) {
    return {std::nullopt, "endpoint must be an https URL"};
  }
  auto keys_it = o.find("keys");
  if (keys_it == o.end() || !keys_it->value().is_object()) {
    return {std::nullopt, "keys must be an object with p256dh and auth"};
  }
  const auto& keys = keys_it->value().get_object();
  const auto* p256dh = string_at(keys, "p256dh");
  const auto* auth = string_at(keys, "auth");
  auto point = p256dh ? base64_decode(*p256dh) : std::nullopt;
  if (!point || !p256_public_key(*point)) {
    return {std::nullopt, "keys.p256dh must be base64url of an uncompressed P-256 point"};
  }
  auto secret = auth ? base64_decode(*auth) : std::nullopt;
  if (!secret || secret->size() != 16) {
    return {std::nullopt, "keys.auth must be base64url of 16 bytes"};
  }
  return {PushSubscription{std::string(*endpoint), *point, *secret}, ""};
}

std::optional<std::string> check_push_subscription(std::string_view json, bool allow_private) {
  ParsedSubscription parsed = parse_push_subscription(json, allow_private);
  if (!parsed.subscription) return parsed.error;
  if (auto refused = check_webhook_url(parsed.subscription->endpoint, allow_private)) {
    return "endpoint: " + *refused;
  }
  return std::nullopt;
}

std::optional<std::string> encrypt_web_push(std::string_view plaintext,
                                            std::string_view ua_public65,
                                            std::string_view auth_secret16,
                                            EVP_PKEY* sender_private, std::string_view salt16,
                                            std::uint32_t record_size) {
  if (auth_secret16.size() != 16 || salt16.size() != 16) return std::nullopt;
  if (plaintext.size() + 1 + 16 > record_size) return std::nullopt;
  PKey ua_public = p256_public_key(ua_public65);
  if (!ua_public) return std::nullopt;
  std::string as_public = p256_public_raw(sender_private);

  std::string ecdh_secret = ecdh_p256(sender_private, ua_public.get());
  std::string prk_key = hmac_sha256(auth_secret16, ecdh_secret);
  std::string key_info = std::string("WebPush: info") + '\0' + std::string(ua_public65) + as_public;
  std::string ikm = hmac_sha256(prk_key, key_info + '\x01');
  std::string prk = hmac_sha256(salt16, ikm);
  std::string cek = hmac_sha256(prk, std::string("Content-Encoding: aes128gcm") + '\0' + '\x01');
  std::string nonce = hmac_sha256(prk, std::string("Content-Encoding: nonce") + '\0' + '\x01');

  std::string record = std::string(plaintext) + '\x02';  // the last (only) record's delimiter
  std::string out(salt16);
  for (int shift = 24; shift >= 0; shift -= 8) out += char((record_size >> shift) & 0xff);
  out += char(as_public.size());
  out += as_public;
  out += aes128gcm_seal(cek.substr(0, 16), nonce.substr(0, 12), record);
  return out;
}

std::string push_payload(const Reminder& r) {
  std::string body = r.due_local.empty() ? "Reminder" : "Due " + r.due_local;
  if (r.late) body += " (sent late)";
  boost::json::object payload{
      {"type", "reminder.fired"},
      {"title", truncate_utf8(r.title, kMaxTitleBytes)},
      {"body", body},
      {"delivery_id", r.delivery_id},
      {"task_id", r.task_id},
      {"due_at", r.due_at_utc},
      {"fire_at", r.fire_at_utc},
      {"late", r.late},
      {"url", r.task_url},
  };
  return boost::json::serialize(payload);
}

Result WebPushSender::send(const Reminder& reminder, const Target& target) {
  ParsedSubscription parsed = parse_push_subscription(target.address, true);
  if (!parsed.subscription) return {Outcome::kFailed, "", "invalid subscription: " + parsed.error};
  const PushSubscription& sub = *parsed.subscription;

  std::string payload = push_payload(reminder);
  if (payload.size() > kMaxPayload) return {Outcome::kFailed, "", "push payload too large"};
  PKey ephemeral = generate_p256_key();
  auto body = encrypt_web_push(payload, sub.p256dh, sub.auth, ephemeral.get(), random_bytes(16));
  auto authorization = vapid_.authorization(sub.endpoint, options_.subject, clock_.now());
  if (!body || !authorization)
    return {Outcome::kFailed, "", "cannot encrypt for this subscription"};

  HttpRequest request;
  request.url = sub.endpoint;
  request.user_chosen = true;
  request.body = std::move(*body);
  request.headers = {{"Content-Type", "application/octet-stream"},
                     {"Content-Encoding", "aes128gcm"},
                     {"TTL", std::to_string(options_.ttl.count())},
                     {"Urgency", options_.urgency},
                     {"Authorization", *authorization}};
  HttpResponse response = http_.send(request);
  if (response.ok() && (response.status == 404 || response.status == 410)) {
    return {Outcome::kTargetGone, "",
            "HTTP " + std::to_string(response.status) + ": the push subscription has expired"};
  }
  Result result = classify_http(response);
  if (result.outcome == Outcome::kDelivered) {
    result.provider_id = response.header("location").value_or("");
  }
  return result;
}

}  // namespace todo::notify

// Web Push (RFC 8030) with RFC 8291 message encryption (aes128gcm, one record) and RFC 8292
// VAPID. The push service's 404/410 means the subscription is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "services/notify/channel.h"
#include "services/notify/http_client.h"
#include "services/notify/vapid.h"

namespace todo::notify {

struct PushSubscription {
  std::string endpoint;
  std::string p256dh;  // the browser's 65-byte public key (decoded)
  std::string auth;    // the 16-byte authentication secret (decoded)
};
struct ParsedSubscription {
  std::optional<PushSubscription> subscription;
  std::string error;  // names the field: "endpoint must be an https URL", …
};
// A browser's PushSubscription.toJSON(): {"endpoint":…,"keys":{"p256dh":…,"auth":…}}. Also what
// the targets API should validate a webpush target with (the endpoint's SSRF check aside).
ParsedSubscription parse_push_subscription(std::string_view json, bool allow_private);
// For the targets API: the reason a webpush target is refused (the field and what is wrong, or
// the SSRF guard's reason for the endpoint, as check_webhook_url), or nullopt when acceptable.
std::optional<std::string> check_push_subscription(std::string_view json, bool allow_private);

// RFC 8291 §3.4 with the RFC 8188 header (salt, rs, idlen, keyid = the sender's public key),
// the plaintext as a single record. nullopt when a key is malformed or the plaintext does not
// fit one record.
std::optional<std::string> encrypt_web_push(std::string_view plaintext,
                                            std::string_view ua_public65,
                                            std::string_view auth_secret16,
                                            EVP_PKEY* sender_private, std::string_view salt16,
                                            std::uint32_t record_size = 4096);

// The JSON a service worker receives: {"type":"reminder.fired","title":…,"body":…,…}.
std::string push_payload(const Reminder& reminder);

struct WebPushOptions {
  std::string subject{};             // VAPID sub: "mailto:…" or "https://…" (--vapid-subject)
  std::chrono::seconds ttl{86'400};  // how long the push service may hold it (TTL header)
  std::string urgency = "high";      // RFC 8030 §5.3: a reminder is worth waking the device
};

class WebPushSender {
 public:
  WebPushSender(HttpClient& http, const domain::Clock& clock, Vapid vapid, WebPushOptions options)
      : http_(http), clock_(clock), vapid_(std::move(vapid)), options_(std::move(options)) {}
  Result send(const Reminder& reminder, const Target& target);
  const Vapid& vapid() const { return vapid_; }

 private:
  HttpClient& http_;
  const domain::Clock& clock_;
  Vapid vapid_;
  WebPushOptions options_;
};

}  // namespace todo::notify

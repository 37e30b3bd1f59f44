// Webhooks signed per the Standard Webhooks scheme: a JSON POST carrying webhook-id (the delivery
// id), webhook-timestamp and webhook-signature "v1,<base64 HMAC-SHA256(secret, id.ts.body)>".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "services/notify/channel.h"
#include "services/notify/http_client.h"

namespace todo::notify {

// "whsec_" + base64 of 32 random bytes; shown to the user once when the target is created.
std::string generate_webhook_secret();

// The webhook-signature header value, or nullopt when the secret is not "whsec_<base64>".
std::optional<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                             std::int64_t timestamp, std::string_view body);

// The JSON body announcing one reminder: {"type":"reminder.fired","timestamp":…,"data":{…}}.
std::string webhook_body(const Reminder& reminder, std::string_view timestamp_rfc3339);

class WebhookChannel final : public Channel {
 public:
  WebhookChannel(HttpClient& http, const domain::Clock& clock) : http_(http), clock_(clock) {}
  std::string_view name() const override { return "webhook"; }
  bool configured() const override { return true; }  // needs no operator credentials
  Result send(const Reminder& reminder, const Target& target) override;

 private:
  HttpClient& http_;
  const domain::Clock& clock_;
};

// How the HTTP channels read an answer they have no more specific rule for: 2xx delivered,
// 408/425/429 and 5xx retried, any other 4xx or a 3xx (redirects are not followed) failed;
// timeouts and transport errors retried, refusals by the SSRF guard failed.
Result classify_http(const HttpResponse& response);

}  // namespace todo::notify

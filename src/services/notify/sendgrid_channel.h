// The email channel over the SendGrid v3 Mail Send API, an alternative to SMTP.
#pragma once

#include <string>

#include "services/notify/channel.h"
#include "services/notify/http_client.h"

namespace todo::notify {

struct SendGridOptions {
  std::string api_key{};                              // --sendgrid-api-key
  std::string base_url = "https://api.sendgrid.com";  // --sendgrid-base-url, for tests
  std::string from{};                                 // --mail-from
  std::string from_name = "Todo";
};

// Subject, plain text and HTML of a reminder email (the HTML escapes everything it shows).
struct EmailContent {
  std::string subject, text, html;
};
EmailContent reminder_email(const Reminder& reminder);

class SendGridChannel final : public Channel {
 public:
  SendGridChannel(HttpClient& http, SendGridOptions options)
      : http_(http), options_(std::move(options)) {}
  std::string_view name() const override { return "email"; }
  bool configured() const override { return !options_.api_key.empty() && !options_.from.empty(); }
  Result send(const Reminder& reminder, const Target& target) override;

 private:
  HttpClient& http_;
  SendGridOptions options_;
};

}  // namespace todo::notify

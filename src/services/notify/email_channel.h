// E-mail over SMTP with libcurl (`--smtp-url smtp[s]://host:port`): one MIME message per
// delivery — UTF-8 subject (RFC 2047), plain-text and HTML parts, the due time in the user's time
// zone, a link to the task, and a Message-ID made of the delivery id so a receiver can drop the
// duplicate a crash between the server's "250 OK" and our record can cause.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "services/notify/channel.h"
#include "services/notify/channels_crypto.h"  // base64_encode

namespace todo::notify {

struct SmtpOptions {
  // smtp://host:port (STARTTLS when the server offers it) or smtps://host:port (TLS from the
  // start); user:password@ in the URL is allowed. Empty: the channel is not configured.
  std::string url;
  std::string user, password;  // override the URL's
  std::string mail_from;       // "todo@example.com" or "Todo <todo@example.com>"
  std::chrono::seconds timeout{30};
};

// Encodes a header value as RFC 2047 encoded words (UTF-8, base64) when it is not plain
// printable ASCII, each word at most 75 characters and never splitting a UTF-8 sequence; words
// are separated by folding whitespace ("\r\n ").
std::string encode_header_value(std::string_view utf8);

// The bare address of a mailbox: "Todo <a@b>" -> "a@b"; "a@b" -> "a@b".
std::string mailbox_address(std::string_view mailbox);

// The complete RFC 5322 message (CRLF line ends) for one reminder to `to`, sent at `date`.
std::string render_reminder_email(const Reminder& reminder, std::string_view from,
                                  std::string_view to, domain::Timestamp date);

class SmtpEmailChannel final : public Channel {
 public:
  SmtpEmailChannel(SmtpOptions options, const domain::Clock& clock);
  std::string_view name() const override { return "email"; }
  bool configured() const override;
  Result send(const Reminder& reminder, const Target& target) override;

 private:
  const SmtpOptions options_;
  const domain::Clock& clock_;
};

}  // namespace todo::notify

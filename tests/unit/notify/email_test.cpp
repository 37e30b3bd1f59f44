// The e-mail channel's message: RFC 2047 subject words, MIME parts, Message-ID from the delivery
// id; and the notification-target validation.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "domain/time_format.h"
#include "services/notify/email_channel.h"
#include "services/notify/notify_routes.h"

namespace todo::notify {
namespace {

std::string base64_decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    buffer = buffer << 6 | static_cast<unsigned>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

TEST(EmailHeader, AsciiStaysAsItIs) {
  EXPECT_EQ(encode_header_value("Reminder: Pay rent"), "Reminder: Pay rent");
}

TEST(EmailHeader, Utf8BecomesEncodedWordsOfAtMost75CharactersNeverSplittingACharacter) {
  std::string title = "Reminder: ";
  for (int i = 0; i < 30; ++i) title += "Müller ✓ ";
  const std::string encoded = encode_header_value(title);
  std::string decoded;
  std::size_t start = 0;
  while (start < encoded.size()) {
    auto end = encoded.find("\r\n ", start);
    const std::string word = encoded.substr(start, end == std::string::npos ? end : end - start);
    ASSERT_LE(word.size(), 75u) << word;
    ASSERT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    const std::string chunk = base64_decode(word.substr(10, word.size() - 12));
    // Each word is valid UTF-8 on its own: it starts on a character boundary.
    ASSERT_NE(static_cast<unsigned char>(chunk.front()) & 0xc0, 0x80u);
    decoded += chunk;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_EQ(decoded, title);
}

TEST(EmailMessage, HasBothPartsTheLinkAndTheDeliveryIdAsMessageId) {
  Reminder r;
  r.delivery_id = "01900000-0000-7000-8000-000000000042";
  r.task_id = "task-1";
  r.title = "Pay <rent>";
  r.due_local = "Mon 7 Dec 2026, 09:00 (Europe/Berlin)";
  r.task_url = "https://todo.example/tasks/task-1";
  const std::string m =
      render_reminder_email(r, "Todo <todo@example.com>", "a@example.com",
                            domain::parse_rfc3339("2026-12-06T08:00:00Z").value());
  EXPECT_NE(m.find("Message-ID: <01900000-0000-7000-8000-000000000042@example.com>\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Date: Sun, 06 Dec 2026 08:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: Reminder: Pay <rent>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/html; charset=UTF-8"), std::string::npos);
  EXPECT_EQ(mailbox_address("Todo <todo@example.com>"), "todo@example.com");
}

domain::Result<TargetInput> parse(std::string_view json, bool allow_private = false) {
  return parse_target_input(boost::json::parse(json).as_object(), allow_private);
}

TEST(TargetInput, EachKindNamesItsField) {
  EXPECT_EQ(parse(R"({"kind":"pager"})").error().fields.at(0).field, "kind");
  EXPECT_EQ(parse(R"({"kind":"email","address":"x"})").error().fields.at(0).field, "address");
  EXPECT_EQ(parse(R"({"kind":"fcm","token":""})").error().fields.at(0).field, "token");
  EXPECT_EQ(parse(R"({"kind":"webhook","url":"http://example.com/"})").error().fields.at(0).field,
            "url");
  EXPECT_TRUE(parse(R"({"kind":"webhook","url":"http://example.com/"})", true));
  EXPECT_EQ(parse(R"({"kind":"email","address":" A@B.example "})")->address, "a@b.example");
}

TEST(TargetInput, PushEndpointsAreHttpsUnlessPrivateDestinationsAreAllowed) {
  // A real uncompressed P-256 point is not needed here: only the length and prefix are read.
  const std::string p256dh = base64url_encode(std::string(1, '\x04') + std::string(64, '\x01'));
  const std::string auth = base64url_encode(std::string(16, '\x02'));
  const auto body = [&](std::string_view endpoint) {
    return R"({"kind":"webpush","subscription":{"endpoint":")" + std::string(endpoint) +
           R"(","keys":{"p256dh":")" + p256dh + R"(","auth":")" + auth + R"("}}})";
  };
  EXPECT_EQ(parse(body("http://127.0.0.1:9/push")).error().fields.at(0).field,
            "subscription.endpoint");
  auto allowed = parse(body("http://127.0.0.1:9/push"), true);
  ASSERT_TRUE(allowed);
  EXPECT_NE(allowed->address.find("http://127.0.0.1:9/push"), std::string::npos);
  EXPECT_TRUE(parse(body("https://push.example.com/x")));
}

TEST(WebhookHosts, LiteralPrivateAddressesAreRefused) {
  for (const char* host :
       {"localhost", "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "0.0.0.0", "[::1]", "[fd00::1]", "[fe80::1]", "[::ffff:127.0.0.1]"}) {
    EXPECT_TRUE(literal_webhook_host_refusal(host).has_value()) << host;
  }
  for (const char* host : {"example.com", "93.184.216.34", "[2606:4700::1111]"}) {
    EXPECT_FALSE(literal_webhook_host_refusal(host).has_value()) << host;
  }
}

}  // namespace
}  // namespace todo::notify

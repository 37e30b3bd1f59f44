// SendGrid against tests/notify_peers/sendgrid.py, which checks the Mail Send JSON.
#include "services/notify/sendgrid_channel.h"

#include <gtest/gtest.h>

#include "notify_channels/peer.h"

namespace todo::notify {
namespace {

using testing::errors_of;
using testing::Peer;
using testing::sample_reminder;
using testing::text;

class SendGridTest : public ::testing::Test {
 protected:
  SendGridChannel channel(std::string key = "SG.test-key", std::string path = "") {
    return SendGridChannel(http_, SendGridOptions{.api_key = std::move(key),
                                                  .base_url = peer_.origin() + path,
                                                  .from = "reminders@todo.example.com"});
  }
  Peer peer_{"sendgrid.py", {"--api-key", "SG.test-key"}};
  CurlHttpClient http_{CurlHttpClientOptions{.allow_private = true}};
};

TEST_F(SendGridTest, SendsAMailSendRequestSendGridAccepts) {
  Reminder reminder = sample_reminder();
  reminder.late = true;
  Result result = channel().send(reminder, Target{"t", "email", "ada@example.com", ""});
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.error;
  EXPECT_FALSE(result.provider_id.empty());

  auto got = peer_.next();
  EXPECT_EQ(errors_of(got), "[]");
  const auto& mail = got.at("json").as_object();
  EXPECT_EQ(text(mail.at("personalizations").at(0).at("to").at(0).at("email")), "ada@example.com");
  EXPECT_EQ(text(mail.at("from").at("email")), "reminders@todo.example.com");
  EXPECT_EQ(text(mail.at("subject")), "Reminder (late): " + reminder.title);
  EXPECT_EQ(text(mail.at("custom_args").at("delivery_id")), reminder.delivery_id);
  std::string plain = text(mail.at("content").at(0).at("value"));
  std::string html = text(mail.at("content").at(1).at("value"));
  EXPECT_NE(plain.find(reminder.due_local), std::string::npos);
  EXPECT_NE(plain.find(reminder.task_url), std::string::npos);
  EXPECT_NE(html.find("Pay the &lt;rent&gt;"), std::string::npos) << html;
  EXPECT_EQ(html.find("<rent>"), std::string::npos);
}

TEST_F(SendGridTest, AWrongKeyFailsAndAnOutageIsRetried) {
  Result wrong =
      channel("SG.other").send(sample_reminder(), Target{"t", "email", "a@example.com", ""});
  EXPECT_EQ(wrong.outcome, Outcome::kFailed);
  EXPECT_NE(wrong.error.find("SendGrid refused the API key"), std::string::npos) << wrong.error;
  EXPECT_EQ(errors_of(peer_.next()), R"(["wrong API key"])");

  Result outage = channel("SG.test-key", "/status/503")
                      .send(sample_reminder(), Target{"t", "email", "a@example.com", ""});
  EXPECT_EQ(outage.outcome, Outcome::kRetry);
  EXPECT_EQ(errors_of(peer_.next()), "[]");
}

TEST(SendGrid, IsNotConfiguredWithoutAKeyOrSender) {
  CurlHttpClient http;
  SendGridChannel no_key(http, SendGridOptions{.from = "a@example.com"});
  EXPECT_EQ(no_key.name(), "email");
  EXPECT_FALSE(no_key.configured());
  EXPECT_EQ(no_key.send(sample_reminder(), Target{"t", "email", "b@example.com", ""}).outcome,
            Outcome::kNotConfigured);
  EXPECT_FALSE(SendGridChannel(http, SendGridOptions{.api_key = "SG.x"}).configured());
}

TEST(ReminderEmail, PutsTheTitleOnOneSubjectLine) {
  Reminder r = sample_reminder();
  r.title = "line one\nBcc: victim@example.com";
  EXPECT_EQ(reminder_email(r).subject, "Reminder: line one Bcc: victim@example.com");
}

}  // namespace
}  // namespace todo::notify

// The webhook channel against tests/notify_peers/webhook.py, which recomputes the signature with
// Python's hmac; and the HTTP client's limits (timeouts, size, redirects, the SSRF guard).
#include "services/notify/webhook_channel.h"

#include <gtest/gtest.h>

#include "notify_channels/peer.h"

namespace todo::notify {
namespace {

using testing::errors_of;
using testing::Peer;
using testing::sample_reminder;
using testing::text;

class WebhookChannelTest : public ::testing::Test {
 protected:
  std::string secret_ = generate_webhook_secret();
  Peer peer_{"webhook.py", {"--secret", secret_}};
  domain::SystemClock clock_;
  CurlHttpClient http_{CurlHttpClientOptions{.allow_private = true}};
  WebhookChannel channel_{http_, clock_};

  Target target(std::string path = "/hook") {
    return Target{"t1", "webhook", peer_.origin() + path, secret_};
  }
};

TEST_F(WebhookChannelTest, DeliversASignedReminderTheReceiverVerifies) {
  Reminder reminder = sample_reminder();
  Result result = channel_.send(reminder, target());
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.error;

  auto got = peer_.next();
  EXPECT_EQ(errors_of(got), "[]");
  EXPECT_EQ(text(got.at("headers").at("webhook-id")), reminder.delivery_id);
  const auto& data = got.at("json").at("data").as_object();
  EXPECT_EQ(text(data.at("delivery_id")), reminder.delivery_id);
  EXPECT_EQ(text(data.at("task_id")), reminder.task_id);
  EXPECT_EQ(text(data.at("title")), reminder.title);
  EXPECT_EQ(text(data.at("due_at")), reminder.due_at_utc);
  EXPECT_EQ(text(data.at("due_local")), reminder.due_local);
  EXPECT_EQ(text(data.at("task_url")), reminder.task_url);
  EXPECT_EQ(text(data.at("late")), "false");
}

TEST_F(WebhookChannelTest, ASignatureWithAnotherSecretIsRefusedByTheReceiver) {
  Target wrong = target();
  wrong.secret = generate_webhook_secret();
  Result result = channel_.send(sample_reminder(), wrong);
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_NE(result.error.find("HTTP 401"), std::string::npos) << result.error;
  EXPECT_EQ(errors_of(peer_.next()), R"(["webhook-signature does not verify"])");
}

TEST_F(WebhookChannelTest, MapsTheReceiversAnswers) {
  struct Want {
    const char* path;
    Outcome outcome;
  };
  for (auto [path, outcome] :
       {Want{"/status/200/hook", Outcome::kDelivered},
        Want{"/status/410/hook", Outcome::kTargetGone}, Want{"/status/400/hook", Outcome::kFailed},
        Want{"/status/404/hook", Outcome::kFailed}, Want{"/status/302/hook", Outcome::kFailed},
        Want{"/status/429/hook", Outcome::kRetry}, Want{"/status/500/hook", Outcome::kRetry},
        Want{"/status/503/hook", Outcome::kRetry}}) {
    Result result = channel_.send(sample_reminder(), target(path));
    EXPECT_EQ(result.outcome, outcome) << path << ": " << result.error;
    EXPECT_EQ(errors_of(peer_.next()), "[]") << path;
  }
}

TEST_F(WebhookChannelTest, ARedirectIsNotFollowed) {
  Result result = channel_.send(sample_reminder(), target("/status/307/hook"));
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_NE(result.error.find("redirects are not followed"), std::string::npos) << result.error;
}

TEST_F(WebhookChannelTest, AMalformedSecretFailsWithoutARequest) {
  Target bad = target();
  bad.secret = "not-a-secret";
  EXPECT_EQ(channel_.send(sample_reminder(), bad).outcome, Outcome::kFailed);
}

TEST_F(WebhookChannelTest, TheGuardRefusesPlainHttpAndLoopbackWithoutAllowPrivate) {
  CurlHttpClient guarded;  // allow_private = false
  WebhookChannel channel(guarded, clock_);
  Result http = channel.send(sample_reminder(), target());
  EXPECT_EQ(http.outcome, Outcome::kFailed);
  EXPECT_EQ(http.error, "scheme must be https");

  Target https = target();
  https.address = "https://127.0.0.1:" + peer_.port() + "/hook";
  Result loopback = channel.send(sample_reminder(), https);
  EXPECT_EQ(loopback.outcome, Outcome::kFailed);
  EXPECT_EQ(loopback.error, "127.0.0.1 resolves to a loopback address");

  https.address = "https://localhost:" + peer_.port() + "/hook";
  EXPECT_EQ(channel.send(sample_reminder(), https).error,
            "localhost resolves to a loopback address");
}

TEST_F(WebhookChannelTest, TimeoutsAndOversizedAnswersAreTransportFailures) {
  HttpRequest slow;
  slow.url = peer_.origin() + "/slow/3000/hook";
  slow.timeout = std::chrono::milliseconds(300);
  HttpResponse timed_out = http_.send(slow);
  EXPECT_EQ(timed_out.failure, HttpFailure::kTimeout) << timed_out.error;
  EXPECT_EQ(classify_http(timed_out).outcome, Outcome::kRetry);

  CurlHttpClient small(CurlHttpClientOptions{.allow_private = true, .response_limit = 1000});
  HttpRequest big;
  big.url = peer_.origin() + "/big/5000/hook";
  HttpResponse too_large = small.send(big);
  EXPECT_EQ(too_large.failure, HttpFailure::kTooLarge) << too_large.error;
}

TEST_F(WebhookChannelTest, ANameIsResolvedOnceAndItsVettedAddressesPinned) {
  // With allow_private the name is still resolved by the guard and handed to curl pinned
  // (CURLOPT_RESOLVE); the request reaches the receiver through that.
  Target by_name = target();
  by_name.address = "http://localhost:" + peer_.port() + "/hook";
  Result result = channel_.send(sample_reminder(), by_name);
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.error;
  EXPECT_EQ(errors_of(peer_.next()), "[]");
}

TEST_F(WebhookChannelTest, DeliveriesFromOneThreadShareOneConnection) {
  // The receiver sees the second request on the connection the first one opened (keep-alive),
  // and a failing answer in between does not cost the connection either.
  ASSERT_EQ(channel_.send(sample_reminder(), target()).outcome, Outcome::kDelivered);
  const auto first = peer_.next();
  ASSERT_EQ(channel_.send(sample_reminder(), target("/status/503/hook")).outcome,
            Outcome::kRetry);
  const auto second = peer_.next();
  ASSERT_EQ(channel_.send(sample_reminder(), target()).outcome, Outcome::kDelivered);
  const auto third = peer_.next();
  EXPECT_EQ(first.at("client_port"), second.at("client_port"));
  EXPECT_EQ(first.at("client_port"), third.at("client_port"));
}

TEST_F(WebhookChannelTest, AConnectionRefusedIsRetried) {
  Target closed = target();
  closed.address = "http://127.0.0.1:1/hook";
  Result result = channel_.send(sample_reminder(), closed);
  EXPECT_EQ(result.outcome, Outcome::kRetry) << result.error;
}

}  // namespace
}  // namespace todo::notify

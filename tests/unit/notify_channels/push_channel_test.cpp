// Web Push against tests/notify_peers/push_service.py, which decrypts each message with the
// subscription's private key and verifies the VAPID JWT; the push channel's dispatch; VAPID keys.
#include "services/notify/push_channel.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "notify_channels/peer.h"

namespace todo::notify {
namespace {

using testing::errors_of;
using testing::Peer;
using testing::sample_reminder;
using testing::text;

Vapid test_vapid() {
  return std::move(
      *Vapid::from_keys(base64url_encode(p256_private_raw(generate_p256_key().get())), "").vapid);
}

class WebPushTest : public ::testing::Test {
 protected:
  WebPushTest() {
    vapid_public_ = vapid_.public_key();
    sender_ = std::make_unique<WebPushSender>(http_, clock_, std::move(vapid_),
                                              WebPushOptions{.subject = "mailto:ops@example.com"});
  }
  Target target(std::string path = "/push/sub1") {
    boost::json::object sub = peer_.hello().at("subscription").as_object();
    sub["endpoint"] = peer_.origin() + path;
    return Target{"t1", "webpush", boost::json::serialize(sub), ""};
  }

  Vapid vapid_ = test_vapid();
  std::string vapid_public_;
  Peer peer_{"push_service.py", {"--vapid-public-key", vapid_public_}};
  domain::SystemClock clock_;
  CurlHttpClient http_{CurlHttpClientOptions{.allow_private = true}};
  std::unique_ptr<WebPushSender> sender_;
};

TEST_F(WebPushTest, ThePushServiceDecryptsTheReminderAndVerifiesVapid) {
  Reminder reminder = sample_reminder();
  Result result = sender_->send(reminder, target());
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.error;
  EXPECT_EQ(result.provider_id, peer_.origin() + "/messages/1");

  auto got = peer_.next();
  EXPECT_EQ(errors_of(got), "[]");
  EXPECT_EQ(text(got.at("plaintext")), push_payload(reminder));
  auto payload = boost::json::parse(text(got.at("plaintext"))).as_object();
  EXPECT_EQ(text(payload.at("title")), reminder.title);
  EXPECT_EQ(text(payload.at("url")), reminder.task_url);
  EXPECT_EQ(text(got.at("claims").at("aud")), peer_.origin());
  EXPECT_EQ(text(got.at("claims").at("sub")), "mailto:ops@example.com");
  EXPECT_EQ(text(got.at("headers").at("TTL")), "86400");
  EXPECT_EQ(text(got.at("headers").at("Urgency")), "high");
}

TEST_F(WebPushTest, TheServiceNoticesAnotherServersKey) {
  // A peer pinned to a different VAPID key refuses the JWT: the check can fail.
  Peer other("push_service.py",
             {"--vapid-public-key", base64url_encode(p256_public_raw(generate_p256_key().get()))});
  boost::json::object sub = other.hello().at("subscription").as_object();
  Result result =
      sender_->send(sample_reminder(), Target{"t", "webpush", boost::json::serialize(sub), ""});
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(errors_of(other.next()), R"(["k is not the expected VAPID public key"])");
}

TEST_F(WebPushTest, GoneSubscriptionsAndOtherAnswers) {
  EXPECT_EQ(sender_->send(sample_reminder(), target("/status/410/push/sub1")).outcome,
            Outcome::kTargetGone);
  EXPECT_EQ(sender_->send(sample_reminder(), target("/status/404/push/sub1")).outcome,
            Outcome::kTargetGone);
  EXPECT_EQ(sender_->send(sample_reminder(), target("/status/429/push/sub1")).outcome,
            Outcome::kRetry);
  EXPECT_EQ(sender_->send(sample_reminder(), target("/status/413/push/sub1")).outcome,
            Outcome::kFailed);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(errors_of(peer_.next()), "[]");
}

TEST_F(WebPushTest, AMalformedSubscriptionFailsWithItsReason) {
  Result result =
      sender_->send(sample_reminder(), Target{"t", "webpush", R"({"endpoint":"https://x/"})", ""});
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.error, "invalid subscription: keys must be an object with p256dh and auth");
}

TEST(PushSubscription, ParsesABrowsersSubscriptionAndNamesTheBadField) {
  std::string p256dh = base64url_encode(p256_public_raw(generate_p256_key().get()));
  std::string auth = base64url_encode(std::string(16, 'a'));
  auto make = [&](std::string endpoint, std::string key, std::string secret) {
    return boost::json::serialize(
        boost::json::object{{"endpoint", endpoint},
                            {"expirationTime", nullptr},
                            {"keys", {{"p256dh", key}, {"auth", secret}}}});
  };
  auto ok = parse_push_subscription(make("https://push.example.net/x", p256dh, auth), false);
  ASSERT_TRUE(ok.subscription) << ok.error;
  EXPECT_EQ(ok.subscription->auth, std::string(16, 'a'));
  EXPECT_EQ(parse_push_subscription(make("http://push.example.net/x", p256dh, auth), false).error,
            "endpoint must be an https URL");
  EXPECT_EQ(parse_push_subscription(make("https://p/x", "AAAA", auth), false).error,
            "keys.p256dh must be base64url of an uncompressed P-256 point");
  EXPECT_EQ(parse_push_subscription(make("https://p/x", p256dh, "AAAA"), false).error,
            "keys.auth must be base64url of 16 bytes");
  EXPECT_EQ(parse_push_subscription("[]", false).error,
            "address must be a PushSubscription JSON object");
}

TEST(PushSubscription, TheTargetsApiCheckAlsoVetsTheEndpointsAddress) {
  std::string keys = R"(,"keys":{"p256dh":")" +
                     base64url_encode(p256_public_raw(generate_p256_key().get())) +
                     R"(","auth":")" + base64url_encode(std::string(16, 'a')) + R"("}})";
  EXPECT_EQ(
      check_push_subscription(R"({"endpoint":"https://127.0.0.1/p")" + keys, false).value_or("ok"),
      "endpoint: 127.0.0.1 resolves to a loopback address");
  EXPECT_EQ(
      check_push_subscription(R"({"endpoint":"https://8.8.8.8/p")" + keys, false).value_or("ok"),
      "ok");
  EXPECT_EQ(
      check_push_subscription(R"({"endpoint":"http://127.0.0.1:9/p")" + keys, true).value_or("ok"),
      "ok");
  EXPECT_EQ(check_push_subscription(R"({"endpoint":5})", false).value_or("ok"),
            "endpoint must be a string");
}

TEST(PushPayload, ALongTitleIsCutSoTheMessageFitsOneRecord) {
  Reminder r = sample_reminder();
  r.title = std::string(1023, 'x') + "é" + std::string(5000, 'y');  // the cut falls inside "é"
  std::string payload = push_payload(r);
  EXPECT_LT(payload.size(), 4096u - 86 - 17);
  std::string title(boost::json::parse(payload).at("title").as_string());
  EXPECT_EQ(title, std::string(1023, 'x') + "…");
  PKey key = generate_p256_key();
  EXPECT_TRUE(encrypt_web_push(payload, p256_public_raw(generate_p256_key().get()),
                               std::string(16, 'a'), key.get(), std::string(16, 's')));
}

TEST(PushChannel, EachSideIsNotConfiguredWithoutItsKeys) {
  PushChannel none(nullptr, nullptr);
  EXPECT_EQ(none.name(), "push");
  EXPECT_FALSE(none.configured());
  EXPECT_EQ(none.vapid(), nullptr);
  EXPECT_EQ(none.send(sample_reminder(), Target{"t", "webpush", "{}", ""}).outcome,
            Outcome::kNotConfigured);
  EXPECT_EQ(none.send(sample_reminder(), Target{"t", "fcm", "token", ""}).outcome,
            Outcome::kNotConfigured);

  domain::SystemClock clock;
  CurlHttpClient http;
  PushChannel web_only(std::make_unique<WebPushSender>(http, clock, test_vapid(), WebPushOptions{}),
                       nullptr);
  EXPECT_TRUE(web_only.configured());
  EXPECT_TRUE(web_only.configured_for("webpush"));
  EXPECT_FALSE(web_only.configured_for("fcm"));
  EXPECT_NE(web_only.vapid(), nullptr);
  EXPECT_EQ(web_only.send(sample_reminder(), Target{"t", "fcm", "token", ""}).outcome,
            Outcome::kNotConfigured);
  EXPECT_EQ(web_only.send(sample_reminder(), Target{"t", "email", "a@b.c", ""}).outcome,
            Outcome::kFailed);
}

TEST(VapidKeys, AreGeneratedOnceIntoTheDataDirReadableOnlyByTheOwner) {
  auto dir =
      std::filesystem::temp_directory_path() / ("vapid-" + base64url_encode(random_bytes(6)));
  auto first = Vapid::load_or_create(dir);
  ASSERT_TRUE(first.vapid) << first.error;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "vapid-private-key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = Vapid::load_or_create(dir);
  ASSERT_TRUE(second.vapid) << second.error;
  EXPECT_EQ(second.vapid->public_key(), first.vapid->public_key());
  EXPECT_EQ(base64_decode(first.vapid->public_key())->size(), 65u);

  std::filesystem::resize_file(dir / "vapid-private-key", 5);
  EXPECT_FALSE(Vapid::load_or_create(dir).vapid);  // a damaged file is an error, not a new key
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace todo::notify

namespace todo::notify {
namespace {

TEST(MakePushChannel, GeneratesVapidKeysAndTakesTheSubjectFromMailFrom) {
  auto dir = std::filesystem::temp_directory_path() / ("push-" + base64url_encode(random_bytes(6)));
  domain::SystemClock clock;
  CurlHttpClient http;
  auto built = make_push_channel(
      http, clock, PushChannelConfig{.data_dir = dir, .mail_from = "ops@example.com"});
  ASSERT_TRUE(built.channel) << built.error;
  EXPECT_TRUE(built.channel->configured_for("webpush"));
  EXPECT_FALSE(built.channel->configured_for("fcm"));
  EXPECT_TRUE(std::filesystem::exists(dir / "vapid-private-key"));

  auto no_subject = make_push_channel(http, clock, PushChannelConfig{.data_dir = dir});
  ASSERT_TRUE(no_subject.channel) << no_subject.error;
  EXPECT_FALSE(no_subject.channel->configured());

  EXPECT_EQ(
      make_push_channel(http, clock, PushChannelConfig{.data_dir = dir, .vapid_subject = "ops"})
          .error,
      "--vapid-subject must be a mailto: or https: URL");
  EXPECT_EQ(
      make_push_channel(http, clock, PushChannelConfig{.data_dir = dir, .vapid_public_key = "x"})
          .error,
      "--vapid-public-key needs --vapid-private-key");
  EXPECT_NE(
      make_push_channel(http, clock,
                        PushChannelConfig{.data_dir = dir, .fcm_credentials = dir / "missing.json"})
          .error,
      "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace todo::notify

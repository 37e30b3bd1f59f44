// FCM against tests/notify_peers/fcm.py: its token endpoint verifies the RS256 assertion with the
// service account's public key, its send endpoint accepts only tokens it issued.
#include "services/notify/fcm_channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "notify_channels/peer.h"

namespace todo::notify {
namespace {

using testing::errors_of;
using testing::Peer;
using testing::sample_reminder;
using testing::text;

std::string temp_file(std::string_view stem) {
  return (std::filesystem::temp_directory_path() /
          (std::string(stem) + "-" + base64url_encode(random_bytes(6)) + ".json"))
      .string();
}

class FcmTest : public ::testing::Test {
 protected:
  ~FcmTest() override { std::filesystem::remove(file_); }
  FcmSender sender(FcmOptions options = {}) {
    auto loaded = load_fcm_credentials(file_);
    EXPECT_TRUE(loaded.credentials) << loaded.error;
    options.base_url = text(peer_.hello().at("base_url"));
    return FcmSender(http_, clock_, std::move(*loaded.credentials), options);
  }

  std::string file_ = temp_file("fcm");
  Peer peer_{"fcm.py", {"--credentials-out", file_}};
  domain::SystemClock clock_;
  CurlHttpClient http_{CurlHttpClientOptions{.allow_private = true}};
};

TEST_F(FcmTest, GetsATokenWithAVerifiedAssertionThenSendsAndReusesIt) {
  FcmSender fcm = sender();
  Reminder reminder = sample_reminder();
  Result result = fcm.send(reminder, Target{"t", "fcm", "device-token-1", ""});
  EXPECT_EQ(result.outcome, Outcome::kDelivered) << result.error;
  EXPECT_TRUE(result.provider_id.starts_with("projects/todo-test/messages/")) << result.provider_id;

  auto token = peer_.next();
  EXPECT_EQ(text(token.at("kind")), "token");
  EXPECT_EQ(errors_of(token), "[]");
  EXPECT_EQ(text(token.at("claims").at("scope")), kFcmScope);
  auto send = peer_.next();
  EXPECT_EQ(text(send.at("kind")), "send");
  EXPECT_EQ(errors_of(send), "[]");
  const auto& message = send.at("json").as_object();
  EXPECT_EQ(text(message.at("token")), "device-token-1");
  EXPECT_EQ(text(message.at("notification").at("title")), reminder.title);
  EXPECT_EQ(text(message.at("data").at("delivery_id")), reminder.delivery_id);
  EXPECT_EQ(text(message.at("data").at("late")), "false");

  EXPECT_EQ(fcm.send(reminder, Target{"t", "fcm", "device-token-2", ""}).outcome,
            Outcome::kDelivered);
  EXPECT_EQ(text(peer_.next().at("kind")), "send");  // the cached token, no second grant
}

TEST_F(FcmTest, ATokenCloseToExpiryIsRenewed) {
  // The peer's tokens live 3600 s; renewing 3700 s before expiry means every send needs a new one.
  FcmSender fcm = sender(FcmOptions{.refresh_margin = std::chrono::seconds(3700)});
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(fcm.send(sample_reminder(), Target{"t", "fcm", "tok", ""}).outcome,
              Outcome::kDelivered);
  }
  std::vector<std::string> kinds;
  for (int i = 0; i < 4; ++i) kinds.push_back(text(peer_.next().at("kind")));
  EXPECT_EQ(kinds, (std::vector<std::string>{"token", "send", "token", "send"}));
}

TEST_F(FcmTest, ConcurrentSendsShareOneTokenRequest) {
  FcmSender fcm = sender();
  std::vector<std::thread> threads;
  std::atomic<int> delivered{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (fcm.send(sample_reminder(), Target{"t", "fcm", "tok", ""}).outcome ==
          Outcome::kDelivered) {
        ++delivered;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(delivered, 6);
  int tokens = 0;
  for (int i = 0; i < 7; ++i) tokens += text(peer_.next().at("kind")) == "token";
  EXPECT_EQ(tokens, 1);
}

TEST_F(FcmTest, AnUnregisteredTokenIsGone) {
  Result result = sender().send(sample_reminder(), Target{"t", "fcm", "unregistered-1", ""});
  EXPECT_EQ(result.outcome, Outcome::kTargetGone) << result.error;
}

TEST_F(FcmTest, AnAssertionSignedWithAnotherKeyIsRefusedAndNotRetried) {
  // Credentials of a second peer (another key) sent to this peer's token endpoint.
  std::string other_file = temp_file("fcm-other");
  { Peer other("fcm.py", {"--credentials-out", other_file}); }
  std::ifstream in(other_file);
  std::string json((std::istreambuf_iterator<char>(in)), {});
  auto creds = boost::json::parse(json).as_object();
  creds["token_uri"] = peer_.origin() + "/token";
  auto loaded = parse_fcm_credentials(boost::json::serialize(creds));
  std::filesystem::remove(other_file);
  ASSERT_TRUE(loaded.credentials) << loaded.error;
  FcmSender fcm(http_, clock_, std::move(*loaded.credentials),
                FcmOptions{.base_url = peer_.origin()});
  Result result = fcm.send(sample_reminder(), Target{"t", "fcm", "tok", ""});
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_NE(result.error.find("HTTP 400"), std::string::npos) << result.error;
  EXPECT_EQ(errors_of(peer_.next()), R"(["assertion signature does not verify"])");
}

TEST(FcmRevokedToken, IsDroppedAndTheNextAttemptGetsANewOne) {
  std::string file = temp_file("fcm-revoke");
  Peer peer("fcm.py", {"--credentials-out", file, "--revoke-after", "1"});
  auto loaded = load_fcm_credentials(file);
  std::filesystem::remove(file);
  ASSERT_TRUE(loaded.credentials) << loaded.error;
  domain::SystemClock clock;
  CurlHttpClient http(CurlHttpClientOptions{.allow_private = true});
  FcmSender fcm(http, clock, std::move(*loaded.credentials), FcmOptions{.base_url = peer.origin()});
  Target target{"t", "fcm", "tok", ""};
  EXPECT_EQ(fcm.send(sample_reminder(), target).outcome, Outcome::kDelivered);
  Result revoked = fcm.send(sample_reminder(), target);  // the peer forgot its tokens
  EXPECT_EQ(revoked.outcome, Outcome::kRetry);
  EXPECT_EQ(revoked.error, "FCM: HTTP 401, access token refused");
  EXPECT_EQ(fcm.send(sample_reminder(), target).outcome, Outcome::kDelivered);
  std::vector<std::string> kinds;
  for (int i = 0; i < 5; ++i) kinds.push_back(text(peer.next().at("kind")));
  EXPECT_EQ(kinds, (std::vector<std::string>{"token", "send", "send", "token", "send"}));
}

TEST(FcmCredentials, NameWhatIsMissing) {
  EXPECT_EQ(parse_fcm_credentials("{").error, "not a JSON object");
  EXPECT_EQ(parse_fcm_credentials(R"({"client_email":"a@b","token_uri":"https://t"})").error,
            "project_id is missing");
  EXPECT_EQ(
      parse_fcm_credentials(
          R"({"client_email":"a@b","token_uri":"https://t","project_id":"p","private_key":"x"})")
          .error,
      "private_key is not an RSA private key in PEM form");
  EXPECT_FALSE(load_fcm_credentials("/nonexistent/fcm.json").credentials);
}

}  // namespace
}  // namespace todo::notify

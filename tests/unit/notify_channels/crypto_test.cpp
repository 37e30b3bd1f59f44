// RFC 8291's worked example, the Standard Webhooks signature, JWT shapes and base64.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "services/notify/channels_crypto.h"
#include "services/notify/fcm_channel.h"
#include "services/notify/vapid.h"
#include "services/notify/web_push.h"
#include "services/notify/webhook_channel.h"

namespace todo::notify {
namespace {

std::string b64(std::string_view s) { return base64_decode(s).value(); }

// RFC 8291 §5 (and Appendix A): fixed keys and salt give exactly this message.
TEST(WebPushEncryption, MatchesRfc8291Example) {
  PKey as_private = p256_private_key(b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"));
  ASSERT_TRUE(as_private);
  EXPECT_EQ(
      base64url_encode(p256_public_raw(as_private.get())),
      "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
  auto body = encrypt_web_push("When I grow up, I want to be a watermelon",
                               b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-"
                                   "AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
                               b64("BTBZMqHH6r4Tts7J_aSIgg"), as_private.get(),
                               b64("DGv6ra1nlYgDCS1FRnbzlw"));
  ASSERT_TRUE(body);
  EXPECT_EQ(base64url_encode(*body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocIn"
            "mYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNW"
            "QexSgSxsj_Qulcy4a-fN");
}

TEST(WebPushEncryption, RefusesWhatDoesNotFitOneRecordOrBadKeys) {
  PKey key = generate_p256_key();
  std::string ua = p256_public_raw(generate_p256_key().get());
  EXPECT_FALSE(encrypt_web_push(std::string(4096 - 16, 'x'), ua, std::string(16, 'a'), key.get(),
                                std::string(16, 's')));
  EXPECT_TRUE(encrypt_web_push(std::string(4096 - 17, 'x'), ua, std::string(16, 'a'), key.get(),
                               std::string(16, 's')));
  std::string off_curve = ua;
  off_curve[40] ^= 1;
  EXPECT_FALSE(
      encrypt_web_push("x", off_curve, std::string(16, 'a'), key.get(), std::string(16, 's')));
  EXPECT_FALSE(encrypt_web_push("x", ua, std::string(15, 'a'), key.get(), std::string(16, 's')));
}

// Standard Webhooks' own example (its reference libraries' tests): this secret, id, timestamp
// and body sign to this value.
TEST(WebhookSignature, MatchesTheStandardWebhooksExample) {
  auto sig =
      webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        1614265330, R"({"test": 2432232314})");
  ASSERT_TRUE(sig);
  EXPECT_EQ(*sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, RefusesSecretsThatAreNotWhsecBase64) {
  EXPECT_FALSE(webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, "{}"));
  EXPECT_FALSE(webhook_signature("whsec_", "id", 1, "{}"));
  EXPECT_FALSE(webhook_signature("whsec_%%%", "id", 1, "{}"));
}

TEST(WebhookSecret, IsWhsecWith32RandomBytes) {
  std::string a = generate_webhook_secret(), b = generate_webhook_secret();
  ASSERT_TRUE(a.starts_with("whsec_"));
  EXPECT_EQ(base64_decode(a.substr(6)).value().size(), 32u);
  EXPECT_NE(a, b);
}

TEST(Base64, RoundTripsBothAlphabetsAndRefusesJunk) {
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_decode("+/8=").value(), "\xfb\xff");
  EXPECT_EQ(base64_decode("-_8").value(), "\xfb\xff");
  EXPECT_FALSE(base64_decode("a"));
  EXPECT_FALSE(base64_decode("ab c"));
  EXPECT_FALSE(base64_decode("-_9"));  // non-zero trailing bits
}

boost::json::object part_of(const std::string& jwt, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = jwt.find('.', start) + 1;
  std::size_t end = jwt.find('.', start);
  return boost::json::parse(base64_decode(jwt.substr(start, end - start)).value()).as_object();
}

TEST(Vapid, AuthorizationIsAnEs256JwtForTheEndpointOrigin) {
  auto loaded = Vapid::from_keys("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw", "");
  ASSERT_TRUE(loaded.vapid) << loaded.error;
  auto now = domain::Timestamp{std::chrono::seconds(1'800'000'000)};
  auto header = loaded.vapid->authorization("https://push.example.net:8443/wpush/v2/abc",
                                            "mailto:ops@example.com", now);
  ASSERT_TRUE(header);
  ASSERT_TRUE(header->starts_with("vapid t="));
  auto k = header->find(", k=");
  ASSERT_NE(k, std::string::npos);
  EXPECT_EQ(header->substr(k + 4), loaded.vapid->public_key());
  std::string jwt = header->substr(8, k - 8);
  EXPECT_EQ(std::count(jwt.begin(), jwt.end(), '.'), 2);
  EXPECT_EQ(part_of(jwt, 0), (boost::json::object{{"typ", "JWT"}, {"alg", "ES256"}}));
  auto claims = part_of(jwt, 1);
  EXPECT_EQ(claims.at("aud"), "https://push.example.net:8443");
  EXPECT_EQ(claims.at("sub"), "mailto:ops@example.com");
  EXPECT_EQ(claims.at("exp").as_int64(), 1'800'000'000 + 12 * 3600);
  EXPECT_EQ(base64_decode(jwt.substr(jwt.rfind('.') + 1)).value().size(), 64u);  // raw r‖s
}

TEST(Vapid, OriginDropsDefaultPortsAndKeepsIpv6Brackets) {
  EXPECT_EQ(url_origin("https://fcm.googleapis.com/fcm/send/x").value(),
            "https://fcm.googleapis.com");
  EXPECT_EQ(url_origin("http://[::1]:8080/p").value(), "http://[::1]:8080");
  EXPECT_FALSE(url_origin("ftp://example.com/"));
}

TEST(Vapid, RefusesAPublicKeyOfAnotherPair) {
  std::string other = base64url_encode(p256_public_raw(generate_p256_key().get()));
  EXPECT_FALSE(Vapid::from_keys("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw", other).vapid);
  EXPECT_TRUE(
      Vapid::from_keys(
          "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
          "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
          .vapid);
  EXPECT_FALSE(Vapid::from_keys("AAAA", "").vapid);
}

}  // namespace
}  // namespace todo::notify

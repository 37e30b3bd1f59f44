// HS256 JWT issuing and strict verification. Most tokens here are built by hand, signed with
// libsodium's HMAC directly, so that verify() is tested independently of issue().
#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "auth/tokens.h"
#include "domain/ids.h"
#include "support/seeded_random.h"

namespace todo::auth {
namespace {

namespace json = boost::json;
using namespace std::chrono;
using domain::ErrorCode;

constexpr std::int64_t kNow = 1'767'225'600;  // 2026-01-01T00:00:00Z
constexpr std::string_view kSecret = "test-secret-test-secret-test-secret-0123";
constexpr std::string_view kStandardHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::string_view kUserId = "0190b4c4-7d3e-7a8b-9c0d-1e2f3a4b5c6d";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

// header.payload.signature from raw (already serialised) header and payload text.
std::string sign(std::string_view header, std::string_view payload,
                 std::string_view secret = kSecret) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  return input + "." + base64url_encode(hmac_sha256(secret, input));
}

json::object valid_claims() {
  return json::object{{"sub", kUserId},    {"email", "alice@example.com"},
                      {"role", "user"},    {"iat", kNow},
                      {"exp", kNow + 900}, {"iss", "todo"},
                      {"aud", "todo-api"}, {"jti", "0190b4c4-7d3e-7a8b-9c0d-000000000001"}};
}

std::string sign_claims(const json::object& claims, std::string_view header = kStandardHeader) {
  return sign(header, json::serialize(claims));
}

std::string with_claims(const std::function<void(json::object&)>& edit) {
  json::object claims = valid_claims();
  edit(claims);
  return sign_claims(claims);
}

class JwtTest : public ::testing::Test {
 protected:
  JwtSettings settings() const {
    JwtSettings s;
    s.secret = std::string(kSecret);
    return s;
  }

  ErrorCode error_of(std::string_view token) const {
    const auto result = codec_.verify(token);
    EXPECT_FALSE(result.has_value()) << token;
    if (result.has_value()) return ErrorCode::kInternal;
    EXPECT_FALSE(result.error().detail.empty());
    return result.error().code;
  }

  domain::ManualClock clock_{domain::Timestamp{} + seconds{kNow}};
  testing::SeededRandom random_{11};
  JwtCodec codec_{settings(), clock_, random_};
};

TEST_F(JwtTest, IssuedTokenVerifiesWithTheSameClaims) {
  clock_.advance(milliseconds{1'500});
  const IssuedToken issued = codec_.issue(kUserId, "alice@example.com", domain::Role::kAdmin);
  EXPECT_EQ(issued.claims.sub, kUserId);
  EXPECT_EQ(issued.claims.email, "alice@example.com");
  EXPECT_EQ(issued.claims.role, domain::Role::kAdmin);
  EXPECT_EQ(issued.claims.iat, kNow + 1);
  EXPECT_EQ(issued.claims.exp, kNow + 1 + 15 * 60);
  EXPECT_EQ(issued.claims.iss, "todo");
  EXPECT_EQ(issued.claims.aud, "todo-api");
  EXPECT_TRUE(domain::is_uuid(issued.claims.jti));
  EXPECT_EQ(issued.claims.jti[14], '7');
  EXPECT_EQ(codec_.lifetime(), seconds{900});

  const auto verified = codec_.verify(issued.token);
  ASSERT_TRUE(verified.has_value()) << verified.error().detail;
  EXPECT_EQ(verified.value().sub, issued.claims.sub);
  EXPECT_EQ(verified.value().email, issued.claims.email);
  EXPECT_EQ(verified.value().role, issued.claims.role);
  EXPECT_EQ(verified.value().iat, issued.claims.iat);
  EXPECT_EQ(verified.value().exp, issued.claims.exp);
  EXPECT_EQ(verified.value().iss, issued.claims.iss);
  EXPECT_EQ(verified.value().aud, issued.claims.aud);
  EXPECT_EQ(verified.value().jti, issued.claims.jti);
}

TEST_F(JwtTest, IssuedTokenHasTheStandardHeaderAndClaims) {
  const IssuedToken issued = codec_.issue(kUserId, "alice@example.com", domain::Role::kUser);
  const std::size_t first = issued.token.find('.');
  const std::size_t second = issued.token.find('.', first + 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(base64url_decode(issued.token.substr(0, first)), std::string(kStandardHeader));

  const auto payload = base64url_decode(issued.token.substr(first + 1, second - first - 1));
  ASSERT_TRUE(payload.has_value());
  const json::object claims = json::parse(*payload).as_object();
  EXPECT_EQ(claims.size(), 8u);
  EXPECT_EQ(claims.at("sub").as_string(), kUserId);
  EXPECT_EQ(claims.at("role").as_string(), "user");
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 900);

  // The signature is HMAC-SHA-256 of "header.payload" under the secret.
  const std::string input = issued.token.substr(0, second);
  EXPECT_EQ(issued.token.substr(second + 1), base64url_encode(hmac_sha256(kSecret, input)));
}

TEST_F(JwtTest, EveryTokenGetsItsOwnId) {
  const auto a = codec_.issue(kUserId, "alice@example.com", domain::Role::kUser);
  const auto b = codec_.issue(kUserId, "alice@example.com", domain::Role::kUser);
  EXPECT_NE(a.claims.jti, b.claims.jti);
  EXPECT_NE(a.token, b.token);
}

TEST_F(JwtTest, HandMadeTokenVerifies) {
  const auto verified = codec_.verify(sign_claims(valid_claims()));
  ASSERT_TRUE(verified.has_value()) << verified.error().detail;
  EXPECT_EQ(verified.value().sub, kUserId);
  EXPECT_EQ(verified.value().role, domain::Role::kUser);
  EXPECT_EQ(verified.value().exp, kNow + 900);
}

TEST_F(JwtTest, TypIsOptionalAndCaseInsensitive) {
  EXPECT_TRUE(codec_.verify(sign_claims(valid_claims(), R"({"alg":"HS256"})")).has_value());
  EXPECT_TRUE(
      codec_.verify(sign_claims(valid_claims(), R"({"typ":"jwt","alg":"HS256"})")).has_value());
}

// --- algorithm ---

TEST_F(JwtTest, RejectsAlgNone) {
  const std::string payload = base64url_encode(json::serialize(valid_claims()));
  const std::string header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  EXPECT_EQ(error_of(header + "." + payload + "."), ErrorCode::kTokenAlgorithm);
  // Even when a valid HMAC is attached.
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":"none","typ":"JWT"})")),
            ErrorCode::kTokenAlgorithm);
}

TEST_F(JwtTest, RejectsOtherAlgorithms) {
  for (const char* header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256","typ":"JWT"})",
        R"({"alg":"hs256","typ":"JWT"})", R"({"alg":"HS256 ","typ":"JWT"})", R"({"alg":"None"})"}) {
    EXPECT_EQ(error_of(sign_claims(valid_claims(), header)), ErrorCode::kTokenAlgorithm) << header;
  }
}

TEST_F(JwtTest, RejectsMissingOrMistypedAlg) {
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"typ":"JWT"})")), ErrorCode::kTokenAlgorithm);
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":256})")), ErrorCode::kTokenAlgorithm);
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":["HS256"]})")),
            ErrorCode::kTokenAlgorithm);
}

TEST_F(JwtTest, RejectsOtherTypes) {
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":"HS256","typ":"JWS"})")),
            ErrorCode::kTokenAlgorithm);
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":"HS256","typ":1})")),
            ErrorCode::kTokenAlgorithm);
}

TEST_F(JwtTest, RejectsCriticalHeaderExtensions) {
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":"HS256","crit":["exp"]})")),
            ErrorCode::kTokenMalformed);
}

// --- signature ---

TEST_F(JwtTest, RejectsABadSignature) {
  std::string token = sign_claims(valid_claims());
  const std::size_t signature = token.rfind('.') + 1;
  token[signature] = token[signature] == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_of(token), ErrorCode::kTokenSignature);
}

TEST_F(JwtTest, RejectsAnEmptySignature) {
  const std::string token = sign_claims(valid_claims());
  EXPECT_EQ(error_of(token.substr(0, token.rfind('.') + 1)), ErrorCode::kTokenSignature);
}

TEST_F(JwtTest, RejectsATruncatedSignature) {
  const std::string input =
      base64url_encode(kStandardHeader) + "." + base64url_encode(json::serialize(valid_claims()));
  const std::string mac = hmac_sha256(kSecret, input);
  EXPECT_EQ(error_of(input + "." + base64url_encode(mac.substr(0, 16))),
            ErrorCode::kTokenSignature);
  EXPECT_EQ(error_of(input + "." + base64url_encode(mac + "x")), ErrorCode::kTokenSignature);
}

TEST_F(JwtTest, RejectsATokenSignedWithAnotherSecret) {
  const std::string token =
      sign(kStandardHeader, json::serialize(valid_claims()), "another-secret-another-secret-0123");
  EXPECT_EQ(error_of(token), ErrorCode::kTokenSignature);

  JwtSettings other = settings();
  other.secret = "another-secret-another-secret-0123";
  JwtCodec other_codec(other, clock_, random_);
  const auto issued = other_codec.issue(kUserId, "alice@example.com", domain::Role::kUser);
  EXPECT_EQ(error_of(issued.token), ErrorCode::kTokenSignature);
}

TEST_F(JwtTest, RejectsATamperedPayload) {
  const std::string token = sign_claims(valid_claims());
  json::object elevated = valid_claims();
  elevated["role"] = "admin";
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  const std::string forged = token.substr(0, first + 1) +
                             base64url_encode(json::serialize(elevated)) + token.substr(second);
  EXPECT_EQ(error_of(forged), ErrorCode::kTokenSignature);
}

// --- structure ---

TEST_F(JwtTest, RejectsWrongNumberOfParts) {
  const std::string token = sign_claims(valid_claims());
  EXPECT_EQ(error_of(""), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of("abc"), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(token.substr(0, token.rfind('.'))), ErrorCode::kTokenMalformed);  // 2 parts
  EXPECT_EQ(error_of(token + ".AAAA"), ErrorCode::kTokenMalformed);                    // 4 parts
  EXPECT_EQ(error_of(token + "."), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(".."), ErrorCode::kTokenMalformed);
}

TEST_F(JwtTest, RejectsPartsThatAreNotBase64url) {
  const std::string token = sign_claims(valid_claims());
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  EXPECT_EQ(error_of("*" + token.substr(1)), ErrorCode::kTokenMalformed);  // header
  EXPECT_EQ(error_of(token + "="), ErrorCode::kTokenMalformed);            // padded signature
  EXPECT_EQ(error_of(token.substr(0, second + 1) + "+/+/"), ErrorCode::kTokenMalformed);
  // Standard base64 with padding in the header, as some libraries wrongly produce.
  EXPECT_EQ(error_of(token.substr(0, first) + "=" + token.substr(first)),
            ErrorCode::kTokenMalformed);
  // A payload that is not base64url but correctly signed as text.
  const std::string input = base64url_encode(kStandardHeader) + ".not*base64";
  EXPECT_EQ(error_of(input + "." + base64url_encode(hmac_sha256(kSecret, input))),
            ErrorCode::kTokenMalformed);
}

TEST_F(JwtTest, RejectsAHeaderThatIsNotAJsonObject) {
  EXPECT_EQ(error_of(sign_claims(valid_claims(), "not json")), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"(["HS256"])")), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(sign_claims(valid_claims(), R"({"alg":"HS256")")), ErrorCode::kTokenMalformed);
}

TEST_F(JwtTest, RejectsAPayloadThatIsNotAJsonObject) {
  EXPECT_EQ(error_of(sign(kStandardHeader, "not json")), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(sign(kStandardHeader, "[1,2,3]")), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(sign(kStandardHeader, "\"sub\"")), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(sign(kStandardHeader, "")), ErrorCode::kTokenMalformed);
  EXPECT_EQ(error_of(sign(kStandardHeader, std::string(200, '['))), ErrorCode::kTokenMalformed);
}

// --- claims ---

TEST_F(JwtTest, RejectsMissingClaims) {
  for (const char* name : {"sub", "email", "role", "iat", "exp", "iss", "aud", "jti"}) {
    EXPECT_EQ(error_of(with_claims([&](json::object& c) { c.erase(name); })),
              ErrorCode::kTokenMalformed)
        << name;
  }
}

TEST_F(JwtTest, RejectsMistypedClaims) {
  const std::vector<std::pair<const char*, json::value>> cases = {
      {"sub", ""},
      {"sub", 42},
      {"email", nullptr},
      {"role", "root"},
      {"role", "Admin"},
      {"role", 1},
      {"iat", "1767225600"},
      {"exp", "1767226500"},
      {"exp", 1767226500.0},
      {"exp", 1.7672265e9},
      {"exp", nullptr},
      {"exp", true},
      {"exp", json::value(18446744073709551615ull)},
      {"iss", 7},
      {"aud", 7},
      {"aud", json::array{"todo-api", 7}},
      {"jti", json::object{}},
      {"nbf", "now"}};
  for (const auto& [name, value] : cases) {
    EXPECT_EQ(error_of(with_claims([&](json::object& c) { c[name] = value; })),
              ErrorCode::kTokenMalformed)
        << name << " = " << json::serialize(value);
  }
}

TEST_F(JwtTest, IgnoresUnknownClaims) {
  EXPECT_TRUE(codec_.verify(with_claims([](json::object& c) { c["name"] = "Alice"; })).has_value());
}

// --- time ---

TEST_F(JwtTest, ExpiresAfterExpPlusLeeway) {
  const auto issued = codec_.issue(kUserId, "alice@example.com", domain::Role::kUser);
  clock_.advance(seconds{900 + 30 - 1});
  EXPECT_TRUE(codec_.verify(issued.token).has_value()) << "within the 30 s leeway";
  clock_.advance(seconds{1});
  EXPECT_EQ(error_of(issued.token), ErrorCode::kTokenExpired);
  clock_.advance(hours{24 * 365});
  EXPECT_EQ(error_of(issued.token), ErrorCode::kTokenExpired);
}

TEST_F(JwtTest, ExpiredHandMadeToken) {
  EXPECT_EQ(error_of(with_claims([](json::object& c) {
              c["iat"] = kNow - 3600;
              c["exp"] = kNow - 60;
            })),
            ErrorCode::kTokenExpired);
  EXPECT_EQ(error_of(with_claims([](json::object& c) { c["exp"] = -1; })),
            ErrorCode::kTokenExpired);
}

TEST_F(JwtTest, ExtremeTimesDoNotOverflow) {
  const auto max = std::numeric_limits<std::int64_t>::max();
  const auto min = std::numeric_limits<std::int64_t>::min();
  EXPECT_TRUE(codec_.verify(with_claims([&](json::object& c) { c["exp"] = max; })).has_value());
  EXPECT_EQ(error_of(with_claims([&](json::object& c) { c["exp"] = min; })),
            ErrorCode::kTokenExpired);
  EXPECT_EQ(error_of(with_claims([&](json::object& c) { c["iat"] = max; })),
            ErrorCode::kTokenNotYetValid);
  EXPECT_EQ(error_of(with_claims([&](json::object& c) { c["nbf"] = max; })),
            ErrorCode::kTokenNotYetValid);
}

TEST_F(JwtTest, NotBeforeInTheFuture) {
  EXPECT_TRUE(codec_.verify(with_claims([](json::object& c) { c["nbf"] = kNow + 30; })).has_value())
      << "within the leeway";
  EXPECT_EQ(error_of(with_claims([](json::object& c) { c["nbf"] = kNow + 31; })),
            ErrorCode::kTokenNotYetValid);
  EXPECT_TRUE(
      codec_.verify(with_claims([](json::object& c) { c["nbf"] = kNow - 10; })).has_value());
}

TEST_F(JwtTest, IssuedInTheFuture) {
  EXPECT_TRUE(
      codec_.verify(with_claims([](json::object& c) { c["iat"] = kNow + 30; })).has_value());
  EXPECT_EQ(error_of(with_claims([](json::object& c) {
              c["iat"] = kNow + 3600;
              c["exp"] = kNow + 4500;
            })),
            ErrorCode::kTokenNotYetValid);

  // A token from a clock running ahead becomes valid once ours catches up.
  const std::string ahead = with_claims([](json::object& c) {
    c["iat"] = kNow + 120;
    c["exp"] = kNow + 1020;
  });
  EXPECT_EQ(error_of(ahead), ErrorCode::kTokenNotYetValid);
  clock_.advance(seconds{90});
  EXPECT_TRUE(codec_.verify(ahead).has_value());
}

// --- issuer and audience ---

TEST_F(JwtTest, RejectsAnotherIssuer) {
  EXPECT_EQ(error_of(with_claims([](json::object& c) { c["iss"] = "someone-else"; })),
            ErrorCode::kTokenIssuer);
  EXPECT_EQ(error_of(with_claims([](json::object& c) { c["iss"] = "TODO"; })),
            ErrorCode::kTokenIssuer);
}

TEST_F(JwtTest, RejectsAnotherAudience) {
  EXPECT_EQ(error_of(with_claims([](json::object& c) { c["aud"] = "other-api"; })),
            ErrorCode::kTokenAudience);
  EXPECT_EQ(error_of(with_claims([](json::object& c) {
              c["aud"] = json::array{"a", "b"};
            })),
            ErrorCode::kTokenAudience);
  EXPECT_EQ(error_of(with_claims([](json::object& c) { c["aud"] = json::array{}; })),
            ErrorCode::kTokenAudience);
}

TEST_F(JwtTest, AcceptsAnAudienceArrayContainingOurs) {
  const auto verified = codec_.verify(with_claims([](json::object& c) {
    c["aud"] = json::array{"other-api", "todo-api"};
  }));
  ASSERT_TRUE(verified.has_value()) << verified.error().detail;
  EXPECT_EQ(verified.value().aud, "todo-api");
}

TEST_F(JwtTest, ChecksInTheDocumentedOrder) {
  // Expired, wrong issuer and wrong audience at once: expiry is reported first.
  EXPECT_EQ(error_of(with_claims([](json::object& c) {
              c["exp"] = kNow - 3600;
              c["iss"] = "x";
              c["aud"] = "y";
            })),
            ErrorCode::kTokenExpired);
  // Wrong issuer and audience: issuer first.
  EXPECT_EQ(error_of(with_claims([](json::object& c) {
              c["iss"] = "x";
              c["aud"] = "y";
            })),
            ErrorCode::kTokenIssuer);
  // A bad signature hides what the payload says.
  std::string token = with_claims([](json::object& c) { c.erase("sub"); });
  token[token.rfind('.') + 1] ^= 1;
  EXPECT_EQ(error_of(token), ErrorCode::kTokenSignature);
}

TEST_F(JwtTest, UsesTheConfiguredIssuerAudienceAndLeeway) {
  JwtSettings custom = settings();
  custom.issuer = "https://auth.example.com";
  custom.audience = "tasks";
  custom.leeway = seconds{0};
  custom.lifetime = seconds{60};
  JwtCodec codec(custom, clock_, random_);
  const auto issued = codec.issue(kUserId, "alice@example.com", domain::Role::kUser);
  EXPECT_EQ(issued.claims.exp - issued.claims.iat, 60);
  ASSERT_TRUE(codec.verify(issued.token).has_value());
  EXPECT_EQ(error_of(issued.token), ErrorCode::kTokenIssuer) << "our default codec";
  clock_.advance(seconds{60});
  EXPECT_EQ(codec.verify(issued.token).error().code, ErrorCode::kTokenExpired);
}

// Tokens from elsewhere pass the signature check with their published keys; they then fail on
// our required claims, which shows the signature was accepted.
TEST(JwtInterop, Rfc7515AppendixA1Signature) {
  domain::ManualClock clock(domain::Timestamp{} + seconds{kNow});
  testing::SeededRandom random(1);
  const auto key = base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(key.has_value());
  ASSERT_EQ(key->size(), 64u);
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

  JwtSettings settings;
  settings.secret = *key;
  EXPECT_EQ(JwtCodec(settings, clock, random).verify(token).error().code,
            ErrorCode::kTokenMalformed);
  settings.secret[0] ^= 1;
  EXPECT_EQ(JwtCodec(settings, clock, random).verify(token).error().code,
            ErrorCode::kTokenSignature);
}

TEST(JwtInterop, ShortKeySignature) {
  domain::ManualClock clock(domain::Timestamp{} + seconds{kNow});
  testing::SeededRandom random(1);
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  JwtSettings settings;
  settings.secret = "your-256-bit-secret";
  EXPECT_EQ(JwtCodec(settings, clock, random).verify(token).error().code,
            ErrorCode::kTokenMalformed);
  settings.secret = "your-256-bit-secreT";
  EXPECT_EQ(JwtCodec(settings, clock, random).verify(token).error().code,
            ErrorCode::kTokenSignature);
}

TEST(JwtCodecConstruction, RefusesAnEmptySecret) {
  domain::ManualClock clock(domain::Timestamp{});
  testing::SeededRandom random(1);
  EXPECT_THROW(JwtCodec(JwtSettings{}, clock, random), std::invalid_argument);
}

// verify() remembers tokens it checked; a remembered token must never vouch for another one.
TEST_F(JwtTest, ARememberedTokenVouchesOnlyForItsExactBytes) {
  const std::string token = sign_claims(valid_claims());
  ASSERT_TRUE(codec_.verify(token).has_value());
  ASSERT_TRUE(codec_.verify(token).has_value());  // now from what was remembered
  std::string other_signature = token;
  char& inside = other_signature[other_signature.size() - 10];  // not the padding bits at the end
  inside = inside == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_of(other_signature), ErrorCode::kTokenSignature);
  // Another payload under the remembered token's signature.
  json::object claims = valid_claims();
  claims["role"] = "admin";
  const std::string admin = sign_claims(claims);
  const std::string forged = admin.substr(0, admin.rfind('.')) + token.substr(token.rfind('.'));
  EXPECT_EQ(error_of(forged), ErrorCode::kTokenSignature);
  EXPECT_EQ(error_of(token + "x"), ErrorCode::kTokenSignature);
  EXPECT_EQ(codec_.verify(token).value().role, domain::Role::kUser);
}

TEST_F(JwtTest, ARememberedTokenIsNotKnownToACodecWithAnotherSecret) {
  const std::string token = sign_claims(valid_claims());
  ASSERT_TRUE(codec_.verify(token).has_value());
  JwtSettings other = settings();
  other.secret = "another-secret-another-secret-0123456789";
  JwtCodec other_codec{other, clock_, random_};
  const auto result = other_codec.verify(token);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kTokenSignature);
}

TEST_F(JwtTest, TokensBeyondWhatIsRememberedStillVerify) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 5000; ++i) {
    tokens.push_back(with_claims([i](json::object& c) { c["jti"] = "id-" + std::to_string(i); }));
  }
  for (const auto& token : tokens) ASSERT_TRUE(codec_.verify(token).has_value());
  for (const auto& token : tokens) {
    const auto result = codec_.verify(token);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result.value().jti, "id-" + std::to_string(&token - tokens.data()));
  }
  // Once they expire, being remembered does not keep them valid.
  clock_.advance(seconds{900 + 30});
  EXPECT_EQ(error_of(tokens.front()), ErrorCode::kTokenExpired);
  EXPECT_EQ(error_of(tokens.back()), ErrorCode::kTokenExpired);
}

}  // namespace
}  // namespace todo::auth

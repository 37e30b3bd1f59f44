// Password policy (NIST SP 800-63B: length and a blocklist) and argon2id hashing.
#include "auth/password.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace todo::auth {
namespace {

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

// The reason given for the "password" field, or "ok".
std::string verdict(const PasswordPolicy& policy, std::string_view password) {
  const auto result = policy.check(password);
  if (result.has_value()) return "ok";
  const domain::Error& error = result.error();
  EXPECT_EQ(error.code, domain::ErrorCode::kValidation);
  if (error.fields.size() != 1 || error.fields[0].field != "password") return "<bad fields>";
  return error.fields[0].reason;
}

TEST(PasswordPolicy, LengthIsEightToTwoHundredFiftySixCodePoints) {
  const auto policy = PasswordPolicy::from_list("");
  EXPECT_EQ(verdict(policy, ""), "must be at least 8 characters");
  EXPECT_EQ(verdict(policy, "abcdefg"), "must be at least 8 characters");
  EXPECT_EQ(verdict(policy, "abcdefgh"), "ok");
  EXPECT_EQ(verdict(policy, std::string(256, 'x')), "ok");
  EXPECT_EQ(verdict(policy, std::string(257, 'x')), "must be at most 256 characters");
}

TEST(PasswordPolicy, MultibyteCharactersCountOnce) {
  const auto policy = PasswordPolicy::from_list("");
  EXPECT_EQ(verdict(policy, repeat("\xC3\xA9", 8)), "ok");  // 16 bytes, 8 code points
  EXPECT_EQ(verdict(policy, repeat("\xF0\x9F\x98\x80", 7)),
            "must be at least 8 characters");                         // 28 bytes, 7 code points
  EXPECT_EQ(verdict(policy, repeat("\xF0\x9F\x98\x80", 256)), "ok");  // 1024 bytes
  EXPECT_EQ(verdict(policy, repeat("\xC3\xA9", 257)), "must be at most 256 characters");
}

TEST(PasswordPolicy, NoCompositionRules) {
  const auto policy = PasswordPolicy::from_list("");
  EXPECT_EQ(verdict(policy, "correct horse battery staple"), "ok");
  EXPECT_EQ(verdict(policy, "alllowercaseletters"), "ok");
  EXPECT_EQ(verdict(policy, "        "), "ok") << "spaces are characters too";
}

TEST(PasswordPolicy, RejectsInvalidUtf8) {
  EXPECT_EQ(verdict(PasswordPolicy::from_list(""), "abcdefgh\xFF"), "must be valid UTF-8");
}

TEST(PasswordPolicy, ListIsOneAPasswordALineCaseInsensitive) {
  const auto policy = PasswordPolicy::from_list("hunter2hunter2\r\n\n   \nCorrectHorse\nlast-line");
  const std::string too_common = "is too common; choose a less guessable password";
  EXPECT_EQ(verdict(policy, "hunter2hunter2"), too_common);
  EXPECT_EQ(verdict(policy, "HUNTER2hunter2"), too_common);
  EXPECT_EQ(verdict(policy, "correcthorse"), too_common);
  EXPECT_EQ(verdict(policy, "LAST-LINE"), too_common);
  EXPECT_EQ(verdict(policy, "hunter2hunter3"), "ok");
  EXPECT_EQ(verdict(policy, "correcthorse "), "ok") << "a password is compared as typed";
}

TEST(PasswordPolicy, ShippedListRejectsWellKnownPasswords) {
  const PasswordPolicy& policy = PasswordPolicy::shipped();
  EXPECT_EQ(&policy, &PasswordPolicy::shipped());
  for (const char* weak :
       {"password", "Password1", "PASSWORD123", "12345678", "123456789", "qwertyuiop", "iloveyou",
        "sunshine", "football1", "trustno1", "passw0rd", "P@ssw0rd", "11111111", "1q2w3e4r",
        "zaq12wsx", "password1987", "Welcome123", "abcdefgh", "letmein1"}) {
    EXPECT_EQ(verdict(policy, weak), "is too common; choose a less guessable password") << weak;
  }
  EXPECT_EQ(verdict(policy, "violet-tram-opera-47"), "ok");
  EXPECT_EQ(verdict(policy, "short"), "must be at least 8 characters");
}

class PasswordHasherTest : public ::testing::Test {
 protected:
  // The cheapest argon2id cost: these tests check behaviour, not strength.
  PasswordHasher hasher_{PasswordHashCost{crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}};
};

TEST_F(PasswordHasherTest, HashesWithArgon2idAndVerifies) {
  const std::string hash = hasher_.hash("violet-tram-opera-47");
  EXPECT_EQ(hash.rfind("$argon2id$v=19$", 0), 0u) << hash;
  EXPECT_TRUE(hasher_.verify(hash, "violet-tram-opera-47"));
  EXPECT_FALSE(hasher_.verify(hash, "violet-tram-opera-48"));
  EXPECT_FALSE(hasher_.verify(hash, ""));
}

TEST_F(PasswordHasherTest, SaltsEveryHash) {
  EXPECT_NE(hasher_.hash("same password"), hasher_.hash("same password"));
}

TEST_F(PasswordHasherTest, HandlesUnicodeAndEmbeddedNul) {
  const std::string unicode = "p\xC3\xA4ssw\xC3\xB6rt \xF0\x9F\x98\x80";
  EXPECT_TRUE(hasher_.verify(hasher_.hash(unicode), unicode));
  const std::string with_nul("abc\0def", 7);
  const std::string hash = hasher_.hash(with_nul);
  EXPECT_TRUE(hasher_.verify(hash, with_nul));
  EXPECT_FALSE(hasher_.verify(hash, "abc")) << "the NUL does not end the password";
}

TEST_F(PasswordHasherTest, MalformedHashesNeverVerify) {
  const std::string good = hasher_.hash("violet-tram-opera-47");
  for (const std::string& bad :
       {std::string(), std::string("not a hash"), std::string("$argon2id$"),
        good.substr(0, good.size() - 5), good + std::string("\0", 1), std::string(200, '$'),
        std::string(1000, 'a'),
        std::string("$2b$12$abcdefghijklmnopqrstuuMx1S8vYbfQ1yZ1wXx6UfYwvSM2a")}) {
    EXPECT_FALSE(hasher_.verify(bad, "violet-tram-opera-47")) << bad;
  }
}

TEST_F(PasswordHasherTest, DecoyIsAValidHashOfNothingAnyoneKnows) {
  const std::string& decoy = hasher_.decoy_hash();
  EXPECT_EQ(decoy.rfind("$argon2id$v=19$", 0), 0u) << decoy;
  EXPECT_FALSE(hasher_.verify(decoy, ""));
  EXPECT_FALSE(hasher_.verify(decoy, "password"));
  PasswordHasher other{PasswordHashCost{crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}};
  EXPECT_NE(other.decoy_hash(), decoy);
}

TEST(PasswordHashCost, InteractiveIsLibsodiumsInteractiveCost) {
  const PasswordHashCost cost = interactive_cost();
  EXPECT_EQ(cost.ops_limit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
  EXPECT_EQ(cost.mem_limit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

}  // namespace
}  // namespace todo::auth

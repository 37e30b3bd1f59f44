// base64url, SHA-256 digests, opaque refresh tokens and the libsodium random source.
#include "auth/tokens.h"

#include <gtest/gtest.h>

#include <set>

#include "support/seeded_random.h"

namespace todo::auth {
namespace {

TEST(Base64url, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode("\xFB\xFF"), "-_8");  // standard base64: "+/8="
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xFB\xFF"));
}

TEST(Base64url, DecodesTheRfc4648Vectors) {
  EXPECT_EQ(base64url_decode(""), std::string());
  EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
  EXPECT_EQ(base64url_decode("Zm8"), std::string("fo"));
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), std::string("foobar"));
}

TEST(Base64url, RejectsPaddingForeignCharactersAndImpossibleLengths) {
  for (const char* bad : {"Zg==", "Zm8=", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n", "Z", "Zm9vY",
                          "Zm9v!", "Zm9v.", "\xC3\xA9"}) {
    EXPECT_FALSE(base64url_decode(bad).has_value()) << bad;
  }
}

TEST(Base64url, RejectsNonCanonicalTrailingBits) {
  EXPECT_TRUE(base64url_decode("Zg").has_value());
  EXPECT_FALSE(base64url_decode("Zh").has_value());   // same byte, stray low bits
  EXPECT_FALSE(base64url_decode("Zm9").has_value());  // "fo" is Zm8
}

TEST(Base64url, RoundTripsArbitraryBytes) {
  testing::SeededRandom random(3);
  for (std::size_t length = 0; length < 70; ++length) {
    std::string bytes(length, '\0');
    random.fill(std::as_writable_bytes(std::span(bytes)));
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(base64url_decode(encoded), bytes) << length;
  }
}

TEST(Sha256Hex, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(OpaqueToken, Is256BitsOfBase64url) {
  testing::SeededRandom random(5);
  const std::string token = new_opaque_token(random);
  EXPECT_EQ(token.size(), 43u);
  const auto bytes = base64url_decode(token);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->size(), 32u);
}

TEST(OpaqueToken, ComesFromTheRandomSource) {
  testing::ConstantRandom zeros(std::byte{0});
  EXPECT_EQ(new_opaque_token(zeros), std::string(43, 'A'));

  testing::SeededRandom a(9);
  testing::SeededRandom b(9);
  const std::string first = new_opaque_token(a);
  EXPECT_EQ(first, new_opaque_token(b));
  EXPECT_NE(first, new_opaque_token(a));
}

TEST(SodiumRandom, FillsWithFreshBytes) {
  SodiumRandom random;
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.insert(new_opaque_token(random));
  EXPECT_EQ(tokens.size(), 100u);
}

}  // namespace
}  // namespace todo::auth

// E-mail and display-name normalisation, and the UTF-8 helpers.
#include "domain/text.h"
#include "domain/user.h"

#include <gtest/gtest.h>

namespace todo::domain {
namespace {

std::string reason_of(const Result<std::string>& result, std::string_view field) {
  if (result.has_value()) return "<no error>";
  const Error& error = result.error();
  EXPECT_EQ(error.code, ErrorCode::kValidation);
  if (error.fields.size() != 1) return "<wrong field count>";
  EXPECT_EQ(error.fields[0].field, field);
  return error.fields[0].reason;
}

TEST(IsValidUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));                // é
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));               // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));           // 😀
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));               // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));               // U+D7FF, just below surrogates
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(IsValidUtf8, RejectsMalformedText) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // U+DFFF surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\xC3\x28"));  // bad continuation
  EXPECT_FALSE(is_valid_utf8("ok\xE2\x28\xA1"));
}

TEST(CodePointCount, CountsCodePointsNotBytes) {
  EXPECT_EQ(code_point_count(""), 0u);
  EXPECT_EQ(code_point_count("abc"), 3u);
  EXPECT_EQ(code_point_count("caf\xC3\xA9"), 4u);
  EXPECT_EQ(code_point_count("\xF0\x9F\x98\x80\xE2\x82\xAC"), 2u);
}

TEST(Trim, AsciiAndUnicodeWhiteSpace) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim(" \t\r\n\v\fa b\t "), "a b");
  EXPECT_EQ(trim("\xC2\xA0name\xC2\xA0"), "name");                      // U+00A0
  EXPECT_EQ(trim("\xE3\x80\x80name\xE2\x80\x83"), "name");              // U+3000, U+2003
  EXPECT_EQ(trim("\xE2\x80\x8Aname\xE2\x80\xA8\xE2\x80\xAF"), "name");  // U+200A, U+2028, U+202F
  EXPECT_EQ(trim("\xE1\x9A\x80x\xC2\x85"), "x");                        // U+1680, U+0085
  EXPECT_EQ(trim("a\xC2\xA0"
                 "b"),
            "a\xC2\xA0"
            "b");                                       // inner space stays
  EXPECT_EQ(trim("\xE2\x80\x8Bzw"), "\xE2\x80\x8Bzw");  // U+200B is not white space
}

TEST(Trim, KeepsInvalidBytes) { EXPECT_EQ(trim(" \xFF "), "\xFF"); }

TEST(NormalizeEmail, TrimsAndLowerCases) {
  const auto result = normalize_email("  Alice.Smith+Todo@Example.COM \t");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, "alice.smith+todo@example.com");
}

TEST(NormalizeEmail, KeepsNonAsciiAsIs) {
  const auto result = normalize_email(
      "J\xC3\x96RG@B\xC3\xBC"
      "cher.de");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result,
            "j\xC3\x96rg@b\xC3\xBC"
            "cher.de");
}

TEST(NormalizeEmail, RejectsImplausibleAddresses) {
  EXPECT_EQ(reason_of(normalize_email(""), "email"), "must not be empty");
  EXPECT_EQ(reason_of(normalize_email("   "), "email"), "must not be empty");
  EXPECT_EQ(reason_of(normalize_email("alice.example.com"), "email"), "must contain exactly one @");
  EXPECT_EQ(reason_of(normalize_email("a@b@example.com"), "email"), "must contain exactly one @");
  EXPECT_EQ(reason_of(normalize_email("@example.com"), "email"), "must have a name before the @");
  EXPECT_EQ(reason_of(normalize_email("alice@localhost"), "email"),
            "must have a domain such as example.com after the @");
  EXPECT_EQ(reason_of(normalize_email("alice@"), "email"),
            "must have a domain such as example.com after the @");
  EXPECT_FALSE(normalize_email("alice@.example.com").has_value());
  EXPECT_FALSE(normalize_email("alice@example.com.").has_value());
  EXPECT_FALSE(normalize_email("alice@example..com").has_value());
  EXPECT_EQ(reason_of(normalize_email("al ice@example.com"), "email"),
            "must not contain spaces or control characters");
  EXPECT_FALSE(normalize_email("alice@exa\tmple.com").has_value());
  EXPECT_FALSE(normalize_email(std::string_view("alice@example.com\0x", 19)).has_value());
  EXPECT_FALSE(normalize_email("al\xC2\xA0ice@example.com").has_value());  // inner U+00A0
  EXPECT_FALSE(normalize_email("alice@example.com\x7F").has_value());
  EXPECT_EQ(reason_of(normalize_email("alice\xFF@example.com"), "email"), "must be valid UTF-8");
}

TEST(NormalizeEmail, LengthLimits) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(normalize_email(local64 + "@example.com").has_value());
  EXPECT_EQ(reason_of(normalize_email(local64 + "a@example.com"), "email"),
            "must have at most 64 characters before the @");

  const std::string domain = std::string(254 - 11 - 4, 'd') + ".com";  // 254 in all
  const std::string longest = "a1234567890@" + domain.substr(1);
  ASSERT_EQ(longest.size(), 254u);
  EXPECT_TRUE(normalize_email(longest).has_value());
  EXPECT_EQ(reason_of(normalize_email("b" + longest), "email"), "must be at most 254 characters");
}

TEST(NormalizeDisplayName, TrimsAndAllowsEmpty) {
  EXPECT_EQ(normalize_display_name("  Ada Lovelace\xE3\x80\x80").value(), "Ada Lovelace");
  EXPECT_EQ(normalize_display_name("").value(), "");
  EXPECT_EQ(normalize_display_name(" \t ").value(), "");
}

TEST(NormalizeDisplayName, CountsCodePoints) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xC3\xA9";  // 200 bytes, 100 code points
  EXPECT_EQ(normalize_display_name(hundred).value(), hundred);
  EXPECT_EQ(reason_of(normalize_display_name(hundred + "e"), "display_name"),
            "must be at most 100 characters");
  EXPECT_TRUE(normalize_display_name("  " + hundred + "  ").has_value());
}

TEST(NormalizeDisplayName, RejectsControlCharactersAndBadUtf8) {
  EXPECT_EQ(reason_of(normalize_display_name("Ada\nLovelace"), "display_name"),
            "must not contain control characters");
  EXPECT_FALSE(normalize_display_name("Ada\x7F").has_value());
  EXPECT_FALSE(normalize_display_name("Ada\xC2\x9B").has_value());  // C1 control U+009B
  EXPECT_FALSE(normalize_display_name(std::string_view("Ada\0", 4)).has_value());
  EXPECT_EQ(reason_of(normalize_display_name("Ada\xC0\xAF"), "display_name"),
            "must be valid UTF-8");
}

}  // namespace
}  // namespace todo::domain

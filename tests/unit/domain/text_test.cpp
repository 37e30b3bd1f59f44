// Case folding for search and lower-casing for tags.
#include "domain/text.h"

#include <gtest/gtest.h>

namespace todo::domain {
namespace {

TEST(Casefold, FoldsUpperAndLowerCaseToTheSameText) {
  EXPECT_EQ(casefold("\xC3\x9C"
                     "BER"),
            "\xC3\xBC"
            "ber");  // ÜBER → über
  EXPECT_EQ(casefold("\xC3\xBC"
                     "ber"),
            "\xC3\xBC"
            "ber");
  EXPECT_EQ(casefold("Hello World"), "hello world");
}

TEST(Casefold, FullFoldingExpandsSharpS) {
  EXPECT_EQ(casefold("Stra\xC3\x9F"
                     "e"),
            "strasse");  // Straße
  EXPECT_EQ(casefold("STRASSE"), "strasse");
}

TEST(Casefold, TitleCaseDigraph) {
  EXPECT_EQ(casefold("\xC7\x85"), "d\xC5\xBE");           // ǅ (U+01C5) → ǆ → "dž" by NFKC
  EXPECT_EQ(casefold("\xC7\x84"), casefold("\xC7\x86"));  // Ǆ and ǆ fold alike
}

TEST(Casefold, NormalisesComposition) {
  // "é" precomposed and as e + combining acute fold to the same text.
  EXPECT_EQ(casefold("\xC3\x89"), casefold("e\xCC\x81"));
  EXPECT_EQ(casefold("\xEF\xAC\x81"), "fi");                    // the ligature ﬁ (compatibility)
  EXPECT_EQ(casefold("\xCE\xA3\xCE\xA3"), "\xCF\x83\xCF\x83");  // ΣΣ → σσ
}

TEST(Casefold, EmptyAndInvalidInputComeBackUnchanged) {
  EXPECT_EQ(casefold(""), "");
  EXPECT_EQ(casefold("AB\xFF"), "AB\xFF");
}

TEST(Lowercase, LowerCasesEachCodePoint) {
  EXPECT_EQ(lowercase("\xC3\x9Cn\xC3\x8F"), "\xC3\xBCn\xC3\xAF");  // Ünï → ünï
  EXPECT_EQ(lowercase("HOME"), "home");
  EXPECT_EQ(lowercase("\xCE\x94\xCE\x95\xCE\x9B"), "\xCE\xB4\xCE\xB5\xCE\xBB");  // ΔΕΛ → δελ
  EXPECT_EQ(lowercase("Stra\xC3\x9F"
                      "e"),
            "stra\xC3\x9F"
            "e");                                  // ß has no simple lower-case change
  EXPECT_EQ(lowercase("e\xCC\x81"), "e\xCC\x81");  // no normalisation
  EXPECT_EQ(lowercase("A\xFF"), "A\xFF");
}

}  // namespace
}  // namespace todo::domain

// Unicode text helpers built on utf8proc.
#pragma once

#include <string>
#include <string_view>

namespace todo::domain {

// Unicode default case folding (with NFKC normalisation) of valid UTF-8: "ÜBER" and "über" fold to
// the same text, so search is a plain substring test of folded texts.
std::string casefold(std::string_view text);

// Simple (one-to-one) Unicode lower-casing of each code point of valid UTF-8, no normalisation:
// "Ünï" becomes "ünï", "ß" stays "ß". Invalid UTF-8 is returned unchanged (callers validate first).
// Tags are stored this way, so a tag filter must lower-case its argument with it too.
std::string lowercase(std::string_view text);

}  // namespace todo::domain

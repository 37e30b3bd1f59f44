// UTF-8 and Unicode text helpers every validation builds on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace todo::domain {

// Valid UTF-8 check used for every text the API stores.
bool is_valid_utf8(std::string_view text);

// Number of Unicode code points in valid UTF-8 text.
std::size_t code_point_count(std::string_view text);

// Trims ASCII and Unicode white space at both ends.
std::string trim(std::string_view text);

// True when valid UTF-8 `text` has a control character (general category Cc).
bool contains_control(std::string_view text);

// True when valid UTF-8 `text` has a control character or white space (Unicode White_Space).
bool contains_control_or_space(std::string_view text);

// Unicode default case folding (with NFKC normalisation) of valid UTF-8: "ÜBER" and "über" fold to
// the same text, so search is a plain substring test of folded texts.
std::string casefold(std::string_view text);

// Simple (one-to-one) Unicode lower-casing of each code point of valid UTF-8, no normalisation:
// "Ünï" becomes "ünï", "ß" stays "ß". Invalid UTF-8 is returned unchanged (callers validate first).
// Tags are stored this way, so a tag filter must lower-case its argument with it too.
std::string lowercase(std::string_view text);

// Text for HTML element content or a quoted attribute: & < > " ' as character references.
std::string html_escape(std::string_view text);

}  // namespace todo::domain

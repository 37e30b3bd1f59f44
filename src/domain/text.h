// Unicode text helpers built on utf8proc.
#pragma once

#include <string>
#include <string_view>

namespace todo::domain {

// Unicode default case folding (with NFKC normalisation) of valid UTF-8: "ÜBER" and "über" fold to
// the same text, so search is a plain substring test of folded texts.
std::string casefold(std::string_view text);

}  // namespace todo::domain

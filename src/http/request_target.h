// Whether a request target needs parsing at all. Internal to src/http (and its test).
#pragma once

#include <array>
#include <string_view>

namespace todo::http::detail {

// True when `target` is an origin-form path made only of characters a path may hold literally:
// "/" first, then RFC 3986's unreserved characters, sub-delims, ':', '@' and '/'. Such a target
// has no query and nothing percent-encoded, so its decoded path is the target itself and Boost.URL
// (a fifteenth of a /health request's instructions) has nothing to do. Any other target, valid or
// not, is left to Boost.URL.
inline bool is_plain_path(std::string_view target) {
  static constexpr auto kLiteral = [] {
    std::array<bool, 256> table{};
    for (unsigned char c = 'a'; c <= 'z'; ++c) table[c] = true;
    for (unsigned char c = 'A'; c <= 'Z'; ++c) table[c] = true;
    for (unsigned char c = '0'; c <= '9'; ++c) table[c] = true;
    for (unsigned char c : std::string_view("-._~!$&'()*+,;=:@/")) table[c] = true;
    return table;
  }();
  if (target.empty() || target.front() != '/') return false;
  for (const char c : target) {
    if (!kLiteral[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace todo::http::detail

// Validation and normalisation of what a user sets about themselves, and the UTF-8 text helpers
// every other validation builds on.
#include "domain/user.h"

#include <algorithm>
#include <array>

namespace todo::domain {

namespace {

struct Decoded {
  char32_t code_point;
  std::size_t length;  // bytes consumed
};

// Decodes one code point at `pos` following Unicode Table 3-7 (no overlongs, no surrogates,
// nothing above U+10FFFF); nullopt when the bytes there are not well-formed UTF-8.
std::optional<Decoded> decode_at(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return Decoded{lead, 1};

  std::size_t length = 0;
  char32_t value = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return std::nullopt;  // continuation byte, C0, C1 or F5..FF as a lead
  }
  if (pos + length > text.size()) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char min = i == 1 ? second_min : 0x80;
    const unsigned char max = i == 1 ? second_max : 0xBF;
    if (byte(i) < min || byte(i) > max) return std::nullopt;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  return Decoded{value, length};
}

// Unicode's White_Space property.
bool is_white_space(char32_t c) {
  constexpr std::array<char32_t, 13> kSingles = {0x09, 0x0A,   0x0B,   0x0C,   0x0D,   0x20,  0x85,
                                                 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F};
  if (c >= 0x2000 && c <= 0x200A) return true;
  if (c == 0x3000) return true;
  return std::find(kSingles.begin(), kSingles.end(), c) != kSingles.end();
}

// General category Cc: C0 controls, DEL and C1 controls.
bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// True when any code point of valid UTF-8 `text` satisfies `predicate`.
template <class Predicate>
bool any_code_point(std::string_view text, Predicate predicate) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto decoded = decode_at(text, pos);
    if (!decoded) return true;  // callers validate first; treat garbage as a hit
    if (predicate(decoded->code_point)) return true;
    pos += decoded->length;
  }
  return false;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "example.com" yes; "example", ".com", "example.", "a..b" no.
bool is_plausible_domain(std::string_view domain) {
  if (domain.find('.') == std::string_view::npos) return false;
  if (domain.front() == '.' || domain.back() == '.') return false;
  return domain.find("..") == std::string_view::npos;
}

Error email_error(std::string reason) { return validation_error({{"email", std::move(reason)}}); }

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto decoded = decode_at(text, pos);
    if (!decoded) return false;
    pos += decoded->length;
  }
  return true;
}

std::size_t code_point_count(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string trim(std::string_view text) {
  // Bytes that do not decode are kept: trimming never turns invalid text into valid text.
  std::size_t begin = text.size();
  std::size_t end = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto decoded = decode_at(text, pos);
    const std::size_t length = decoded ? decoded->length : 1;
    if (!decoded || !is_white_space(decoded->code_point)) {
      if (begin == text.size()) begin = pos;
      end = pos + length;
    }
    pos += length;
  }
  if (begin >= end) return {};
  return std::string(text.substr(begin, end - begin));
}

Result<std::string> normalize_email(std::string_view email) {
  if (!is_valid_utf8(email)) return email_error("must be valid UTF-8");
  std::string normalized = ascii_lower(trim(email));
  if (normalized.empty()) return email_error("must not be empty");
  if (normalized.size() > kMaxEmailLength) return email_error("must be at most 254 characters");
  if (any_code_point(normalized, [](char32_t c) { return is_control(c) || is_white_space(c); })) {
    return email_error("must not contain spaces or control characters");
  }
  const std::size_t at = normalized.find('@');
  if (at == std::string::npos || normalized.find('@', at + 1) != std::string::npos) {
    return email_error("must contain exactly one @");
  }
  const std::string_view local = std::string_view(normalized).substr(0, at);
  const std::string_view domain = std::string_view(normalized).substr(at + 1);
  if (local.empty()) return email_error("must have a name before the @");
  if (local.size() > 64) return email_error("must have at most 64 characters before the @");
  if (domain.empty() || !is_plausible_domain(domain)) {
    return email_error("must have a domain such as example.com after the @");
  }
  return normalized;
}

Result<std::string> normalize_display_name(std::string_view name) {
  const auto fail = [](std::string reason) {
    return validation_error({{"display_name", std::move(reason)}});
  };
  if (!is_valid_utf8(name)) return fail("must be valid UTF-8");
  std::string trimmed = trim(name);
  if (code_point_count(trimmed) > kMaxDisplayNameLength) {
    return fail("must be at most 100 characters");
  }
  if (any_code_point(trimmed, is_control)) return fail("must not contain control characters");
  return trimmed;
}

}  // namespace todo::domain

// UTF-8 validation, trimming and counting (our own decoder), and Unicode case folding and
// lower-casing through utf8proc.
#include "domain/text.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <optional>

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

struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

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

bool contains_control(std::string_view text) { return any_code_point(text, is_control); }

bool contains_control_or_space(std::string_view text) {
  return any_code_point(text, [](char32_t c) { return is_control(c) || is_white_space(c); });
}

std::string casefold(std::string_view text) {
  if (!is_valid_utf8(text)) return std::string(text);
  utf8proc_uint8_t* raw = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE |
                                                      UTF8PROC_COMPAT | UTF8PROC_STABLE);
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &raw, options);
  const std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(raw);
  // Only an allocation failure or a code point utf8proc rejects can get here after the check.
  if (length < 0 || raw == nullptr) return std::string(text);
  return std::string(reinterpret_cast<const char*>(raw), static_cast<std::size_t>(length));
}

std::string lowercase(std::string_view text) {
  if (!is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < size) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t read = utf8proc_iterate(bytes + pos, size - pos, &code_point);
    if (read <= 0) return std::string(text);
    pos += read;
    utf8proc_uint8_t encoded[4];
    const utf8proc_ssize_t written = utf8proc_encode_char(utf8proc_tolower(code_point), encoded);
    out.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(written));
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace todo::domain

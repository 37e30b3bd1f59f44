// UUIDv7 generation (RFC 9562 §5.7) and recognition of canonical UUID text.
#include "domain/ids.h"

#include <array>
#include <cstdint>

namespace todo::domain {

namespace {

constexpr std::array<char, 16> kHexDigits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

bool is_hyphen_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string new_uuid_v7(Timestamp now, RandomSource& random) {
  std::array<std::byte, 16> bytes{};
  random.fill(std::span(bytes).subspan(6));

  // 48-bit big-endian Unix time in milliseconds; instants before 1970 cannot be encoded.
  const auto millis = std::chrono::floor<std::chrono::milliseconds>(now).time_since_epoch().count();
  const std::uint64_t unix_ms = millis < 0 ? 0 : static_cast<std::uint64_t>(millis);
  for (std::size_t i = 0; i < 6; ++i) {
    bytes[i] = static_cast<std::byte>((unix_ms >> (8 * (5 - i))) & 0xFF);
  }
  bytes[6] = (bytes[6] & std::byte{0x0F}) | std::byte{0x70};  // version 7
  bytes[8] = (bytes[8] & std::byte{0x3F}) | std::byte{0x80};  // variant 10

  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    const auto value = std::to_integer<unsigned>(bytes[i]);
    text.push_back(kHexDigits[value >> 4]);
    text.push_back(kHexDigits[value & 0x0F]);
  }
  return text;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_hyphen_position(i) ? text[i] != '-' : !is_lower_hex(text[i])) return false;
  }
  return true;
}

}  // namespace todo::domain

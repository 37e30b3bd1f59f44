// Opaque refresh tokens, SHA-256 digests, base64url (RFC 4648 §5, no padding) and libsodium's
// CSPRNG.
#include "auth/tokens.h"

#include <sodium.h>

#include <array>
#include <stdexcept>

#include "auth/sodium_init.h"

namespace todo::auth {

namespace detail {

void ensure_sodium() {
  static const bool initialised = sodium_init() >= 0;  // 1 means "already initialised"
  if (!initialised) throw std::runtime_error("libsodium could not be initialised");
}

}  // namespace detail

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Value of a base64url character, or -1.
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string new_opaque_token(domain::RandomSource& random) {
  std::array<std::byte, 32> bytes{};
  random.fill(bytes);
  return base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  detail::ensure_sodium();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  sodium_memzero(&state, sizeof state);
  return mac;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string sha256_hex(std::string_view input) {
  detail::ensure_sodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data(), hex.size() - 1);
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned group = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kAlphabet[(group >> 18) & 0x3F]);
    out.push_back(kAlphabet[(group >> 12) & 0x3F]);
    out.push_back(kAlphabet[(group >> 6) & 0x3F]);
    out.push_back(kAlphabet[group & 0x3F]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned group = at(i) << 16;
    out.push_back(kAlphabet[(group >> 18) & 0x3F]);
    out.push_back(kAlphabet[(group >> 12) & 0x3F]);
  } else if (rest == 2) {
    const unsigned group = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kAlphabet[(group >> 18) & 0x3F]);
    out.push_back(kAlphabet[(group >> 12) & 0x3F]);
    out.push_back(kAlphabet[(group >> 6) & 0x3F]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // Without padding a final group has 2 or 3 characters; a single one cannot encode a byte.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = sextet(c);
    if (value < 0) return std::nullopt;  // '=', '+', '/', white space, anything else
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
      buffer &= (1u << bits) - 1;
    }
  }
  // The leftover bits must be zero, so that every byte string has exactly one encoding.
  if (buffer != 0) return std::nullopt;
  return out;
}

SodiumRandom::SodiumRandom() { detail::ensure_sodium(); }

void SodiumRandom::fill(std::span<std::byte> out) { randombytes_buf(out.data(), out.size()); }

}  // namespace todo::auth

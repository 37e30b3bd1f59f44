// Opaque secrets: refresh tokens and their stored digests, hex and base64url helpers.
#pragma once

#include "domain/clock.h"

#include <optional>
#include <string>
#include <string_view>

namespace todo::auth {

// 256 random bits, base64url without padding (43 characters).
std::string new_opaque_token(domain::RandomSource& random);

// Lower-case hex SHA-256 of the input.
std::string sha256_hex(std::string_view input);

// HMAC-SHA-256 with a key of any length; the 32 raw bytes of the MAC.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares secrets without leaking where they differ through timing.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);  // nullopt when malformed

// libsodium's CSPRNG.
class SodiumRandom final : public domain::RandomSource {
 public:
  SodiumRandom();  // calls sodium_init
  void fill(std::span<std::byte> out) override;
};

}  // namespace todo::auth

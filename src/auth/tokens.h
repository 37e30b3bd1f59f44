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

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);  // nullopt when malformed

// libsodium's CSPRNG.
class SodiumRandom final : public domain::RandomSource {
 public:
  SodiumRandom();  // calls sodium_init
  void fill(std::span<std::byte> out) override;
};

}  // namespace todo::auth

// The cryptography the HTTP channels share, over OpenSSL 3: base64, HMAC, P-256 keys and ECDH,
// AES-128-GCM, and JWT signing (ES256 for VAPID, RS256 for the FCM OAuth assertion).
// Byte strings are std::string. Failures of OpenSSL itself throw std::runtime_error; bad input
// (a key of the wrong length, an unparsable PEM) is a value (nullptr / nullopt).
#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace todo::notify {

struct PKeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PKey = std::unique_ptr<EVP_PKEY, PKeyFree>;

std::string base64_encode(std::string_view bytes);     // RFC 4648 §4, padded
std::string base64url_encode(std::string_view bytes);  // RFC 4648 §5, unpadded
// Accepts either alphabet, with or without padding; nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

std::string hmac_sha256(std::string_view key, std::string_view data);
std::string random_bytes(std::size_t count);  // from OpenSSL's CSPRNG

// P-256 keys. Raw forms are those of RFC 8291/8292: the 65-byte uncompressed point and the
// 32-byte private scalar.
PKey generate_p256_key();
PKey p256_private_key(std::string_view scalar32);  // nullptr unless a valid scalar
PKey p256_public_key(std::string_view point65);    // nullptr unless a point on the curve
std::string p256_public_raw(EVP_PKEY* key);
std::string p256_private_raw(EVP_PKEY* key);
std::string ecdh_p256(EVP_PKEY* own_private, EVP_PKEY* peer_public);  // the 32-byte x coordinate

// AES-128-GCM with a 12-byte nonce: ciphertext followed by the 16-byte tag.
std::string aes128gcm_seal(std::string_view key16, std::string_view nonce12,
                           std::string_view plaintext);

PKey pem_private_key(std::string_view pem);  // nullptr unless a PEM private key
// header.claims.signature, each part base64url; ES256 signatures are raw r‖s (RFC 7518 §3.4).
std::string jwt_es256(std::string_view claims_json, EVP_PKEY* p256_private);
std::string jwt_rs256(std::string_view claims_json, EVP_PKEY* rsa_private);

}  // namespace todo::notify

// Password policy (length and a common-password list, no composition rules, per NIST SP 800-63B)
// and argon2id hashing through libsodium.
#include "auth/password.h"

#include <sodium.h>

#include <array>
#include <stdexcept>

#include "auth/sodium_init.h"
#include "auth/tokens.h"
#include "domain/text.h"
#include "domain/user.h"

namespace todo::auth {

namespace {

// src/auth/common-passwords.txt, turned into a raw string literal by src/auth/CMakeLists.txt.
constexpr char kShippedList[] =
#include "common_passwords.inc"
    ;

constexpr std::size_t kMinPasswordLength = 8;
constexpr std::size_t kMaxPasswordLength = 256;

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim_ascii(std::string_view line) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const std::size_t begin = line.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const std::size_t end = line.find_last_not_of(kSpace);
  return line.substr(begin, end - begin + 1);
}

domain::Error password_error(std::string reason) {
  return domain::validation_error({{"password", std::move(reason)}});
}

}  // namespace

PasswordHashCost interactive_cost() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordPolicy PasswordPolicy::from_list(std::string_view list_text) {
  PasswordPolicy policy;
  while (!list_text.empty()) {
    const std::size_t newline = list_text.find('\n');
    const std::string_view line = list_text.substr(0, newline);
    list_text.remove_prefix(newline == std::string_view::npos ? list_text.size() : newline + 1);
    const std::string_view password = trim_ascii(line);
    if (!password.empty()) policy.common_.insert(ascii_lower(password));
  }
  return policy;
}

const PasswordPolicy& PasswordPolicy::shipped() {
  static const PasswordPolicy policy = from_list(kShippedList);
  return policy;
}

domain::Result<void> PasswordPolicy::check(std::string_view password) const {
  if (!domain::is_valid_utf8(password)) return password_error("must be valid UTF-8");
  const std::size_t length = domain::code_point_count(password);
  if (length < kMinPasswordLength) return password_error("must be at least 8 characters");
  if (length > kMaxPasswordLength) return password_error("must be at most 256 characters");
  if (common_.contains(ascii_lower(password))) {
    return password_error("is too common; choose a less guessable password");
  }
  return {};
}

PasswordHasher::PasswordHasher(PasswordHashCost cost) : cost_(cost) {
  detail::ensure_sodium();
  std::array<unsigned char, 32> secret{};
  randombytes_buf(secret.data(), secret.size());
  decoy_ = hash(base64url_encode(
      std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size())));
  sodium_memzero(secret.data(), secret.size());
}

std::string PasswordHasher::hash(std::string_view password) const {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), cost_.ops_limit,
                            cost_.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    // Only when the memory cannot be allocated or the cost is out of range: not an input error.
    throw std::runtime_error("argon2id hashing failed (out of memory or invalid cost)");
  }
  return std::string(out.data());
}

bool PasswordHasher::verify(std::string_view encoded_hash, std::string_view password) const {
  // libsodium reads a NUL-terminated string of less than crypto_pwhash_STRBYTES.
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES ||
      encoded_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string terminated(encoded_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

}  // namespace todo::auth

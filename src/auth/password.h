// Password policy (NIST SP 800-63B) and argon2id hashing through libsodium.
#pragma once

#include "domain/error.h"

#include <string>
#include <string_view>
#include <unordered_set>

namespace todo::auth {

struct PasswordHashCost {
  unsigned long long ops_limit;  // argon2id iterations
  std::size_t mem_limit;         // bytes
};

// libsodium's "interactive" cost: about 64 MiB and ~50 ms per hash on this machine.
PasswordHashCost interactive_cost();

class PasswordPolicy {
 public:
  // One password a line; blank lines ignored; compared case-insensitively.
  static PasswordPolicy from_list(std::string_view list_text);
  // The list shipped with the project (compiled in from src/auth/common-passwords.txt).
  static const PasswordPolicy& shipped();

  // 8–256 code points of valid UTF-8, not in the common list. The error is kValidation with the
  // field "password" and a reason a person understands.
  domain::Result<void> check(std::string_view password) const;

 private:
  std::unordered_set<std::string> common_;
};

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordHashCost cost = interactive_cost());
  std::string hash(std::string_view password) const;  // "$argon2id$v=19$m=...": salt included
  bool verify(std::string_view encoded_hash, std::string_view password) const;
  // A valid hash of a random password: login verifies against it for unknown e-mails, so an unknown
  // account and a wrong password take similar time.
  const std::string& decoy_hash() const { return decoy_; }

 private:
  PasswordHashCost cost_;
  std::string decoy_;
};

}  // namespace todo::auth

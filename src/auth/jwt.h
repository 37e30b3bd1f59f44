// JSON Web Tokens, HS256 only (RFC 7519 / RFC 7515). Verification accepts exactly HS256.
#pragma once

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/user.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace todo::auth {

struct JwtSettings {
  std::string secret;  // at least 32 bytes (checked by the configuration)
  std::string issuer = "todo";
  std::string audience = "todo-api";
  std::chrono::seconds lifetime{15 * 60};
  std::chrono::seconds leeway{30};  // tolerated clock skew for exp and nbf/iat
};

struct Claims {
  std::string sub;  // user id
  std::string email;
  domain::Role role = domain::Role::kUser;
  std::int64_t iat = 0;  // seconds since the epoch
  std::int64_t exp = 0;
  std::string iss;
  std::string aud;
  std::string jti;
};

struct IssuedToken {
  std::string token;
  Claims claims;
};

class JwtCodec {
 public:
  JwtCodec(JwtSettings settings, const domain::Clock& clock, domain::RandomSource& random);

  IssuedToken issue(std::string_view user_id, std::string_view email, domain::Role role) const;

  // Errors (all ErrorCode::kToken*): kTokenMalformed (not three base64url parts, bad JSON, missing
  // or mistyped claims), kTokenAlgorithm (alg other than HS256, including "none", or typ not JWT),
  // kTokenSignature (missing or wrong signature), kTokenExpired, kTokenNotYetValid (nbf or iat in
  // the future beyond the leeway), kTokenIssuer, kTokenAudience.
  // A token whose signature and payload were checked once is remembered (a bounded set, keyed by
  // the whole token): a client sends the same token with every request, and its signature and
  // claims are then not checked and parsed again; the time, issuer and audience checks always run.
  domain::Result<Claims> verify(std::string_view token) const;

  std::chrono::seconds lifetime() const { return settings_.lifetime; }

 private:
  struct VerifiedTokens;

  JwtSettings settings_;
  const domain::Clock& clock_;
  domain::RandomSource& random_;
  std::shared_ptr<VerifiedTokens> verified_;  // thread-safe; shared by copies (same settings)
};

}  // namespace todo::auth

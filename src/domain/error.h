// Expected failures as values: every module reports them with Error, and the HTTP layer turns them
// into application/problem+json in exactly one place (http/problem.cpp).
#pragma once

#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace todo::domain {

// One stable code per kind of failure. http/problem.cpp maps each to its slug, status and title.
enum class ErrorCode {
  kValidation,            // 422 validation-error: `fields` says which and why
  kBadRequest,            // 400 bad-request: a malformed query parameter, header or cursor
  kMalformedJson,         // 400 malformed-json
  kInvalidEmailFormat,    // 400 invalid-email-format (registration; `fields` lists every error)
  kInvalidPassword,       // 400 invalid-password (registration; `fields` lists every error)
  kInvalidUtf8,           // 400 invalid-utf8
  kUnsupportedMediaType,  // 415 unsupported-media-type
  kPayloadTooLarge,       // 413 payload-too-large
  kHeadersTooLarge,       // 431 headers-too-large
  kRouteNotFound,         // 404 not-found
  kMethodNotAllowed,      // 405 method-not-allowed
  kEmailTaken,            // 409 email-taken
  kInvalidCredentials,    // 401 invalid-credentials
  kTokenMissing,          // 401 token-missing
  kTokenMalformed,        // 401 token-malformed
  kTokenAlgorithm,        // 401 token-algorithm-not-allowed
  kTokenSignature,        // 401 token-signature-invalid
  kTokenExpired,          // 401 token-expired
  kTokenNotYetValid,      // 401 token-not-yet-valid
  kTokenIssuer,           // 401 token-issuer-invalid
  kTokenAudience,         // 401 token-audience-invalid
  kTokenInvalid,          // 401 token-invalid: not the configured static token (e.g. of /metrics)
  kRefreshTokenInvalid,   // 401 refresh-token-invalid (unknown, expired or revoked)
  kRefreshTokenReused,    // 401 refresh-token-reused (its whole family is now revoked)
  kForbidden,             // 403 forbidden
  kUserNotFound,          // 404 user-not-found
  kTaskNotFound,          // 404 task-not-found
  kTargetNotFound,        // 404 target-not-found (a notification target)
  kTargetExists,          // 409 target-exists (the same notification target twice)
  kVersionConflict,       // 412 version-conflict
  kIdempotencyMismatch,   // 422 idempotency-key-reused
  kResyncRequired,        // 410 resync-required
  kQuotaExceeded,         // 409 quota-exceeded: extensions name the quota, limit and usage
  kRateLimited,           // 429 rate-limited (with retry_after_seconds)
  kOverloaded,            // 503 overloaded (a bounded queue is full)
  kUnavailable,           // 503 unavailable (database or bus unreachable)
  kInternal,              // 500 internal-error (details are logged, never returned)
};

struct FieldError {
  std::string field;   // JSON name of the field, e.g. "email" or "tags[2]"
  std::string reason;  // human-readable, e.g. "must be 8 to 256 characters"
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;
  std::vector<FieldError> fields;
  std::optional<int> retry_after_seconds;  // for kRateLimited
  // Extra members of the problem document: name → JSON text (e.g. "task" with the current task on
  // a version conflict).
  std::vector<std::pair<std::string, std::string>> extensions;
};

inline Error make_error(ErrorCode code, std::string detail) {
  Error e;
  e.code = code;
  e.detail = std::move(detail);
  return e;
}

inline Error validation_error(std::vector<FieldError> fields) {
  Error e = make_error(ErrorCode::kValidation, "The request has invalid fields.");
  e.fields = std::move(fields);
  return e;
}

// Required by boost::system::result<T, Error> for value() on an error.
class ErrorException : public std::exception {
 public:
  explicit ErrorException(Error error) : error_(std::move(error)) {}
  const Error& error() const noexcept { return error_; }
  const char* what() const noexcept override { return error_.detail.c_str(); }

 private:
  Error error_;
};

[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw ErrorException(e);
}

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace todo::domain

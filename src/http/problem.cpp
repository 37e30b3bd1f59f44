// Maps every domain::ErrorCode to its problem type, status and title (RFC 9457).
#include "http/problem.h"

#include <algorithm>

#include <boost/json.hpp>

#include <cstdint>

namespace todo::http {

ProblemKind problem_kind(domain::ErrorCode code) {
  using domain::ErrorCode;
  switch (code) {
    case ErrorCode::kValidation: return {"validation-error", 422, "Validation failed"};
    case ErrorCode::kBadRequest: return {"bad-request", 400, "Bad request"};
    case ErrorCode::kMalformedJson: return {"malformed-json", 400, "Malformed JSON"};
    case ErrorCode::kInvalidEmailFormat:
      return {"invalid-email-format", 400, "Invalid e-mail address"};
    case ErrorCode::kInvalidPassword: return {"invalid-password", 400, "Invalid password"};
    case ErrorCode::kInvalidUtf8: return {"invalid-utf8", 400, "Invalid UTF-8"};
    case ErrorCode::kUnsupportedMediaType:
      return {"unsupported-media-type", 415, "Unsupported media type"};
    case ErrorCode::kPayloadTooLarge: return {"payload-too-large", 413, "Payload too large"};
    case ErrorCode::kHeadersTooLarge:
      return {"headers-too-large", 431, "Request header fields too large"};
    case ErrorCode::kRouteNotFound: return {"not-found", 404, "Not found"};
    case ErrorCode::kMethodNotAllowed: return {"method-not-allowed", 405, "Method not allowed"};
    case ErrorCode::kEmailTaken: return {"email-taken", 409, "E-mail already registered"};
    case ErrorCode::kInvalidCredentials:
      return {"invalid-credentials", 401, "Invalid e-mail or password"};
    case ErrorCode::kTokenMissing: return {"token-missing", 401, "Authentication required"};
    case ErrorCode::kTokenMalformed: return {"token-malformed", 401, "Malformed token"};
    case ErrorCode::kTokenAlgorithm:
      return {"token-algorithm-not-allowed", 401, "Token algorithm not allowed"};
    case ErrorCode::kTokenSignature:
      return {"token-signature-invalid", 401, "Invalid token signature"};
    case ErrorCode::kTokenExpired: return {"token-expired", 401, "Token expired"};
    case ErrorCode::kTokenNotYetValid: return {"token-not-yet-valid", 401, "Token not yet valid"};
    case ErrorCode::kTokenIssuer: return {"token-issuer-invalid", 401, "Invalid token issuer"};
    case ErrorCode::kTokenAudience:
      return {"token-audience-invalid", 401, "Invalid token audience"};
    case ErrorCode::kTokenInvalid:
      return {"token-invalid", 401, "Invalid token"};
    case ErrorCode::kRefreshTokenInvalid:
      return {"refresh-token-invalid", 401, "Invalid refresh token"};
    case ErrorCode::kRefreshTokenReused:
      return {"refresh-token-reused", 401, "Refresh token reused"};
    case ErrorCode::kForbidden: return {"forbidden", 403, "Forbidden"};
    case ErrorCode::kUserNotFound: return {"user-not-found", 404, "User not found"};
    case ErrorCode::kTaskNotFound: return {"task-not-found", 404, "Task not found"};
    case ErrorCode::kTargetNotFound:
      return {"target-not-found", 404, "Notification target not found"};
    case ErrorCode::kTargetExists:
      return {"target-exists", 409, "Notification target already exists"};
    case ErrorCode::kVersionConflict: return {"version-conflict", 412, "Version conflict"};
    case ErrorCode::kIdempotencyMismatch:
      return {"idempotency-key-reused", 422, "Idempotency key reused with another request"};
    case ErrorCode::kResyncRequired: return {"resync-required", 410, "Full resync required"};
    case ErrorCode::kQuotaExceeded: return {"quota-exceeded", 409, "Quota exceeded"};
    case ErrorCode::kRateLimited: return {"rate-limited", 429, "Too many requests"};
    case ErrorCode::kOverloaded: return {"overloaded", 503, "Server overloaded"};
    case ErrorCode::kUnavailable: return {"unavailable", 503, "Service unavailable"};
    case ErrorCode::kInternal: return {"internal-error", 500, "Internal server error"};
  }
  return {"internal-error", 500, "Internal server error"};
}

Response problem_response(const domain::Error& error, std::string_view instance) {
  ProblemKind kind = problem_kind(error.code);
  boost::json::object body;
  body["type"] = kind.slug;
  body["title"] = kind.title;
  body["status"] = kind.status;
  body["detail"] = error.detail.empty() ? kind.title : std::string_view(error.detail);
  body["instance"] = printable_target(instance);
  if (!error.fields.empty()) {
    boost::json::array errors;
    for (const auto& f : error.fields) {
      errors.push_back(boost::json::object{{"field", f.field}, {"reason", f.reason}});
    }
    body["errors"] = std::move(errors);
  }
  for (const auto& [name, json_text] : error.extensions) {
    boost::system::error_code ec;
    auto value = boost::json::parse(json_text, ec);
    if (!ec) body[name] = std::move(value);
  }
  Response res;
  res.status = kind.status;
  res.body = boost::json::serialize(body);
  res.set_header("content-type", "application/problem+json");
  if (error.retry_after_seconds) {
    res.set_header("retry-after", std::to_string(*error.retry_after_seconds));
  } else if (kind.status == 503) {
    // Every 503 tells the client when to come back: the pools and the database recover in
    // moments, so one second unless the error says otherwise.
    res.set_header("retry-after", "1");
  }
  if (error.code == domain::ErrorCode::kTokenMissing) {
    res.set_header("www-authenticate", "Bearer");
  } else if (kind.status == 401 && error.code != domain::ErrorCode::kInvalidCredentials &&
             error.code != domain::ErrorCode::kRefreshTokenInvalid &&
             error.code != domain::ErrorCode::kRefreshTokenReused) {
    res.set_header("www-authenticate", "Bearer error=\"invalid_token\"");
  }
  return res;
}

Response problem_response(const ProblemKind& kind, std::string_view detail,
                          std::string_view instance) {
  boost::json::object body;
  body["type"] = kind.slug;
  body["title"] = kind.title;
  body["status"] = kind.status;
  body["detail"] = detail;
  body["instance"] = printable_target(instance);
  Response res;
  res.status = kind.status;
  res.body = boost::json::serialize(body);
  res.set_header("content-type", "application/problem+json");
  return res;
}

namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::string printable_target(std::string_view target) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Most paths are printable ASCII throughout: nothing to escape, one copy.
  if (std::all_of(target.begin(), target.end(),
                  [](char c) { return c >= 0x20 && c < 0x7F; })) {
    return std::string(target);
  }
  std::string out;
  out.reserve(target.size());
  while (!target.empty()) {
    std::size_t n = utf8_sequence_length(target);
    auto c = static_cast<unsigned char>(target.front());
    if (n == 0 || c < 0x20 || c == 0x7F) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      n = 1;
    } else {
      out.append(target.substr(0, n));
    }
    target.remove_prefix(n);
  }
  return out;
}

}  // namespace todo::http

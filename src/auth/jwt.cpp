// HS256 JSON Web Tokens: issuing access tokens and verifying them strictly (RFC 7519, RFC 7515,
// RFC 8725). Verification never throws for bad input; each failure has its own error code.
#include "auth/jwt.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "auth/sodium_init.h"
#include "auth/tokens.h"
#include "domain/ids.h"

namespace todo::auth {

namespace {

namespace json = boost::json;
using domain::ErrorCode;
using domain::make_error;

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";


std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

const json::string* string_member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_string() : nullptr;
}

// JSON integers only: 1.7e9 or 1700000000.0 are refused rather than rounded.
std::optional<std::int64_t> integer_member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64() &&
      value->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  return std::nullopt;
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct Parts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "header.payload"
};

std::optional<Parts> split(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1), token.substr(0, second)};
}

domain::Result<void> check_header(std::string_view encoded) {
  const auto decoded = base64url_decode(encoded);
  if (!decoded) return make_error(ErrorCode::kTokenMalformed, "The token header is not base64url.");
  const auto header = parse_object(*decoded);
  if (!header) {
    return make_error(ErrorCode::kTokenMalformed, "The token header is not a JSON object.");
  }
  const json::string* alg = string_member(*header, "alg");
  if (alg == nullptr || *alg != "HS256") {
    return make_error(ErrorCode::kTokenAlgorithm, "Only HS256 tokens are accepted.");
  }
  if (const json::value* typ = header->if_contains("typ")) {
    if (!typ->is_string() || !equals_ignoring_ascii_case(typ->get_string(), "JWT")) {
      return make_error(ErrorCode::kTokenAlgorithm, "The token type is not JWT.");
    }
  }
  // RFC 7515 §4.1.11: extensions marked critical must be understood, and we understand none.
  if (header->contains("crit")) {
    return make_error(ErrorCode::kTokenMalformed, "The token has critical header extensions.");
  }
  return {};
}

domain::Result<void> check_signature(const Parts& parts, std::string_view secret) {
  if (parts.signature.empty()) {
    return make_error(ErrorCode::kTokenSignature, "The token is not signed.");
  }
  const auto signature = base64url_decode(parts.signature);
  if (!signature) {
    return make_error(ErrorCode::kTokenMalformed, "The token signature is not base64url.");
  }
  if (!constant_time_equal(*signature, hmac_sha256(secret, parts.signing_input))) {
    return make_error(ErrorCode::kTokenSignature, "The token signature does not match.");
  }
  return {};
}

// The audience claim may be one string or an array of strings (RFC 7519 §4.1.3).
std::optional<std::vector<std::string>> audience_claim(const json::object& payload) {
  const json::value* aud = payload.if_contains("aud");
  if (aud == nullptr) return std::nullopt;
  if (aud->is_string()) return std::vector<std::string>{std::string(aud->get_string())};
  if (!aud->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const json::value& item : aud->get_array()) {
    if (!item.is_string()) return std::nullopt;
    out.emplace_back(item.get_string());
  }
  return out;
}

struct DecodedPayload {
  Claims claims;
  std::vector<std::string> audiences;
  std::optional<std::int64_t> nbf;
};

domain::Result<DecodedPayload> decode_payload(std::string_view encoded) {
  const auto malformed = [](std::string detail) {
    return make_error(ErrorCode::kTokenMalformed, std::move(detail));
  };
  const auto decoded = base64url_decode(encoded);
  if (!decoded) return malformed("The token payload is not base64url.");
  const auto payload = parse_object(*decoded);
  if (!payload) return malformed("The token payload is not a JSON object.");

  const json::string* sub = string_member(*payload, "sub");
  const json::string* email = string_member(*payload, "email");
  const json::string* role_text = string_member(*payload, "role");
  const json::string* iss = string_member(*payload, "iss");
  const json::string* jti = string_member(*payload, "jti");
  const auto iat = integer_member(*payload, "iat");
  const auto exp = integer_member(*payload, "exp");
  auto aud = audience_claim(*payload);
  if (sub == nullptr || sub->empty()) return malformed("The token has no subject.");
  if (email == nullptr) return malformed("The token has no e-mail claim.");
  const auto role = role_text != nullptr ? domain::parse_role(*role_text) : std::nullopt;
  if (!role) return malformed("The token has no valid role claim.");
  if (!iat || !exp) return malformed("The token's iat and exp must be integers.");
  if (iss == nullptr) return malformed("The token has no issuer.");
  if (!aud) return malformed("The token has no valid audience.");
  if (jti == nullptr) return malformed("The token has no id (jti).");

  std::optional<std::int64_t> nbf;
  if (payload->contains("nbf")) {
    nbf = integer_member(*payload, "nbf");
    if (!nbf) return malformed("The token's nbf must be an integer.");
  }

  Claims claims{std::string(*sub), std::string(*email), *role, *iat, *exp, std::string(*iss), {},
                std::string(*jti)};
  return DecodedPayload{std::move(claims), std::move(*aud), nbf};
}

// Hashes a token by its text, so a string_view finds it without a copy.
struct TokenHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view token) const {
    return std::hash<std::string_view>{}(token);
  }
};

}  // namespace

// Tokens whose header, signature and payload passed, with what their payload said. Bounded: when
// full, the expired ones go, and if that is not enough, all of them (they are checked again).
struct JwtCodec::VerifiedTokens {
  static constexpr std::size_t kCapacity = 4096;

  std::optional<DecodedPayload> find(std::string_view token) {
    std::lock_guard lock(mutex);
    auto it = entries.find(token);
    if (it == entries.end()) return std::nullopt;
    return it->second;
  }

  void remember(std::string_view token, const DecodedPayload& payload,
                std::int64_t expired_before) {
    std::lock_guard lock(mutex);
    if (entries.size() >= kCapacity) {
      std::erase_if(entries, [expired_before](const auto& entry) {
        return entry.second.claims.exp <= expired_before;
      });
      if (entries.size() >= kCapacity) entries.clear();
    }
    entries.emplace(std::string(token), payload);
  }

  std::mutex mutex;
  std::unordered_map<std::string, DecodedPayload, TokenHash, std::equal_to<>> entries;
};

JwtCodec::JwtCodec(JwtSettings settings, const domain::Clock& clock, domain::RandomSource& random)
    : settings_(std::move(settings)),
      clock_(clock),
      random_(random),
      verified_(std::make_shared<VerifiedTokens>()) {
  detail::ensure_sodium();
  // Anyone could forge tokens signed with an empty key; the configuration demands 32 bytes.
  if (settings_.secret.empty()) throw std::invalid_argument("the JWT secret must not be empty");
}

IssuedToken JwtCodec::issue(std::string_view user_id, std::string_view email,
                            domain::Role role) const {
  const domain::Timestamp now = clock_.now();
  const std::int64_t iat = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  Claims claims{std::string(user_id),
                std::string(email),
                role,
                iat,
                iat + settings_.lifetime.count(),
                settings_.issuer,
                settings_.audience,
                domain::new_uuid_v7(now, random_)};

  json::object payload;
  payload["sub"] = claims.sub;
  payload["email"] = claims.email;
  payload["role"] = domain::to_string(claims.role);
  payload["iat"] = claims.iat;
  payload["exp"] = claims.exp;
  payload["iss"] = claims.iss;
  payload["aud"] = claims.aud;
  payload["jti"] = claims.jti;

  std::string token = base64url_encode(kHeader);
  token += '.';
  token += base64url_encode(json::serialize(payload));
  const std::string mac = hmac_sha256(settings_.secret, token);
  token += '.';
  token += base64url_encode(mac);
  return IssuedToken{std::move(token), std::move(claims)};
}

domain::Result<Claims> JwtCodec::verify(std::string_view token) const {
  const std::int64_t now =
      std::chrono::floor<std::chrono::seconds>(clock_.now()).time_since_epoch().count();
  const std::int64_t leeway = settings_.leeway.count();
  std::optional<DecodedPayload> known = verified_->find(token);
  if (!known) {
    const auto parts = split(token);
    if (!parts) {
      return make_error(ErrorCode::kTokenMalformed, "A token has three dot-separated parts.");
    }
    if (auto header = check_header(parts->header); !header) return header.error();
    if (auto signature = check_signature(*parts, settings_.secret); !signature) {
      return signature.error();
    }
    auto decoded = decode_payload(parts->payload);
    if (!decoded) return decoded.error();
    known = std::move(decoded.value());
    verified_->remember(token, *known, now - leeway);
  }
  DecodedPayload& payload = *known;
  Claims& claims = payload.claims;

  // Written as now ± leeway so that no claim value, however large, can overflow.
  if (claims.exp <= now - leeway) {
    return make_error(ErrorCode::kTokenExpired, "The token has expired.");
  }
  if ((payload.nbf && *payload.nbf > now + leeway) || claims.iat > now + leeway) {
    return make_error(ErrorCode::kTokenNotYetValid, "The token is not valid yet.");
  }
  if (claims.iss != settings_.issuer) {
    return make_error(ErrorCode::kTokenIssuer, "The token was issued by someone else.");
  }
  const auto& audiences = payload.audiences;
  if (std::find(audiences.begin(), audiences.end(), settings_.audience) == audiences.end()) {
    return make_error(ErrorCode::kTokenAudience, "The token is meant for another audience.");
  }
  claims.aud = settings_.audience;
  return std::move(claims);
}

}  // namespace todo::auth

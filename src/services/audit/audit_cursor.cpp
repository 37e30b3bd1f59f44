// Cursor = base64url("<kind>:<id>") "." base64url(HMAC-SHA-256 of it, truncated to 128 bits).
#include "services/audit/audit_cursor.h"

#include <charconv>

#include "auth/tokens.h"

namespace todo::services::audit {
namespace {

constexpr std::size_t kMacBytes = 16;

std::string_view prefix_of(CursorKind kind) {
  return kind == CursorKind::kList ? "audit-list:" : "audit-history:";
}

domain::Error bad_cursor(std::string reason) {
  domain::Error e = domain::make_error(domain::ErrorCode::kBadRequest, "The cursor is not valid.");
  e.fields.push_back({"cursor", std::move(reason)});
  return e;
}

}  // namespace

std::string AuditCursorCodec::encode(CursorKind kind, std::int64_t last_id) const {
  const std::string body =
      auth::base64url_encode(std::string(prefix_of(kind)) + std::to_string(last_id));
  const std::string mac = auth::hmac_sha256(key_, body).substr(0, kMacBytes);
  return body + "." + auth::base64url_encode(mac);
}

domain::Result<std::int64_t> AuditCursorCodec::decode(std::string_view cursor,
                                                      CursorKind kind) const {
  const auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return bad_cursor("is malformed");
  const std::string_view body = cursor.substr(0, dot);
  const auto mac = auth::base64url_decode(cursor.substr(dot + 1));
  if (!mac ||
      !auth::constant_time_equal(*mac, auth::hmac_sha256(key_, body).substr(0, kMacBytes))) {
    return bad_cursor("was modified or was not issued by this server");
  }
  const auto text = auth::base64url_decode(body);
  if (!text) return bad_cursor("is malformed");
  const std::string_view prefix = prefix_of(kind);
  if (!std::string_view(*text).starts_with(prefix)) {
    return bad_cursor("belongs to another listing");
  }
  std::int64_t id = 0;
  const char* first = text->data() + prefix.size();
  const char* last = text->data() + text->size();
  auto [end, ec] = std::from_chars(first, last, id);
  if (ec != std::errc() || end != last) return bad_cursor("is malformed");
  return id;
}

}  // namespace todo::services::audit

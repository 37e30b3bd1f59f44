// Cursor = base64url(JSON position) "." base64url(HMAC-SHA-256 of it, truncated to 128 bits).
#include "services/api/list_cursor.h"

#include "auth/tokens.h"

#include <boost/json.hpp>

namespace todo::services::api {
namespace {

constexpr std::size_t kMacBytes = 16;

domain::Error bad_cursor(std::string reason) {
  domain::Error e = domain::make_error(domain::ErrorCode::kBadRequest, "The cursor is not valid.");
  e.fields.push_back({"cursor", std::move(reason)});
  return e;
}

}  // namespace

std::string ListCursorCodec::encode(store::TaskSort sort, bool descending,
                                    const store::TaskPosition& position) const {
  boost::json::object o;
  o["s"] = static_cast<int>(sort);
  o["d"] = descending;
  o["i"] = position.id;
  if (auto* n = std::get_if<std::int64_t>(&position.value)) o["n"] = *n;
  if (auto* t = std::get_if<std::string>(&position.value)) o["t"] = *t;
  std::string body = auth::base64url_encode(boost::json::serialize(o));
  std::string mac = auth::hmac_sha256(key_, body).substr(0, kMacBytes);
  return body + "." + auth::base64url_encode(mac);
}

domain::Result<store::TaskPosition> ListCursorCodec::decode(std::string_view cursor,
                                                            store::TaskSort sort,
                                                            bool descending) const {
  auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return bad_cursor("is malformed");
  std::string_view body = cursor.substr(0, dot);
  auto mac = auth::base64url_decode(cursor.substr(dot + 1));
  if (!mac || !auth::constant_time_equal(*mac, auth::hmac_sha256(key_, body).substr(0, kMacBytes))) {
    return bad_cursor("was modified or was not issued by this server");
  }
  auto text = auth::base64url_decode(body);
  if (!text) return bad_cursor("is malformed");
  boost::system::error_code ec;
  auto value = boost::json::parse(*text, ec);
  if (ec || !value.is_object()) return bad_cursor("is malformed");
  const auto& o = value.as_object();
  auto* s = o.if_contains("s");
  auto* d = o.if_contains("d");
  auto* i = o.if_contains("i");
  if (!s || !s->is_int64() || !d || !d->is_bool() || !i || !i->is_string()) {
    return bad_cursor("is malformed");
  }
  if (s->as_int64() != static_cast<int>(sort) || d->as_bool() != descending) {
    return bad_cursor("belongs to another sort or order");
  }
  store::TaskPosition position;
  position.id = std::string(i->as_string());
  if (auto* n = o.if_contains("n"); n && n->is_int64()) position.value = n->as_int64();
  if (auto* t = o.if_contains("t"); t && t->is_string()) position.value = std::string(t->as_string());
  return position;
}

}  // namespace todo::services::api

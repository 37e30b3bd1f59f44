// Bearer tokens from the Authorization header (RFC 6750).
#include "services/api/authenticator.h"

#include <cctype>

namespace todo::services::api {

domain::Result<auth::Claims> Authenticator::authenticate(const http::Request& request) const {
  auto header = request.header("authorization");
  if (!header) {
    return domain::make_error(domain::ErrorCode::kTokenMissing,
                              "Send an access token: Authorization: Bearer <token>.");
  }
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer ";
  bool bearer = value.size() >= kScheme.size();
  for (std::size_t i = 0; bearer && i < kScheme.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(value[i])) == kScheme[i];
  }
  if (!bearer) {
    return domain::make_error(domain::ErrorCode::kTokenMissing,
                              "The Authorization header must use the Bearer scheme.");
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) {
    return domain::make_error(domain::ErrorCode::kTokenMissing, "The bearer token is empty.");
  }
  return jwt_.verify(value);
}

}  // namespace todo::services::api

// Query parameter helpers shared by the routes.
#include "http/query.h"

#include <charconv>

namespace todo::http {

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

domain::Error bad_query(std::vector<domain::FieldError> fields) {
  domain::Error e =
      domain::make_error(domain::ErrorCode::kBadRequest, "Some query parameters are invalid.");
  e.fields = std::move(fields);
  return e;
}

}  // namespace todo::http

// Query parameters: the integer reader and the one bad-request problem every route uses to name
// all of its invalid parameters at once.
#pragma once

#include "domain/error.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace todo::http {

// The whole text as a base-10 integer; nullopt for anything else (empty, sign only, trailing text,
// out of range).
std::optional<std::int64_t> parse_integer(std::string_view text);

// kBadRequest "Some query parameters are invalid." with `fields` as its errors.
domain::Error bad_query(std::vector<domain::FieldError> fields);

}  // namespace todo::http

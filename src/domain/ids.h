// Identifiers: UUIDv7 (time-ordered) for rows and events.
#pragma once

#include "domain/clock.h"

#include <string>
#include <string_view>

namespace todo::domain {

// RFC 9562 UUIDv7 in canonical lower-case text form.
std::string new_uuid_v7(Timestamp now, RandomSource& random);

// True for a canonical 8-4-4-4-12 hexadecimal UUID (any version).
bool is_uuid(std::string_view text);

}  // namespace todo::domain

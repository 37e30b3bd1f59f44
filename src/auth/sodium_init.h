// Internal to auth: libsodium must be initialised once before use.
#pragma once

namespace todo::auth::detail {

// Calls sodium_init (thread-safe, idempotent); throws std::runtime_error when it fails.
void ensure_sodium();

}  // namespace todo::auth::detail

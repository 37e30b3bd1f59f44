// The JWT signing secret: configured, or generated once and kept in the data directory.
#pragma once

#include "domain/clock.h"

#include <filesystem>
#include <string>

namespace todo::app {

// Reads <data_dir>/jwt-secret, creating it (mode 0600, 64 random bytes as hex) when missing.
// Throws std::runtime_error when it cannot be read or written, or is too short.
std::string load_or_create_secret(const std::filesystem::path& data_dir,
                                  domain::RandomSource& random);

}  // namespace todo::app

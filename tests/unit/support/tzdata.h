// Real time zones for tests: reads TZif files from the system's tzdata (/usr/share/zoneinfo) or
// from a fixture folder. The domain library itself never reads files; tests may.
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "domain/time_zone.h"

namespace todo::testing {

inline const std::filesystem::path kSystemZoneinfo = "/usr/share/zoneinfo";

// Slim TZif fixtures (zic -b slim), see tests/unit/domain/testdata/tzif-slim/README.md.
inline std::filesystem::path slim_zoneinfo() {
  return std::filesystem::path(TODO_UNIT_TESTS_DIR) / "domain/testdata/tzif-slim";
}

// (Sized read rather than istreambuf_iterator, which trips GCC 12's -Wnull-dereference at -O3.)
inline std::string read_binary_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::string bytes(static_cast<std::size_t>(std::filesystem::file_size(path)), '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(file.gcount()));
  return bytes;
}

// Throws (and so fails the test) when the file is missing or does not parse.
inline domain::TimeZone load_zone(const std::string& name,
                                  const std::filesystem::path& root = kSystemZoneinfo) {
  auto zone = domain::TimeZone::from_tzif(name, read_binary_file(root / name));
  if (!zone) throw std::runtime_error(zone.error().detail);
  return std::move(zone).value();
}

}  // namespace todo::testing

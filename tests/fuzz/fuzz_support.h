// What the fuzz targets share: a check that crashes (so libFuzzer keeps the input), a fixed clock,
// and a fixed catalog of real time zones (the slim TZif fixtures of the unit tests, loaded once).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "domain/time_format.h"
#include "domain/time_zone.h"
#include "support/tzdata.h"

// A property every input must keep; a violation aborts, which libFuzzer reports as a crash and
// saves the input (crash-<sha1>).
#define FUZZ_CHECK(condition)                                                                  \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (false)

namespace todo::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline domain::Timestamp at(std::string_view rfc3339) {
  const auto t = domain::parse_rfc3339(rfc3339);
  FUZZ_CHECK(t.has_value());
  return *t;
}

// "Now" for every target.
inline const domain::Timestamp kNow = at("2026-12-06T12:00:00Z");

// UTC and every zone of tests/unit/domain/testdata/tzif-slim (Europe/Berlin, America/New_York,
// Pacific/Chatham…), read once; looking one up does no I/O.
class FixedZoneCatalog final : public domain::ZoneCatalog {
 public:
  FixedZoneCatalog() {
    zones_.emplace("UTC", std::make_shared<const domain::TimeZone>(domain::TimeZone::utc()));
    const std::filesystem::path root = testing::slim_zoneinfo();
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
      const std::string name = entry.path().lexically_relative(root).generic_string();
      zones_.emplace(name, std::make_shared<const domain::TimeZone>(testing::load_zone(name, root)));
    }
    FUZZ_CHECK(zones_.size() > 10);
  }

  std::shared_ptr<const domain::TimeZone> find(std::string_view name) const override {
    const auto it = zones_.find(name);
    return it == zones_.end() ? nullptr : it->second;
  }

  const domain::TimeZone& zone(std::string_view name) const {
    const auto found = find(name);
    FUZZ_CHECK(found != nullptr);
    return *found;
  }

 private:
  std::map<std::string, std::shared_ptr<const domain::TimeZone>, std::less<>> zones_;
};

inline const FixedZoneCatalog& zones() {
  static const FixedZoneCatalog catalog;
  return catalog;
}

}  // namespace todo::fuzz

// A ZoneCatalog over real TZif files, for tests of code that takes a catalog; unlike
// app::SystemZoneCatalog it caches nothing.
#pragma once

#include <memory>
#include <string_view>
#include <system_error>

#include "domain/user.h"
#include "support/tzdata.h"

namespace todo::testing {

class TzdataCatalog final : public domain::ZoneCatalog {
 public:
  explicit TzdataCatalog(std::filesystem::path root = kSystemZoneinfo) : root_(std::move(root)) {}

  std::shared_ptr<const domain::TimeZone> find(std::string_view name) const override {
    if (name.empty() || name.front() == '/' || name.find("..") != name.npos) return nullptr;
    std::error_code ec;
    const std::filesystem::path path = root_ / std::string(name);
    if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
    auto zone = domain::TimeZone::from_tzif(std::string(name), read_binary_file(path));
    if (!zone) return nullptr;
    return std::make_shared<const domain::TimeZone>(std::move(zone).value());
  }

 private:
  std::filesystem::path root_;
};

}  // namespace todo::testing

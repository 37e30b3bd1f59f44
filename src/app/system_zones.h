// The time zones of the system's tzdata (/usr/share/zoneinfo), parsed once and cached.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time_zone.h"
#include "domain/user.h"

namespace todo::app {

class SystemZoneCatalog final : public domain::ZoneCatalog {
 public:
  // Unknown names are remembered too, but only this many: the names come from users.
  static constexpr std::size_t kMaxUnknownNames = 1000;

  explicit SystemZoneCatalog(std::filesystem::path root = "/usr/share/zoneinfo",
                             std::size_t max_unknown_names = kMaxUnknownNames)
      : root_(std::move(root)), max_unknown_names_(max_unknown_names) {}

  // Safe to call from any thread.
  std::shared_ptr<const domain::TimeZone> find(std::string_view name) const override;

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::shared_ptr<const domain::TimeZone> load(std::string_view name) const;

  std::filesystem::path root_;
  std::size_t max_unknown_names_;
  mutable std::shared_mutex mutex_;
  // nullptr for a well-formed name that has no zone.
  mutable std::unordered_map<std::string, std::shared_ptr<const domain::TimeZone>, NameHash,
                             std::equal_to<>>
      zones_;
  mutable std::size_t unknown_names_ = 0;
};

}  // namespace todo::app

// The time zones of the system's tzdata (/usr/share/zoneinfo).
#pragma once

#include "domain/user.h"

#include <filesystem>

namespace todo::app {

class SystemZoneCatalog final : public domain::ZoneCatalog {
 public:
  explicit SystemZoneCatalog(std::filesystem::path root = "/usr/share/zoneinfo")
      : root_(std::move(root)) {}
  bool contains(std::string_view name) const override;

 private:
  std::filesystem::path root_;
};

}  // namespace todo::app

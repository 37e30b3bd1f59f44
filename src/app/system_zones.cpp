// A zone exists when its name is well-formed and its tzdata file parses as TZif. Each file is read
// and parsed once; later lookups share the parsed zone.
#include "app/system_zones.h"

#include <fstream>
#include <mutex>
#include <system_error>

#include "log/log.h"

namespace todo::app {
namespace {

// tzdata files are a few KiB; anything much larger is not one.
constexpr std::size_t kMaxFileBytes = 256 * 1024;

bool well_formed(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != name.npos) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  // posixrules, right/ and posix/ are tzdata internals, not zone names users pick; Debian's
  // "localtime" links to /etc/localtime, the server's own zone.
  if (name.starts_with("posix") || name.starts_with("right/") || name == "localtime") {
    return false;
  }
  return true;
}

bool is_utc(std::string_view name) { return name == "UTC" || name == "Etc/UTC"; }

}  // namespace

std::shared_ptr<const domain::TimeZone> SystemZoneCatalog::find(std::string_view name) const {
  if (!well_formed(name)) return nullptr;
  {
    std::shared_lock lock(mutex_);
    if (auto it = zones_.find(name); it != zones_.end()) return it->second;
  }
  // Read and parse outside the lock; if two threads race, the first to insert wins.
  std::shared_ptr<const domain::TimeZone> zone = load(name);
  std::unique_lock lock(mutex_);
  if (auto it = zones_.find(name); it != zones_.end()) return it->second;
  if (zone == nullptr) {
    if (unknown_names_ >= max_unknown_names_) return nullptr;
    ++unknown_names_;
  }
  zones_.emplace(std::string(name), zone);
  return zone;
}

std::shared_ptr<const domain::TimeZone> SystemZoneCatalog::load(std::string_view name) const {
  const std::filesystem::path path = root_ / std::string(name);
  std::error_code ec;
  std::string bytes;
  if (std::filesystem::is_regular_file(path, ec)) {  // not "America", a directory
    std::ifstream file(path, std::ios::binary);
    bytes.resize(kMaxFileBytes + 1);
    file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(file.gcount()));
  }
  if (!bytes.starts_with("TZif")) {
    // UTC works even on a machine without tzdata: every user starts in it.
    if (is_utc(name)) {
      return std::make_shared<const domain::TimeZone>(
          domain::TimeZone::from_posix_tz(std::string(name), "UTC0").value());
    }
    return nullptr;  // missing, or not a zone file (zone.tab, leapseconds…)
  }
  if (bytes.size() > kMaxFileBytes) {
    log::warn("time zone file is too large", {{"zone", name}, {"path", path.native()}});
    return nullptr;
  }
  auto zone = domain::TimeZone::from_tzif(std::string(name), bytes);
  if (!zone) {
    log::warn("time zone file does not parse",
              {{"zone", name}, {"path", path.native()}, {"detail", zone.error().detail}});
    return nullptr;
  }
  return std::make_shared<const domain::TimeZone>(std::move(zone).value());
}

}  // namespace todo::app

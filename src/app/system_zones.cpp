// A zone exists when its name is well-formed and its tzdata file is a TZif file.
#include "app/system_zones.h"

#include <fstream>

namespace todo::app {

bool SystemZoneCatalog::contains(std::string_view name) const {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != name.npos) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  // posixrules, right/ and posix/ are tzdata internals, not zone names users pick.
  if (name.starts_with("posix") || name.starts_with("right/")) return false;
  std::ifstream file(root_ / std::string(name), std::ios::binary);
  char magic[4] = {};
  return file.read(magic, 4) && std::string_view(magic, 4) == "TZif";
}

}  // namespace todo::app

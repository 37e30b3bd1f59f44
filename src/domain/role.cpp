// Text forms of roles, as stored and as carried in tokens.
#include "domain/user.h"

namespace todo::domain {

std::string_view to_string(Role role) { return role == Role::kAdmin ? "admin" : "user"; }

std::optional<Role> parse_role(std::string_view text) {
  if (text == "user") return Role::kUser;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

}  // namespace todo::domain

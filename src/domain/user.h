// Users and the validation of what a user may set about themselves.
#pragma once

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/time_zone.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace todo::domain {

enum class Role { kUser, kAdmin };
std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);

struct User {
  std::string id;  // UUIDv7
  std::string email;  // lower-case
  std::string password_hash;  // argon2id encoded string
  std::string display_name;
  std::string timezone = "UTC";  // IANA name
  Role role = Role::kUser;
  std::int64_t change_seq = 0;
  std::vector<int> default_reminders;  // minutes before due, applied to new tasks
  std::optional<std::string> reminder_email;  // where e-mail reminders go; nullopt = `email`
  Timestamp created_at{};
  std::optional<Timestamp> last_login_at;
};

inline constexpr int kMaxReminderOffsetMinutes = 40320;  // four weeks
inline constexpr std::size_t kMaxReminders = 10;
inline constexpr std::size_t kMaxDisplayNameLength = 100;  // in code points
inline constexpr std::size_t kMaxEmailLength = 254;

// Trims and lower-cases; nullopt with the reason when it is not a plausible address.
Result<std::string> normalize_email(std::string_view email);

// Trims; empty is allowed (the UI then shows the e-mail); at most 100 code points, no control chars.
Result<std::string> normalize_display_name(std::string_view name);

}  // namespace todo::domain

// Validation and normalisation of what a user sets about themselves.
#include "domain/user.h"

#include "domain/text.h"

#include <algorithm>
#include <array>

namespace todo::domain {

namespace {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "example.com" yes; "example", ".com", "example.", "a..b" no.
bool is_plausible_domain(std::string_view domain) {
  if (domain.find('.') == std::string_view::npos) return false;
  if (domain.front() == '.' || domain.back() == '.') return false;
  return domain.find("..") == std::string_view::npos;
}

Error email_error(std::string reason) { return validation_error({{"email", std::move(reason)}}); }

}  // namespace

Result<std::string> normalize_email(std::string_view email) {
  if (!is_valid_utf8(email)) return email_error("must be valid UTF-8");
  std::string normalized = ascii_lower(trim(email));
  if (normalized.empty()) return email_error("must not be empty");
  if (normalized.size() > kMaxEmailLength) return email_error("must be at most 254 characters");
  if (contains_control_or_space(normalized)) {
    return email_error("must not contain spaces or control characters");
  }
  const std::size_t at = normalized.find('@');
  if (at == std::string::npos || normalized.find('@', at + 1) != std::string::npos) {
    return email_error("must contain exactly one @");
  }
  const std::string_view local = std::string_view(normalized).substr(0, at);
  const std::string_view domain = std::string_view(normalized).substr(at + 1);
  if (local.empty()) return email_error("must have a name before the @");
  if (local.size() > 64) return email_error("must have at most 64 characters before the @");
  if (domain.empty() || !is_plausible_domain(domain)) {
    return email_error("must have a domain such as example.com after the @");
  }
  return normalized;
}

Result<std::string> normalize_display_name(std::string_view name) {
  const auto fail = [](std::string reason) {
    return validation_error({{"display_name", std::move(reason)}});
  };
  if (!is_valid_utf8(name)) return fail("must be valid UTF-8");
  std::string trimmed = trim(name);
  if (code_point_count(trimmed) > kMaxDisplayNameLength) {
    return fail("must be at most 100 characters");
  }
  if (contains_control(trimmed)) return fail("must not contain control characters");
  return trimmed;
}

}  // namespace todo::domain

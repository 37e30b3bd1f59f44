// The SSRF guard for URLs that users choose (webhook URLs, push subscription endpoints): which
// addresses a request may reach, and which URLs a target may name. docs/security.md, "Outbound
// requests".
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace todo::notify {

// Why an address may not be reached from a user-chosen URL ("loopback", "private", "link-local",
// …), or nullopt when it is a public unicast address. IPv4-mapped, IPv4-compatible, NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are judged by the IPv4 address they carry.
std::optional<std::string> forbidden_address(const sockaddr* address);
// The same for an address in text form; "not an IP address" for anything else.
std::optional<std::string> forbidden_address(std::string_view ip);

struct Endpoint {
  std::string scheme, host, port;  // host without IPv6 brackets; port always set
  bool host_is_ip = false;
};

// Splits an absolute http(s) URL; nullopt with the reason in `error` otherwise.
struct ParsedUrl {
  std::optional<Endpoint> endpoint;
  std::string error;
};
ParsedUrl parse_http_url(std::string_view url);

// The host's addresses, each vetted: the error names the first forbidden one (every address must
// pass, so a name cannot mix a public and a private answer). allow_private skips the vetting.
struct Resolved {
  std::vector<std::string> addresses;  // numeric, IPv6 without brackets
  std::string error;                   // empty on success
  bool temporary = false;              // a DNS failure worth retrying
};
Resolved resolve_vetted(const Endpoint& endpoint, bool allow_private);

// For the targets API: the reason a webhook URL is refused, or nullopt when it is acceptable —
// https (http only with allow_private), no user info, at most 2048 bytes, and a host whose
// addresses all pass the guard (unless allow_private).
std::optional<std::string> check_webhook_url(std::string_view url, bool allow_private);

}  // namespace todo::notify

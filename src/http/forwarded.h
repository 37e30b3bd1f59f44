// The client address of a request behind reverse proxies: X-Forwarded-For is believed only as far
// as the chain of configured trusted proxies reaches (ADR 0022). Plain data and POSIX parsing, no
// Asio, so the rules are unit-tested without a socket.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace todo::http {

// An IPv4 or IPv6 address, IPv4 kept as such (an IPv4-mapped IPv6 address, ::ffff:a.b.c.d, as the
// IPv4 address it maps: a dual-stack socket reports IPv4 peers that way).
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4

  // "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"; nullopt for anything else (no ports, no
  // brackets, no zone ids, no host names).
  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;  // canonical: inet_ntop's form
  bool operator==(const IpAddress&) const = default;
};

// One trusted network: an address and a prefix length (a bare address is /32 or /128).
struct IpNetwork {
  IpAddress address;
  int prefix = 0;
  bool contains(const IpAddress& ip) const;
};

class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts nobody: X-Forwarded-For is never read

  // "10.0.0.0/8, 192.0.2.7, 2001:db8::/32": a comma list of addresses and CIDR blocks. Blank
  // entries are skipped; the error names the first bad entry and why.
  static std::variant<TrustedProxies, std::string> parse(std::string_view list);

  bool empty() const { return networks_.empty(); }
  bool trusts(const IpAddress& ip) const;
  bool trusts(std::string_view address) const;  // false when `address` is no IP address

  // The client of a request whose TCP peer is `peer` and whose X-Forwarded-For field values are
  // `forwarded_for` (in the order received; several fields make one list). When the peer is
  // trusted, the right-most address of the list that is not itself a trusted proxy; if every
  // address is trusted, the left-most. The peer itself (as given) when it is not trusted, when
  // there is no header, or when an entry that would have to be read is not a valid address (a
  // proxy that writes garbage is not believed). Entries may be a bare address, "a.b.c.d:port" or
  // "[v6]" / "[v6]:port"; the address is returned in canonical form.
  std::string client_address(std::string_view peer,
                             const std::vector<std::string_view>& forwarded_for) const;

 private:
  std::vector<IpNetwork> networks_;
};

}  // namespace todo::http

#include "http/forwarded.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace todo::http {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on commas, trimming each piece; empty pieces are kept (the caller decides).
std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const auto comma = s.find(',');
    out.push_back(trimmed(s.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// One X-Forwarded-For entry: an address, optionally with a port ("192.0.2.1:443",
// "[2001:db8::1]:443", "[2001:db8::1]"); a bare IPv6 address has colons of its own.
std::optional<IpAddress> parse_forwarded_entry(std::string_view entry) {
  if (entry.starts_with('[')) {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.size() < 2 || rest.front() != ':') return std::nullopt;
      if (!std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
      }
    }
    auto ip = IpAddress::parse(entry.substr(1, close - 1));
    if (!ip || !ip->v6) return std::nullopt;
    return ip;
  }
  if (auto ip = IpAddress::parse(entry)) return ip;
  const auto colon = entry.find(':');
  if (colon == std::string_view::npos || entry.find(':', colon + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view port = entry.substr(colon + 1);
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  auto ip = IpAddress::parse(entry.substr(0, colon));
  if (!ip || ip->v6) return std::nullopt;
  return ip;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a terminated string; anything longer than the longest form is no address.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  IpAddress ip;
  if (::inet_pton(AF_INET, buffer, ip.bytes.data()) == 1) return ip;
  if (::inet_pton(AF_INET6, buffer, ip.bytes.data()) != 1) return std::nullopt;
  if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.bytes.begin())) {
    std::array<std::uint8_t, 16> v4{};
    std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.begin());
    ip.bytes = v4;
    return ip;
  }
  ip.v6 = true;
  return ip;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

bool IpNetwork::contains(const IpAddress& ip) const {
  if (ip.v6 != address.v6) return false;
  int left = prefix;
  for (std::size_t i = 0; left > 0; ++i, left -= 8) {
    const std::uint8_t mask = left >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - left));
    if ((ip.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
  }
  return true;
}

std::variant<TrustedProxies, std::string> TrustedProxies::parse(std::string_view list) {
  TrustedProxies out;
  for (std::string_view entry : split_commas(list)) {
    if (entry.empty()) continue;
    const auto slash = entry.find('/');
    auto ip = IpAddress::parse(entry.substr(0, slash));
    if (!ip) {
      return "'" + std::string(entry) +
             "' is not an IPv4 or IPv6 address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)";
    }
    // An IPv4-mapped block (::ffff:10.0.0.0/104) is the IPv4 block it maps.
    const bool mapped = !ip->v6 && entry.substr(0, slash).find(':') != std::string_view::npos;
    const int max_prefix = ip->v6 || mapped ? 128 : 32;
    IpNetwork network{*ip, ip->v6 ? 128 : 32};
    if (slash != std::string_view::npos) {
      const std::string_view bits = entry.substr(slash + 1);
      int prefix = -1;
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 ||
          prefix > max_prefix || (mapped && prefix < 96)) {
        return "'" + std::string(entry) + "' has a bad prefix length (" +
               (mapped ? std::string("96") : std::string("0")) + " to " +
               std::to_string(max_prefix) + ")";
      }
      network.prefix = mapped ? prefix - 96 : prefix;
    }
    out.networks_.push_back(network);
  }
  return out;
}

bool TrustedProxies::trusts(const IpAddress& ip) const {
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const IpNetwork& n) { return n.contains(ip); });
}

bool TrustedProxies::trusts(std::string_view address) const {
  if (networks_.empty()) return false;
  auto ip = IpAddress::parse(address);
  return ip && trusts(*ip);
}

std::string TrustedProxies::client_address(
    std::string_view peer, const std::vector<std::string_view>& forwarded_for) const {
  if (forwarded_for.empty() || !trusts(peer)) return std::string(peer);
  std::vector<std::string_view> entries;
  for (std::string_view field : forwarded_for) {
    for (std::string_view entry : split_commas(field)) entries.push_back(entry);
  }
  // Right to left: each address was added by the proxy to its right (the peer for the last one);
  // the first one not a trusted proxy is the client. What lies beyond it came from the client
  // and is never read.
  std::optional<IpAddress> last_trusted;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    auto ip = parse_forwarded_entry(*it);
    if (!ip) return std::string(peer);
    if (!trusts(*ip)) return ip->to_string();
    last_trusted = ip;
  }
  return last_trusted ? last_trusted->to_string() : std::string(peer);
}

}  // namespace todo::http

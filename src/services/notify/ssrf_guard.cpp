// Address classification after RFC 6890 (special-purpose registries) and URL vetting.
#include "services/notify/ssrf_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

namespace todo::notify {
namespace {

std::optional<std::string> forbidden_v4(std::uint32_t a) {  // host byte order
  auto in = [a](std::uint32_t net, int bits) {
    std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  if (in(0x00000000, 8)) return "unspecified";  // 0.0.0.0/8 "this network"
  if (in(0x7f000000, 8)) return "loopback";     // 127/8
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) return "private";
  if (in(0xa9fe0000, 16)) return "link-local";      // incl. 169.254.169.254 (metadata)
  if (in(0x64400000, 10)) return "shared (CGNAT)";  // 100.64/10
  if (in(0xe0000000, 4)) return "multicast";        // 224/4
  if (in(0xf0000000, 4)) return "reserved";         // 240/4 and 255.255.255.255
  if (in(0xc0000000, 24)) return "reserved";        // 192.0.0/24 IETF protocol assignments
  if (in(0xc0000200, 24) || in(0xc6336400, 24) || in(0xcb007100, 24)) return "documentation";
  if (in(0xc6120000, 15)) return "reserved";  // 198.18/15 benchmarking
  return std::nullopt;
}

std::uint32_t v4_at(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

std::optional<std::string> forbidden_v6(const unsigned char* b) {
  static constexpr std::array<unsigned char, 16> kZero{};
  auto prefix = [b](std::initializer_list<unsigned char> bytes) {
    return std::memcmp(b, bytes.begin(), bytes.size()) == 0;
  };
  bool zero96 = std::memcmp(b, kZero.data(), 12) == 0;
  if (zero96 && v4_at(b + 12) == 0) return "unspecified";  // ::
  if (zero96 && v4_at(b + 12) == 1) return "loopback";     // ::1
  if (zero96) return forbidden_v4(v4_at(b + 12));          // ::a.b.c.d (IPv4-compatible)
  if (prefix({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})) return forbidden_v4(v4_at(b + 12));
  if (prefix({0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return forbidden_v4(v4_at(b + 12));
  if (prefix({0x20, 0x02})) return forbidden_v4(v4_at(b + 2));     // 6to4 2002:a.b.c.d::/48
  if ((b[0] & 0xfe) == 0xfc) return "private";                     // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "private";     // fec0::/10 (site-local)
  if (b[0] == 0xff) return "multicast";                            // ff00::/8
  if (prefix({0x20, 0x01, 0x0d, 0xb8})) return "documentation";    // 2001:db8::/32
  if (prefix({0x01, 0x00, 0, 0, 0, 0, 0, 0})) return "reserved";   // 100::/64 discard
  return std::nullopt;
}

struct CurluFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStr {
  char* p = nullptr;
  ~CurlStr() { curl_free(p); }
};

std::optional<std::string> part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  CurlStr s;
  if (curl_url_get(url, which, &s.p, flags) != CURLUE_OK || !s.p) return std::nullopt;
  return std::string(s.p);
}

}  // namespace

std::optional<std::string> forbidden_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return forbidden_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return forbidden_v6(in6->sin6_addr.s6_addr);
  }
  return "not an IP address";
}

std::optional<std::string> forbidden_address(std::string_view ip) {
  std::string text(ip);
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return forbidden_address(reinterpret_cast<const sockaddr*>(&v4));
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return forbidden_address(reinterpret_cast<const sockaddr*>(&v6));
  }
  return "not an IP address";
}

ParsedUrl parse_http_url(std::string_view text) {
  if (text.size() > 2048) return {std::nullopt, "longer than 2048 bytes"};
  std::unique_ptr<CURLU, CurluFree> url(curl_url());
  if (!url) return {std::nullopt, "out of memory"};
  std::string s(text);
  if (curl_url_set(url.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK) {
    return {std::nullopt, "not an absolute URL"};
  }
  Endpoint e;
  e.scheme = part(url.get(), CURLUPART_SCHEME).value_or("");
  if (e.scheme != "http" && e.scheme != "https") return {std::nullopt, "scheme must be https"};
  if (part(url.get(), CURLUPART_USER) || part(url.get(), CURLUPART_PASSWORD)) {
    return {std::nullopt, "user info (user:password@) is not allowed"};
  }
  auto host = part(url.get(), CURLUPART_HOST);
  if (!host || host->empty()) return {std::nullopt, "no host"};
  if (host->front() == '[') {
    if (part(url.get(), CURLUPART_ZONEID)) return {std::nullopt, "IPv6 zone ids are not allowed"};
    *host = host->substr(1, host->size() - 2);
  }
  e.host = *host;
  e.port = part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("");
  in6_addr scratch{};
  e.host_is_ip = inet_pton(AF_INET, e.host.c_str(), &scratch) == 1 ||
                 inet_pton(AF_INET6, e.host.c_str(), &scratch) == 1;
  return {std::move(e), ""};
}

Resolved resolve_vetted(const Endpoint& endpoint, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = endpoint.host_is_ip ? AI_NUMERICHOST : 0;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(endpoint.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    Resolved r;
    r.error = "cannot resolve " + endpoint.host + ": " + gai_strerror(rc);
    r.temporary = rc == EAI_AGAIN || rc == EAI_SYSTEM || rc == EAI_MEMORY;
    return r;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  Resolved r;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    if (!allow_private) {
      if (auto why = forbidden_address(a->ai_addr)) {
        r.addresses.clear();
        r.error = endpoint.host + " resolves to a " + *why + " address";
        return r;
      }
    }
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* raw =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, raw, text.data(), text.size())) {
      std::string address(text.data());
      bool seen = false;
      for (const auto& x : r.addresses) seen = seen || x == address;
      if (!seen) r.addresses.push_back(address);
    }
  }
  if (r.addresses.empty()) r.error = endpoint.host + " has no IP address";
  return r;
}

std::optional<std::string> check_webhook_url(std::string_view url, bool allow_private) {
  ParsedUrl parsed = parse_http_url(url);
  if (!parsed.endpoint) return parsed.error;
  if (parsed.endpoint->scheme != "https" && !allow_private) return "scheme must be https";
  if (allow_private) return std::nullopt;
  Resolved resolved = resolve_vetted(*parsed.endpoint, false);
  if (!resolved.error.empty()) return resolved.error;
  return std::nullopt;
}

}  // namespace todo::notify

// The client address behind trusted proxies: parsing the list and reading X-Forwarded-For.
#include "http/forwarded.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace todo::http {
namespace {

TrustedProxies trusted(std::string_view list) {
  auto parsed = TrustedProxies::parse(list);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<TrustedProxies>(parsed);
}

std::string parse_error(std::string_view list) {
  auto parsed = TrustedProxies::parse(list);
  if (auto* error = std::get_if<std::string>(&parsed)) return *error;
  ADD_FAILURE() << "expected an error for " << list;
  return {};
}

TEST(IpAddress, ParsesBothFamiliesAndMapsIpv4InIpv6) {
  EXPECT_EQ(IpAddress::parse("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(IpAddress::parse("2001:DB8:0::1")->to_string(), "2001:db8::1");
  auto mapped = IpAddress::parse("::ffff:192.0.2.1");
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->v6);
  EXPECT_EQ(mapped->to_string(), "192.0.2.1");
  for (const char* bad : {"", "unknown", "192.0.2", "192.0.2.1:80", "[::1]", "fe80::1%eth0",
                          "host.example", "1.2.3.4 ", "2001:db8::1::2"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(TrustedProxies, ParsesAddressesAndBlocksOfBothFamilies) {
  auto proxies = trusted(" 10.0.0.0/8 , 192.0.2.7,2001:db8::/32,, ::1 ");
  EXPECT_TRUE(proxies.trusts("10.200.3.4"));
  EXPECT_TRUE(proxies.trusts("::ffff:10.1.1.1"));  // a dual-stack socket's IPv4 peer
  EXPECT_TRUE(proxies.trusts("192.0.2.7"));
  EXPECT_FALSE(proxies.trusts("192.0.2.8"));
  EXPECT_TRUE(proxies.trusts("2001:db8:ffff::9"));
  EXPECT_FALSE(proxies.trusts("2001:db9::1"));
  EXPECT_TRUE(proxies.trusts("::1"));
  EXPECT_FALSE(proxies.trusts("11.0.0.1"));
  EXPECT_FALSE(proxies.trusts("not an address"));
  EXPECT_TRUE(trusted("0.0.0.0/0").trusts("203.0.113.5"));
  EXPECT_FALSE(trusted("0.0.0.0/0").trusts("2001:db8::1"));  // IPv4 blocks never hold IPv6
  EXPECT_TRUE(trusted("172.16.0.0/12").trusts("172.31.255.255"));
  EXPECT_FALSE(trusted("172.16.0.0/12").trusts("172.32.0.0"));
  EXPECT_TRUE(trusted("::ffff:10.0.0.0/104").trusts("10.9.9.9"));
  EXPECT_TRUE(trusted("").empty());
}

TEST(TrustedProxies, ABadEntryIsNamedWithTheReason) {
  EXPECT_NE(parse_error("10.0.0.0/8,proxy.internal").find("'proxy.internal'"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.0/33").find("prefix length (0 to 32)"), std::string::npos);
  EXPECT_NE(parse_error("2001:db8::/129").find("0 to 128"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.0/").find("'10.0.0.0/'"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.0/x8").find("prefix"), std::string::npos);
  EXPECT_NE(parse_error("::ffff:10.0.0.0/8").find("96 to 128"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.1:80").find("'10.0.0.1:80'"), std::string::npos);
}

TEST(TrustedProxies, NobodyTrustedMeansThePeer) {
  TrustedProxies none;
  EXPECT_EQ(none.client_address("192.0.2.1", {"203.0.113.9"}), "192.0.2.1");
}

TEST(TrustedProxies, AnUntrustedPeerIsTheClientWhateverItClaims) {
  auto proxies = trusted("10.0.0.0/8");
  EXPECT_EQ(proxies.client_address("203.0.113.9", {"198.51.100.1"}), "203.0.113.9");
}

TEST(TrustedProxies, TheRightMostUntrustedAddressIsTheClient) {
  auto proxies = trusted("10.0.0.0/8");
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"203.0.113.9"}), "203.0.113.9");
  // The client claimed 198.51.100.1 itself; the ingress appended what it saw (203.0.113.9).
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"198.51.100.1, 203.0.113.9"}), "203.0.113.9");
  // Two proxies: the outer one (10.1.1.1) is trusted too, so the address before it counts.
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"198.51.100.1, 203.0.113.9, 10.1.1.1"}),
            "203.0.113.9");
  // Several fields are one list, in order.
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"198.51.100.1", "203.0.113.9,10.1.1.1"}),
            "203.0.113.9");
  // Every hop trusted: the left-most is as far as we can see.
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"10.3.3.3, 10.1.1.1"}), "10.3.3.3");
  // Without the header the peer is the client (a health check from inside the cluster).
  EXPECT_EQ(proxies.client_address("10.0.0.2", {}), "10.0.0.2");
}

TEST(TrustedProxies, PortsBracketsAndCanonicalForms) {
  auto proxies = trusted("10.0.0.0/8, fd00::/8");
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"203.0.113.9:5123"}), "203.0.113.9");
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"[2001:DB8::1]:443"}), "2001:db8::1");
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"[2001:db8::1]"}), "2001:db8::1");
  EXPECT_EQ(proxies.client_address("fd00::5", {"2001:db8:0:0::7"}), "2001:db8::7");
  EXPECT_EQ(proxies.client_address("::ffff:10.0.0.2", {"::ffff:203.0.113.9"}), "203.0.113.9");
}

TEST(TrustedProxies, AnInvalidEntryThatMustBeReadMeansThePeer) {
  auto proxies = trusted("10.0.0.0/8");
  for (const char* bad : {"unknown", "", " , ", "203.0.113.9 junk", "[2001:db8::1", "[::1]:x",
                          "1.2.3.4:", "999.1.1.1", "203.0.113.9, 10.1.1.1, nonsense", "\x01\x02",
                          "2001:db8::1:80:"}) {
    EXPECT_EQ(proxies.client_address("10.0.0.2", {bad}), "10.0.0.2") << bad;
  }
  // Garbage the client put before the address our proxy appended is never read.
  EXPECT_EQ(proxies.client_address("10.0.0.2", {"garbage, 203.0.113.9"}), "203.0.113.9");
  const std::string huge(100000, '1');
  EXPECT_EQ(proxies.client_address("10.0.0.2", {huge}), "10.0.0.2");
}

}  // namespace
}  // namespace todo::http

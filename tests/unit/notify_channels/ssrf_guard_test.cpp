// Which addresses and webhook URLs the SSRF guard refuses.
#include "services/notify/ssrf_guard.h"

#include <gtest/gtest.h>

namespace todo::notify {
namespace {

struct Case {
  const char* ip;
  const char* reason;  // nullptr: allowed
};

class AddressClassification : public ::testing::TestWithParam<Case> {};

TEST_P(AddressClassification, Classifies) {
  auto why = forbidden_address(GetParam().ip);
  if (GetParam().reason) {
    ASSERT_TRUE(why) << GetParam().ip;
    EXPECT_EQ(*why, GetParam().reason) << GetParam().ip;
  } else {
    EXPECT_FALSE(why) << GetParam().ip << ": " << *why;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ssrf, AddressClassification,
    ::testing::Values(
        Case{"127.0.0.1", "loopback"}, Case{"127.255.0.9", "loopback"}, Case{"10.1.2.3", "private"},
        Case{"172.16.0.1", "private"}, Case{"172.31.255.255", "private"},
        Case{"172.32.0.1", nullptr}, Case{"192.168.1.1", "private"},
        Case{"169.254.169.254", "link-local"}, Case{"169.254.0.1", "link-local"},
        Case{"100.64.0.1", "shared (CGNAT)"}, Case{"100.127.255.254", "shared (CGNAT)"},
        Case{"100.128.0.1", nullptr}, Case{"0.0.0.0", "unspecified"},
        Case{"224.0.0.251", "multicast"}, Case{"239.1.2.3", "multicast"},
        Case{"255.255.255.255", "reserved"}, Case{"198.18.0.1", "reserved"},
        Case{"192.0.2.1", "documentation"}, Case{"8.8.8.8", nullptr}, Case{"1.1.1.1", nullptr},
        Case{"::1", "loopback"}, Case{"::", "unspecified"}, Case{"fc00::1", "private"},
        Case{"fd12:3456::1", "private"}, Case{"fe80::1", "link-local"},
        Case{"febf::1", "link-local"}, Case{"fec0::1", "private"}, Case{"ff02::1", "multicast"},
        Case{"2001:db8::1", "documentation"},
        // IPv4-mapped, -compatible, NAT64 and 6to4 addresses carry an IPv4 address: judged by it.
        Case{"::ffff:127.0.0.1", "loopback"}, Case{"::ffff:169.254.169.254", "link-local"},
        Case{"::ffff:10.0.0.1", "private"}, Case{"::ffff:8.8.8.8", nullptr},
        Case{"::127.0.0.1", "loopback"}, Case{"64:ff9b::a9fe:a9fe", "link-local"},
        Case{"64:ff9b::808:808", nullptr}, Case{"2002:c0a8:0101::1", "private"},
        Case{"2002:0808:0808::1", nullptr}, Case{"2606:4700:4700::1111", nullptr},
        Case{"example.com", "not an IP address"}));

TEST(CheckWebhookUrl, RefusesWhatIsNotAPublicHttpsUrl) {
  auto refused = [](const char* url) { return check_webhook_url(url, false).value_or("ok"); };
  EXPECT_EQ(refused("http://8.8.8.8/hook"), "scheme must be https");
  EXPECT_EQ(refused("ftp://8.8.8.8/hook"), "scheme must be https");
  EXPECT_EQ(refused("hook"), "not an absolute URL");
  EXPECT_EQ(refused("https://user:pw@8.8.8.8/"), "user info (user:password@) is not allowed");
  EXPECT_EQ(refused("https://127.0.0.1/hook"), "127.0.0.1 resolves to a loopback address");
  EXPECT_EQ(refused("https://169.254.169.254/latest/meta-data/"),
            "169.254.169.254 resolves to a link-local address");
  EXPECT_EQ(refused("https://[::ffff:10.0.0.1]:8443/"),
            "::ffff:10.0.0.1 resolves to a private address");
  EXPECT_EQ(refused("https://[fe80::1%25eth0]/"), "IPv6 zone ids are not allowed");
  EXPECT_EQ(refused("https://localhost:8443/"), "localhost resolves to a loopback address");
  EXPECT_NE(refused("https://2130706433/"), "ok");  // 127.0.0.1 as one number
  EXPECT_NE(refused("https://0x7f.1/"), "ok");
  EXPECT_EQ(refused(("https://8.8.8.8/" + std::string(2048, 'a')).c_str()),
            "longer than 2048 bytes");
  EXPECT_EQ(refused("https://8.8.8.8/hook"), "ok");  // a literal needs no DNS
  EXPECT_EQ(refused("https://[2606:4700:4700::1111]/hook"), "ok");
}

TEST(CheckWebhookUrl, AllowPrivateLiftsTheAddressAndSchemeRules) {
  EXPECT_FALSE(check_webhook_url("http://127.0.0.1:8080/hook", true));
  EXPECT_FALSE(check_webhook_url("https://10.0.0.7/hook", true));
  EXPECT_TRUE(check_webhook_url("ftp://127.0.0.1/hook", true));
  EXPECT_TRUE(check_webhook_url("https://u:p@127.0.0.1/hook", true));
}

TEST(ResolveVetted, EveryAddressOfANameMustPass) {
  auto parsed = parse_http_url("https://localhost:443/");
  ASSERT_TRUE(parsed.endpoint);
  EXPECT_FALSE(resolve_vetted(*parsed.endpoint, false).error.empty());
  auto allowed = resolve_vetted(*parsed.endpoint, true);
  EXPECT_TRUE(allowed.error.empty()) << allowed.error;
  EXPECT_FALSE(allowed.addresses.empty());
}

}  // namespace
}  // namespace todo::notify

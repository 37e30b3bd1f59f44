// detail::is_plain_path: a target it calls plain is one Boost.URL parses to that very path with
// no query (so skipping Boost.URL changes nothing), and the common targets are plain.
#include <gtest/gtest.h>

#include <boost/url/parse.hpp>

#include <random>
#include <string>

#include "http/request_target.h"

namespace todo::http::detail {
namespace {

TEST(RequestTarget, CommonPathsArePlainAndEverythingElseIsLeftToBoostUrl) {
  for (const char* plain : {"/", "/health", "/api/tasks", "/api/tasks/0b6f1c2e-4a5d-4e7f-9a1b",
                            "/api/tasks/x/complete", "//a//b/", "/a:b@c!$&'()*+,;=-._~"}) {
    EXPECT_TRUE(is_plain_path(plain)) << plain;
  }
  for (const char* other : {"", "*", "health", "http://host/a", "/a?b=c", "/a?", "/a%20b", "/a b",
                            "/a#b", "/a\"b", "/a<b>", "/a\\b", "/a[b]", "/a{b}", "/a|b", "/a^b",
                            "/a`b", "/caf\xC3\xA9", "/a\x7f", "/a\tb"}) {
    EXPECT_FALSE(is_plain_path(other)) << other;
  }
}

// Random targets over every byte, weighted towards the characters that matter: each one called
// plain parses, through Boost.URL, to itself as the path and no query.
TEST(RequestTarget, APlainPathIsWhatBoostUrlWouldHaveMadeOfIt) {
  std::mt19937 random(20261207);
  const std::string interesting = "/?%#:@!$&'()*+,;=-._~ \"<>[]\\^`{|}aZ09\x7f\x80\xff";
  int plain = 0;
  for (int n = 0; n < 200000; ++n) {
    std::string target = random() % 4 == 0 ? "" : "/";
    const int length = static_cast<int>(random() % 12);
    for (int i = 0; i < length; ++i) {
      target.push_back(random() % 3 == 0 ? static_cast<char>(random() % 256)
                                         : interesting[random() % interesting.size()]);
    }
    if (!is_plain_path(target)) continue;
    ++plain;
    auto parsed = boost::urls::parse_origin_form(target);
    ASSERT_TRUE(parsed.has_value()) << target;
    EXPECT_EQ(std::string(parsed->path()), target);
    EXPECT_FALSE(parsed->has_query()) << target;
    EXPECT_TRUE(parsed->params().empty()) << target;
  }
  EXPECT_GT(plain, 1000);  // the comparison ran often enough to mean something
}

}  // namespace
}  // namespace todo::http::detail

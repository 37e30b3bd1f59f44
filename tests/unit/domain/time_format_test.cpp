// RFC 3339 formatting and strict parsing.
#include "domain/time_format.h"

#include <gtest/gtest.h>

#include "domain/time_zone.h"
#include "support/tzdata.h"

namespace todo::domain {
namespace {

using namespace std::chrono;

Timestamp at(sys_days day, microseconds since_midnight = {}) {
  return Timestamp{day} + since_midnight;
}

TEST(FormatRfc3339, UtcWithMillisecondsAndZ) {
  const auto t = at(2026y / November / 27, hours{9} + minutes{30} + milliseconds{123});
  EXPECT_EQ(format_rfc3339(t), "2026-11-27T09:30:00.123Z");
}

TEST(FormatRfc3339, TruncatesMicroseconds) {
  const auto t = at(2026y / January / 1, seconds{1} + microseconds{999'999});
  EXPECT_EQ(format_rfc3339(t), "2026-01-01T00:00:01.999Z");
}

TEST(FormatRfc3339, Epoch) { EXPECT_EQ(format_rfc3339(Timestamp{}), "1970-01-01T00:00:00.000Z"); }

TEST(FormatRfc3339, BeforeEpochFloorsTowardsThePast) {
  EXPECT_EQ(format_rfc3339(Timestamp{} - microseconds{1}), "1969-12-31T23:59:59.999Z");
}

TEST(ParseRfc3339, RoundTripsFormattedInstants) {
  for (const auto& t :
       {Timestamp{}, at(2024y / February / 29, hours{23} + minutes{59} + seconds{59}),
        at(2026y / November / 27, hours{9} + minutes{30} + milliseconds{123}),
        at(1999y / December / 31, milliseconds{1})}) {
    const auto parsed = parse_rfc3339(format_rfc3339(t));
    ASSERT_TRUE(parsed.has_value()) << format_rfc3339(t);
    EXPECT_EQ(*parsed, t);
  }
}

TEST(ParseRfc3339, AppliesOffsets) {
  const auto utc = at(2026y / November / 27, hours{9} + minutes{30});
  EXPECT_EQ(parse_rfc3339("2026-11-27T09:30:00Z"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27T09:30:00z"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27t09:30:00Z"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27T11:30:00+02:00"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27T04:00:00-05:30"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27T09:30:00+00:00"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-27T09:30:00-00:00"), utc);
  // Crossing a day and a year boundary.
  EXPECT_EQ(parse_rfc3339("2026-12-31T23:30:00-01:00"), at(2027y / January / 1, minutes{30}));
}

TEST(ParseRfc3339, FractionsOfOneToNineDigitsTruncatedToMicroseconds) {
  const auto base = at(2026y / March / 1);
  EXPECT_EQ(parse_rfc3339("2026-03-01T00:00:00.5Z"), base + milliseconds{500});
  EXPECT_EQ(parse_rfc3339("2026-03-01T00:00:00.123Z"), base + milliseconds{123});
  EXPECT_EQ(parse_rfc3339("2026-03-01T00:00:00.123456Z"), base + microseconds{123'456});
  EXPECT_EQ(parse_rfc3339("2026-03-01T00:00:00.123456789Z"), base + microseconds{123'456});
  EXPECT_EQ(parse_rfc3339("2026-03-01T00:00:00.999999999+00:00"), base + microseconds{999'999});
}

TEST(ParseRfc3339, LeapDays) {
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("2025-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("1900-02-29T00:00:00Z").has_value());
}

class ParseRfc3339Rejects : public ::testing::TestWithParam<const char*> {};

TEST_P(ParseRfc3339Rejects, Malformed) { EXPECT_FALSE(parse_rfc3339(GetParam()).has_value()); }

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseRfc3339Rejects,
    ::testing::Values("", "2026-11-27", "2026-11-27T09:30:00",  // no offset: not an instant
                      "2026-11-27T09:30Z", "2026-11-27 09:30:00Z", "2026-11-27X09:30:00Z",
                      "26-11-27T09:30:00Z", "2026-1-27T09:30:00Z", "2026/11/27T09:30:00Z",
                      "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-30T00:00:00Z",
                      "2026-04-31T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z",
                      "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
                      "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z",
                      "2026-01-01T00:00:00,5Z", "2026-01-01T00:00:00+0100",
                      "2026-01-01T00:00:00+01", "2026-01-01T00:00:00+24:00",
                      "2026-01-01T00:00:00+01:60", "2026-01-01T00:00:00ZZ", "2026-01-01T00:00:00Z ",
                      " 2026-01-01T00:00:00Z", "2026-01-01T00:00:00UTC", "+2026-01-01T00:00:00Z",
                      "2026-01-01T0a:00:00Z", "2026-01-01T00:00:00+01:00x",
                      "２０２６-01-01T00:00:00Z"));

TEST(LocalDateTimeText, RoundTripsWithAndWithoutMicroseconds) {
  const LocalDateTime plain{2026, 3, 29, 2, 30, 0, 0};
  EXPECT_EQ(format_local_date_time(plain), "2026-03-29T02:30:00");
  EXPECT_EQ(parse_local_date_time("2026-03-29T02:30:00"), plain);
  const LocalDateTime fine{2026, 1, 31, 23, 59, 59, 1500};
  EXPECT_EQ(format_local_date_time(fine), "2026-01-31T23:59:59.001500");
  EXPECT_EQ(parse_local_date_time("2026-01-31T23:59:59.001500"), fine);
  EXPECT_EQ(parse_local_date_time("2026-01-31T23:59:59.5")->microsecond, 500000);
}

TEST(LocalDateTimeText, RejectsWhatIsNotARealWallTime) {
  for (const char* text : {"", "2026-02-30T09:00:00", "2026-01-31T24:00:00", "2026-01-31 09:00:00",
                           "2026-01-31T09:00", "2026-01-31T09:00:00Z", "2026-01-31T09:00:00.",
                           "2026-01-31T09:00:00.1234567", "2026-01-31T09:00:00+01:00"}) {
    EXPECT_FALSE(parse_local_date_time(text)) << text;
  }
}

TEST(Rfc3339InZone, ShowsTheWallTimeWithTheOffsetOfThatInstant) {
  const TimeZone berlin = testing::load_zone("Europe/Berlin");
  EXPECT_EQ(format_rfc3339_in_zone(parse_rfc3339("2026-03-29T07:00:00Z").value(), berlin),
            "2026-03-29T09:00:00+02:00");
  EXPECT_EQ(format_rfc3339_in_zone(parse_rfc3339("2026-01-05T08:00:00.250Z").value(), berlin),
            "2026-01-05T09:00:00.250+01:00");
  const TimeZone new_york = testing::load_zone("America/New_York");
  EXPECT_EQ(format_rfc3339_in_zone(parse_rfc3339("2026-11-01T06:30:00Z").value(), new_york),
            "2026-11-01T01:30:00-05:00");
  const TimeZone kolkata = testing::load_zone("Asia/Kolkata");
  EXPECT_EQ(format_rfc3339_in_zone(parse_rfc3339("2026-01-01T00:00:00Z").value(), kolkata),
            "2026-01-01T05:30:00+05:30");
  EXPECT_EQ(format_rfc3339_in_zone(parse_rfc3339("2026-01-01T00:00:00Z").value(), TimeZone::utc()),
            "2026-01-01T00:00:00+00:00");
}

}  // namespace
}  // namespace todo::domain

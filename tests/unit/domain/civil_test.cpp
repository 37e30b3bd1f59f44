// Calendar arithmetic: leap years, month lengths, day numbers and weekdays.
// Expected day numbers and weekdays come from GNU date (`date -u -d 2026-03-08 +%s`, `+%w`).
#include "domain/civil.h"

#include <gtest/gtest.h>

namespace todo::domain {
namespace {

TEST(Civil, LeapYears) {
  EXPECT_FALSE(is_leap(1900));
  EXPECT_TRUE(is_leap(2000));
  EXPECT_TRUE(is_leap(2024));
  EXPECT_FALSE(is_leap(2026));
  EXPECT_FALSE(is_leap(2100));
  EXPECT_TRUE(is_leap(1600));
  EXPECT_TRUE(is_leap(0));
  EXPECT_TRUE(is_leap(-4));
  EXPECT_FALSE(is_leap(-100));
  EXPECT_TRUE(is_leap(-400));
}

TEST(Civil, DaysInMonth) {
  EXPECT_EQ(days_in_month(2024, 2), 29);
  EXPECT_EQ(days_in_month(2026, 2), 28);
  EXPECT_EQ(days_in_month(1900, 2), 28);
  EXPECT_EQ(days_in_month(2000, 2), 29);
  EXPECT_EQ(days_in_month(2026, 1), 31);
  EXPECT_EQ(days_in_month(2026, 4), 30);
  EXPECT_EQ(days_in_month(2026, 9), 30);
  EXPECT_EQ(days_in_month(2026, 12), 31);
  EXPECT_EQ(days_in_month(2026, 0), 0);
  EXPECT_EQ(days_in_month(2026, 13), 0);
}

TEST(Civil, DaysFromCivilKnownDates) {
  EXPECT_EQ(days_from_civil({1970, 1, 1}), 0);
  EXPECT_EQ(days_from_civil({1969, 12, 31}), -1);
  EXPECT_EQ(days_from_civil({1969, 12, 28}), -4);
  EXPECT_EQ(days_from_civil({2000, 1, 1}), 10957);
  EXPECT_EQ(days_from_civil({2000, 3, 1}), 11017);
  EXPECT_EQ(days_from_civil({2024, 2, 29}), 19782);
  EXPECT_EQ(days_from_civil({2026, 3, 8}), 20520);
  EXPECT_EQ(days_from_civil({2038, 1, 19}), 24855);
  EXPECT_EQ(days_from_civil({1900, 3, 1}), -25508);
  EXPECT_EQ(days_from_civil({1600, 1, 1}), -135140);
  EXPECT_EQ(days_from_civil({2400, 2, 29}), 157113);
  EXPECT_EQ(days_from_civil({9999, 12, 31}), 2932896);
  EXPECT_EQ(days_from_civil({1, 1, 1}), -719162);
  static_assert(days_from_civil(2026, 3, 8) == 20520, "usable in constant expressions");
}

TEST(Civil, DayIsAnOffsetSoOverflowNormalises) {
  EXPECT_EQ(days_from_civil(2026, 3, 0), days_from_civil(2026, 2, 28));
  EXPECT_EQ(days_from_civil(2024, 3, 0), days_from_civil(2024, 2, 29));
  EXPECT_EQ(days_from_civil(2026, 1, 32), days_from_civil(2026, 2, 1));
  EXPECT_EQ(days_from_civil(2026, 12, 32), days_from_civil(2027, 1, 1));
}

TEST(Civil, CivilFromDaysKnownDates) {
  EXPECT_EQ(civil_from_days(0), (LocalDate{1970, 1, 1}));
  EXPECT_EQ(civil_from_days(-1), (LocalDate{1969, 12, 31}));
  EXPECT_EQ(civil_from_days(11017), (LocalDate{2000, 3, 1}));
  EXPECT_EQ(civil_from_days(19782), (LocalDate{2024, 2, 29}));
  EXPECT_EQ(civil_from_days(-135140), (LocalDate{1600, 1, 1}));
  EXPECT_EQ(civil_from_days(2932896), (LocalDate{9999, 12, 31}));
  EXPECT_EQ(civil_from_days(-719162), (LocalDate{1, 1, 1}));
  EXPECT_EQ(civil_from_days(-719163), (LocalDate{0, 12, 31}));
}

TEST(Civil, WeekdayOfKnownDates) {
  EXPECT_EQ(weekday({1970, 1, 1}), 4);    // Thursday
  EXPECT_EQ(weekday({1969, 12, 28}), 0);  // Sunday
  EXPECT_EQ(weekday({2000, 1, 1}), 6);    // Saturday
  EXPECT_EQ(weekday({2000, 3, 1}), 3);    // Wednesday
  EXPECT_EQ(weekday({2024, 2, 29}), 4);   // Thursday
  EXPECT_EQ(weekday({2026, 3, 8}), 0);    // Sunday
  EXPECT_EQ(weekday({2038, 1, 19}), 2);   // Tuesday
  EXPECT_EQ(weekday({1600, 1, 1}), 6);    // Saturday
  EXPECT_EQ(weekday({1900, 3, 1}), 4);    // Thursday
  EXPECT_EQ(weekday({2400, 2, 29}), 2);   // Tuesday
  EXPECT_EQ(weekday({9999, 12, 31}), 5);  // Friday
}

TEST(Civil, DayOfYear) {
  EXPECT_EQ(day_of_year({2026, 1, 1}), 1);
  EXPECT_EQ(day_of_year({2026, 3, 8}), 67);
  EXPECT_EQ(day_of_year({2024, 2, 29}), 60);
  EXPECT_EQ(day_of_year({2024, 12, 31}), 366);
  EXPECT_EQ(day_of_year({9999, 12, 31}), 365);
}

// Walks the calendar one day at a time with nothing but days_in_month, and checks that the day
// number, the date recovered from it and the weekday all advance in step.
TEST(Civil, DayByDayWalkAgreesWithDayNumbers) {
  LocalDate date{-1000, 1, 1};
  std::int64_t days = days_from_civil(date);
  int expected_weekday = weekday(date);
  while (date.year <= 3000) {
    ASSERT_EQ(days_from_civil(date), days) << date.year << "-" << date.month << "-" << date.day;
    ASSERT_EQ(civil_from_days(days), date) << days;
    ASSERT_EQ(weekday_from_days(days), expected_weekday) << days;
    ++days;
    expected_weekday = (expected_weekday + 1) % 7;
    if (++date.day > days_in_month(date.year, date.month)) {
      date.day = 1;
      if (++date.month > 12) {
        date.month = 1;
        ++date.year;
      }
    }
  }
}

TEST(Civil, RoundTripsFarFromTheEpoch) {
  for (std::int64_t days = -700'000'000; days <= 700'000'000; days += 9'999'991) {
    const LocalDate date = civil_from_days(days);
    ASSERT_EQ(days_from_civil(date), days);
    ASSERT_GE(date.month, 1);
    ASSERT_LE(date.month, 12);
    ASSERT_GE(date.day, 1);
    ASSERT_LE(date.day, days_in_month(date.year, date.month));
    ASSERT_EQ(weekday_from_days(days + 7), weekday_from_days(days));
  }
}

}  // namespace
}  // namespace todo::domain

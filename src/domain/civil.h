// Proleptic Gregorian calendar arithmetic on plain integers, shared by time zones and recurrence.
// The algorithms are Howard Hinnant's (https://howardhinnant.github.io/date_algorithms.html).
#pragma once

#include <compare>
#include <cstdint>

namespace todo::domain {

// A calendar date without a time zone. Years are astronomical: 0 is 1 BC.
struct LocalDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  friend constexpr bool operator==(const LocalDate&, const LocalDate&) = default;
  friend constexpr auto operator<=>(const LocalDate&, const LocalDate&) = default;
};

constexpr bool is_leap(std::int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

// 28..31; 0 when month is outside 1..12.
constexpr int days_in_month(std::int64_t year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of year/month/day. Month must be 1..12; day may be anything (it is added
// as an offset, so day 0 is the last day of the previous month). Exact for |year| < 2^40.
constexpr std::int64_t days_from_civil(std::int64_t year, int month, std::int64_t day) {
  const std::int64_t y = month <= 2 ? year - 1 : year;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;                          // [0, 399]
  const std::int64_t mp = month > 2 ? month - 3 : month + 9;       // [0, 11], March first
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;           // day of the year
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // day of the era
  return era * 146097 + doe - 719468;
}

constexpr std::int64_t days_from_civil(const LocalDate& date) {
  return days_from_civil(date.year, date.month, date.day);
}

// Inverse of days_from_civil. The year must fit in an int (|days| < about 7.8e11).
constexpr LocalDate civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;                                       // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return LocalDate{static_cast<int>(year), month, day};
}

// 0 = Sunday .. 6 = Saturday, as in POSIX TZ rules and struct tm.
constexpr int weekday_from_days(std::int64_t days) {
  return static_cast<int>(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

constexpr int weekday(const LocalDate& date) { return weekday_from_days(days_from_civil(date)); }

// 1-based day of the year (1 January = 1).
constexpr int day_of_year(const LocalDate& date) {
  return static_cast<int>(days_from_civil(date) - days_from_civil(date.year, 1, 1) + 1);
}

}  // namespace todo::domain

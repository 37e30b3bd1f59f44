// RFC 3339 rendering (UTC, milliseconds, Z) and strict parsing of instants with any offset.
#include "domain/time_format.h"

#include <array>
#include <cstdio>
#include <cstdlib>

#include "domain/time_zone.h"

namespace todo::domain {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

bool char_at(std::string_view text, std::size_t pos, char expected) {
  return pos < text.size() && text[pos] == expected;
}

// Parses "(Z|z|±HH:MM)" that must end the text; returns the offset east of UTC.
std::optional<minutes> parse_offset(std::string_view rest) {
  if (rest == "Z" || rest == "z") return minutes{0};
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':') {
    return std::nullopt;
  }
  const auto hh = read_digits(rest, 1, 2);
  const auto mm = read_digits(rest, 4, 2);
  if (!hh || !mm || *hh > 23 || *mm > 59) return std::nullopt;
  const minutes offset = hours{*hh} + minutes{*mm};
  return rest[0] == '-' ? -offset : offset;
}

}  // namespace

std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<LocalDate> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = read_digits(text, 0, 4);
  const auto month = read_digits(text, 5, 2);
  const auto day = read_digits(text, 8, 2);
  if (!year || !month || !day || *month < 1 || *month > 12 || *day < 1 ||
      *day > days_in_month(*year, *month)) {
    return std::nullopt;
  }
  return LocalDate{*year, *month, *day};
}

void append_rfc3339(std::string& out, Timestamp t) {
  const auto ms = std::chrono::floor<milliseconds>(t);
  const auto day = std::chrono::floor<days>(ms);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss time{ms - day};
  const int year = int(ymd.year());
  if (year < 0 || year > 9999) {
    std::array<char, 48> buffer{};
    const int length = std::snprintf(
        buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
        unsigned(ymd.month()), unsigned(ymd.day()), int(time.hours().count()),
        int(time.minutes().count()), int(time.seconds().count()), int(time.subseconds().count()));
    out.append(buffer.data(), static_cast<std::size_t>(length));
    return;
  }
  // The common case without snprintf: lists render several timestamps per task.
  const std::size_t at = out.size();
  out.append("0000-00-00T00:00:00.000Z");
  auto put = [&out, at](std::size_t offset, int value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + offset + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, int(unsigned(ymd.month())), 2);
  put(8, int(unsigned(ymd.day())), 2);
  put(11, int(time.hours().count()), 2);
  put(14, int(time.minutes().count()), 2);
  put(17, int(time.seconds().count()), 2);
  put(20, int(time.subseconds().count()), 3);
}

std::string format_rfc3339(Timestamp t) {
  std::string out;
  append_rfc3339(out, t);
  return out;
}

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS is 19 characters, at fixed positions.
  const auto year = read_digits(text, 0, 4);
  const auto month = read_digits(text, 5, 2);
  const auto day = read_digits(text, 8, 2);
  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  const auto second = read_digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (!char_at(text, 4, '-') || !char_at(text, 7, '-') ||
      !(char_at(text, 10, 'T') || char_at(text, 10, 't')) || !char_at(text, 13, ':') ||
      !char_at(text, 16, ':')) {
    return std::nullopt;
  }

  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  // ok() rejects month 0 or 13 and days the month does not have (Feb 30, Feb 29 of 2025).
  // A leap second (:60) cannot be represented by a Unix timestamp, so it is rejected too.
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;

  std::size_t pos = 19;
  microseconds fraction{0};
  if (char_at(text, pos, '.')) {
    ++pos;
    const std::size_t start = pos;
    std::int64_t micros = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 6) micros = micros * 10 + (text[pos] - '0');  // truncate beyond µs
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || digits > 9) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
    fraction = microseconds{micros};
  }

  const auto offset = parse_offset(text.substr(pos));
  if (!offset) return std::nullopt;

  const std::chrono::sys_days midnight{date};
  return Timestamp{midnight} + hours{*hour} + minutes{*minute} + seconds{*second} + fraction -
         *offset;
}

std::string format_local_date_time(const LocalDateTime& local) {
  std::array<char, 48> buffer{};
  int length =
      std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d", local.year,
                    local.month, local.day, local.hour, local.minute, local.second);
  if (local.microsecond != 0 && length > 0) {
    length += std::snprintf(buffer.data() + length, buffer.size() - std::size_t(length), ".%06d",
                            local.microsecond);
  }
  return std::string(buffer.data(), static_cast<std::size_t>(length));
}

std::optional<LocalDateTime> parse_local_date_time(std::string_view text) {
  const auto date = parse_date(text.substr(0, 10));
  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  const auto second = read_digits(text, 17, 2);
  if (!date || !hour || !minute || !second || !char_at(text, 10, 'T') || !char_at(text, 13, ':') ||
      !char_at(text, 16, ':') || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  LocalDateTime local{date->year, date->month, date->day, *hour, *minute, *second, 0};
  if (text.size() == 19) return local;
  const std::size_t digits = text.size() - 20;
  if (!char_at(text, 19, '.') || digits < 1 || digits > 6) return std::nullopt;
  const auto fraction = read_digits(text, 20, digits);
  if (!fraction) return std::nullopt;
  local.microsecond = *fraction;
  for (std::size_t i = digits; i < 6; ++i) local.microsecond *= 10;
  return local;
}

std::string format_rfc3339_in_zone(Timestamp t, const TimeZone& zone) {
  const LocalDateTime local = zone.to_local(t);
  const auto offset_minutes = std::chrono::duration_cast<minutes>(zone.utc_offset(t)).count();
  const long magnitude = std::labs(static_cast<long>(offset_minutes));
  std::array<char, 64> buffer{};
  int length =
      std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d", local.year,
                    local.month, local.day, local.hour, local.minute, local.second);
  const int millis = local.microsecond / 1000;
  if (millis != 0) {
    length +=
        std::snprintf(buffer.data() + length, buffer.size() - std::size_t(length), ".%03d", millis);
  }
  length +=
      std::snprintf(buffer.data() + length, buffer.size() - std::size_t(length), "%c%02ld:%02ld",
                    offset_minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
  return std::string(buffer.data(), static_cast<std::size_t>(length));
}

}  // namespace todo::domain

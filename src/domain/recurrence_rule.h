// Recurrence rules: presets and RFC 5545 RRULEs, parsed, validated and put in canonical form.
// (Expansion into dates is the recurring issue's job; this is the syntax.)
#pragma once

#include "domain/clock.h"
#include "domain/error.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace todo::domain {

enum class Frequency { kSecondly, kMinutely, kHourly, kDaily, kWeekly, kMonthly, kYearly };

struct WeekdayNum {
  int ordinal = 0;  // 0 = every; +n / -n = the n-th / n-th last in the month or year
  int weekday = 0;  // 0 = MO … 6 = SU
  bool operator==(const WeekdayNum&) const = default;
};

struct RecurrenceRule {
  Frequency freq = Frequency::kDaily;
  int interval = 1;
  std::optional<int> count;
  std::optional<std::string> until;  // as written: "20261231" or "20261231T235959Z"
  std::vector<WeekdayNum> by_day;
  std::vector<int> by_month_day;  // ±1..31
  std::vector<int> by_month;      // 1..12
  std::vector<int> by_year_day;   // ±1..366
  std::vector<int> by_week_no;    // ±1..53
  std::vector<int> by_hour, by_minute, by_second;
  std::vector<int> by_set_pos;    // ±1..366
  std::optional<int> wkst;        // 0 = MO … 6 = SU
};

// Accepts "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" with or without a leading "RRULE:", case-insensitive
// names and values. Errors are kValidation on field "recurrence" with a reason that says what and
// where, e.g. "BYDAY=XX: unknown weekday", "FREQ is required", "COUNT and UNTIL cannot both be set".
Result<RecurrenceRule> parse_rrule(std::string_view text);

// Canonical text: FREQ first, then INTERVAL (omitted when 1), COUNT, UNTIL, BYMONTH, BYWEEKNO,
// BYYEARDAY, BYMONTHDAY, BYDAY, BYHOUR, BYMINUTE, BYSECOND, BYSETPOS, WKST; upper-case; lists in
// the order given, duplicates removed.
std::string to_string(const RecurrenceRule& rule);

enum class RecurrencePreset { kDaily, kWeekly, kMonthly, kYearly };
std::optional<RecurrencePreset> parse_preset(std::string_view text);  // lower-case names
std::string_view to_string(RecurrencePreset preset);
RecurrenceRule preset_rule(RecurrencePreset preset);  // FREQ=DAILY etc.

// What a task stores in `recurrence`: nullopt for "none" or empty, the preset name for a preset,
// else the canonical RRULE. Errors as parse_rrule's.
Result<std::optional<std::string>> normalize_recurrence(std::string_view text);

// For events: "daily" | "weekly" | "monthly" | "custom" (yearly and every other rule), the
// interval, and the RRULE text (always set for a recurring task).
struct RecurrenceSummary {
  std::string pattern;
  int interval = 1;
  std::string rrule;
};
RecurrenceSummary summarize_recurrence(std::string_view stored);

}  // namespace todo::domain

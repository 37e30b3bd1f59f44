// A hand-written RFC 5545 (§3.3.10) RRULE parser and validator, the canonical text form of a
// rule, and the presets that stand for the simplest rules.
#include "domain/text.h"
#include "domain/recurrence_rule.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>

#include "domain/user.h"

namespace todo::domain {

namespace {

constexpr std::size_t kMaxRuleLength = 1000;  // bytes; a real rule is far shorter
constexpr int kMaxIntervalOrCount = 1'000'000;

constexpr std::array<std::string_view, 7> kFrequencyNames = {
    "SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"MO", "TU", "WE", "TH",
                                                           "FR", "SA", "SU"};
constexpr std::array<std::string_view, 4> kPresetNames = {"daily", "weekly", "monthly", "yearly"};

Error rule_error(std::string reason) {
  return validation_error({{"recurrence", std::move(reason)}});
}

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_ascii(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Decimal digits with an optional sign; nullopt when malformed. Long inputs saturate far outside
// every range checked here instead of overflowing.
std::optional<long> parse_integer(std::string_view text, bool allow_sign) {
  bool negative = false;
  if (allow_sign && !text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  long value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = std::min(value * 10 + (c - '0'), 1'000'000'000L);
  }
  return negative ? -value : value;
}

std::optional<int> parse_weekday(std::string_view text) {
  const auto it = std::find(kWeekdayNames.begin(), kWeekdayNames.end(), text);
  if (it == kWeekdayNames.end()) return std::nullopt;
  return static_cast<int>(it - kWeekdayNames.begin());
}

template <class T>
void append_unique(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// One NAME=VALUE part as written (name upper-cased), for messages.
struct Part {
  std::string name;
  std::string value;        // as written
  std::string upper_value;  // for parsing: values are case-insensitive
  std::string where() const { return name + "=" + value; }
};

// A number list such as BYMONTH=1,6. A signed range is ±min..max without zero; an unsigned one is
// min..max.
Result<std::vector<int>> parse_number_list(const Part& part, int min, int max, bool signed_range,
                                           std::string_view range_text) {
  std::vector<int> out;
  for (const std::string_view item : split(part.value, ',')) {
    if (item.empty()) return rule_error(part.where() + ": empty item in the list");
    const auto value = parse_integer(item, signed_range);
    const bool in_range = value && (signed_range ? (*value != 0 && *value >= -max && *value <= max)
                                                 : (*value >= min && *value <= max));
    if (!in_range) {
      return rule_error(part.name + "=" + std::string(item) + ": must be " +
                        std::string(range_text));
    }
    append_unique(out, static_cast<int>(value.value()));
  }
  return out;
}

Result<int> parse_positive(const Part& part) {
  const auto value = parse_integer(part.value, false);
  if (!value || *value < 1) return rule_error(part.where() + ": must be a positive integer");
  if (*value > kMaxIntervalOrCount) return rule_error(part.where() + ": must be at most 1000000");
  return static_cast<int>(*value);
}

// DATE "YYYYMMDD" or DATE-TIME "YYYYMMDDTHHMMSS" with an optional "Z", naming a real instant.
bool is_valid_until(std::string_view text) {
  if (text.size() != 8 && text.size() != 15 && text.size() != 16) return false;
  const auto digits = [&](std::size_t pos, std::size_t count) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
      if (!is_digit(text[i])) return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = digits(0, 4);
  const auto month = digits(4, 2);
  const auto day = digits(6, 2);
  if (!year || !month || !day) return false;
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return false;
  if (text.size() == 8) return true;
  if (text[8] != 'T') return false;
  if (text.size() == 16 && text[15] != 'Z') return false;
  const auto hour = digits(9, 2);
  const auto minute = digits(11, 2);
  const auto second = digits(13, 2);
  return hour && minute && second && *hour <= 23 && *minute <= 59 && *second <= 59;
}

// [+|-][1..53](MO|TU|WE|TH|FR|SA|SU), comma-separated.
Result<std::vector<WeekdayNum>> parse_by_day(const Part& part) {
  std::vector<WeekdayNum> out;
  for (const std::string_view item : split(part.upper_value, ',')) {
    if (item.empty()) return rule_error(part.where() + ": empty item in the list");
    const std::string where = part.name + "=" + std::string(item);
    if (item.size() < 2) return rule_error(where + ": unknown weekday");
    const auto weekday = parse_weekday(item.substr(item.size() - 2));
    if (!weekday) return rule_error(where + ": unknown weekday");
    const std::string_view ordinal_text = item.substr(0, item.size() - 2);
    int ordinal = 0;
    if (!ordinal_text.empty()) {
      const auto ordinal_value = parse_integer(ordinal_text, true);
      if (!ordinal_value || *ordinal_value == 0 || *ordinal_value < -53 || *ordinal_value > 53) {
        return rule_error(where + ": the ordinal must be 1 to 53 or -53 to -1");
      }
      ordinal = static_cast<int>(*ordinal_value);
    }
    append_unique(out, WeekdayNum{ordinal, *weekday});
  }
  return out;
}

// Stores `value` (a parsed part) in `field` of `rule`, or passes the error on.
template <class T, class Field>
Result<RecurrenceRule> with(RecurrenceRule rule, Field RecurrenceRule::*field, Result<T> value) {
  if (!value) return value.error();
  rule.*field = std::move(value.value());
  return rule;
}

Result<RecurrenceRule> apply_part(RecurrenceRule rule, const Part& part) {
  const std::string& name = part.name;
  using R = RecurrenceRule;
  if (name == "FREQ") {
    const auto it = std::find(kFrequencyNames.begin(), kFrequencyNames.end(), part.upper_value);
    if (it == kFrequencyNames.end()) {
      return rule_error(part.where() +
                        ": unknown frequency (expected SECONDLY, MINUTELY, HOURLY, DAILY, "
                        "WEEKLY, MONTHLY or YEARLY)");
    }
    rule.freq = static_cast<Frequency>(it - kFrequencyNames.begin());
    return rule;
  }
  if (name == "INTERVAL") return with(std::move(rule), &R::interval, parse_positive(part));
  if (name == "COUNT") return with(std::move(rule), &R::count, parse_positive(part));
  if (name == "UNTIL") {
    if (!is_valid_until(part.upper_value)) {
      return rule_error(part.where() +
                        ": must be a real date YYYYMMDD or date-time YYYYMMDDTHHMMSS[Z]");
    }
    rule.until = part.upper_value;
    return rule;
  }
  if (name == "BYDAY") return with(std::move(rule), &R::by_day, parse_by_day(part));
  const auto list = [&](std::vector<int> R::*field, int min, int max, bool signed_range,
                        std::string_view range_text) {
    return with(std::move(rule), field,
                parse_number_list(part, min, max, signed_range, range_text));
  };
  if (name == "BYMONTHDAY") return list(&R::by_month_day, 1, 31, true, "1 to 31 or -31 to -1");
  if (name == "BYYEARDAY") return list(&R::by_year_day, 1, 366, true, "1 to 366 or -366 to -1");
  if (name == "BYWEEKNO") return list(&R::by_week_no, 1, 53, true, "1 to 53 or -53 to -1");
  if (name == "BYSETPOS") return list(&R::by_set_pos, 1, 366, true, "1 to 366 or -366 to -1");
  if (name == "BYMONTH") return list(&R::by_month, 1, 12, false, "1 to 12");
  if (name == "BYHOUR") return list(&R::by_hour, 0, 23, false, "0 to 23");
  if (name == "BYMINUTE") return list(&R::by_minute, 0, 59, false, "0 to 59");
  if (name == "BYSECOND") return list(&R::by_second, 0, 60, false, "0 to 60");
  if (name == "WKST") {
    const auto weekday = parse_weekday(part.upper_value);
    if (!weekday) return rule_error(part.where() + ": unknown weekday");
    rule.wkst = weekday;
    return rule;
  }
  return rule_error(part.where() + ": unknown rule part");
}

// The rules of RFC 5545 §3.3.10 that tie parts to FREQ and to each other.
std::optional<Error> check_combinations(const RecurrenceRule& rule,
                                        const std::map<std::string, Part>& parts) {
  const auto where = [&](const std::string& name) { return parts.at(name).where(); };
  const Frequency freq = rule.freq;
  if (rule.count && rule.until) return rule_error("COUNT and UNTIL cannot both be set");
  if (!rule.by_week_no.empty() && freq != Frequency::kYearly) {
    return rule_error(where("BYWEEKNO") + ": only allowed with FREQ=YEARLY");
  }
  if (!rule.by_year_day.empty() &&
      (freq == Frequency::kDaily || freq == Frequency::kWeekly || freq == Frequency::kMonthly)) {
    return rule_error(where("BYYEARDAY") + ": not allowed with FREQ=DAILY, WEEKLY or MONTHLY");
  }
  if (!rule.by_month_day.empty() && freq == Frequency::kWeekly) {
    return rule_error(where("BYMONTHDAY") + ": not allowed with FREQ=WEEKLY");
  }
  const bool has_ordinal = std::any_of(rule.by_day.begin(), rule.by_day.end(),
                                       [](const WeekdayNum& d) { return d.ordinal != 0; });
  if (has_ordinal && freq != Frequency::kMonthly && freq != Frequency::kYearly) {
    return rule_error(where("BYDAY") +
                      ": an ordinal such as 1MO is only allowed with FREQ=MONTHLY or YEARLY");
  }
  if (has_ordinal && freq == Frequency::kYearly && !rule.by_week_no.empty()) {
    return rule_error(where("BYDAY") +
                      ": an ordinal such as 1MO is not allowed together with BYWEEKNO");
  }
  // An ordinal counts within the month (MONTHLY, or YEARLY with BYMONTH): no month has a 6th
  // weekday, and such a rule would send libical searching for centuries before the first instance.
  const bool ordinal_in_month =
      freq == Frequency::kMonthly || (freq == Frequency::kYearly && !rule.by_month.empty());
  if (ordinal_in_month) {
    for (const WeekdayNum& d : rule.by_day) {
      if (d.ordinal > 5 || d.ordinal < -5) {
        return rule_error(where("BYDAY") + ": " + std::to_string(d.ordinal) +
                          " is out of range: a month has at most 5 of each weekday");
      }
    }
    const bool only_february = !rule.by_month.empty() &&
                               std::all_of(rule.by_month.begin(), rule.by_month.end(),
                                           [](int m) { return m == 2; });
    const bool only_fifth = has_ordinal && std::all_of(rule.by_day.begin(), rule.by_day.end(),
                                                       [](const WeekdayNum& d) {
                                                         return d.ordinal == 5 || d.ordinal == -5;
                                                       });
    if (only_february && only_fifth) {
      return rule_error(where("BYDAY") +
                        ": February has a fifth weekday only once in 28 years; this rule matches "
                        "too rarely");
    }
  }
  // BYSETPOS picks from each day's (or week's) set, which BYHOUR, BYMINUTE, BYSECOND (and for
  // WEEKLY, BYDAY) make: a position beyond its size never matches.
  if (!rule.by_set_pos.empty() && (freq == Frequency::kDaily || freq == Frequency::kWeekly)) {
    const auto size_of = [](std::size_t n) { return n == 0 ? std::size_t{1} : n; };
    std::size_t set_size =
        size_of(rule.by_hour.size()) * size_of(rule.by_minute.size()) * size_of(rule.by_second.size());
    if (freq == Frequency::kWeekly) set_size *= size_of(rule.by_day.size());
    for (const int position : rule.by_set_pos) {
      if (static_cast<std::size_t>(position < 0 ? -position : position) > set_size) {
        return rule_error(where("BYSETPOS") + ": " + std::to_string(position) +
                          " is beyond the " + std::to_string(set_size) + " candidate(s) of each " +
                          (freq == Frequency::kDaily ? "day" : "week") + ", so it never matches");
      }
    }
  }
  const bool has_other_by = !rule.by_day.empty() || !rule.by_month_day.empty() ||
                            !rule.by_month.empty() || !rule.by_year_day.empty() ||
                            !rule.by_week_no.empty() || !rule.by_hour.empty() ||
                            !rule.by_minute.empty() || !rule.by_second.empty();
  if (!rule.by_set_pos.empty() && !has_other_by) {
    return rule_error(where("BYSETPOS") + ": needs another BYxxx part to select from");
  }
  return std::nullopt;
}

std::string join_numbers(const std::vector<int>& values) {
  std::vector<int> unique;
  for (const int v : values) append_unique(unique, v);
  std::string out;
  for (const int v : unique) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

std::string weekday_name(int weekday) {
  return std::string(kWeekdayNames.at(static_cast<std::size_t>(weekday)));
}

}  // namespace

Result<RecurrenceRule> parse_rrule(std::string_view text) {
  if (!is_valid_utf8(text)) return rule_error("must be valid UTF-8");
  if (text.size() > kMaxRuleLength) return rule_error("must be at most 1000 characters");
  std::string_view body = trim_ascii(text);
  if (body.size() >= 6 && ascii_upper(body.substr(0, 6)) == "RRULE:") body.remove_prefix(6);
  if (!body.empty() && body.back() == ';') body.remove_suffix(1);  // a trailing separator
  if (trim_ascii(body).empty()) return rule_error("FREQ is required");

  RecurrenceRule rule;
  std::map<std::string, Part> seen;
  for (const std::string_view raw : split(body, ';')) {
    const std::string_view item = trim_ascii(raw);
    if (item.empty()) return rule_error("empty rule part between two ';'");
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      return rule_error(std::string(item) + ": expected NAME=VALUE");
    }
    Part part;
    part.name = ascii_upper(trim_ascii(item.substr(0, equals)));
    part.value = std::string(trim_ascii(item.substr(equals + 1)));
    part.upper_value = ascii_upper(part.value);
    if (part.name.empty()) return rule_error(std::string(item) + ": the part has no name");
    if (part.value.empty()) return rule_error(part.where() + ": must not be empty");
    if (seen.contains(part.name)) {
      return rule_error(part.where() + ": " + part.name + " is given more than once");
    }
    auto applied = apply_part(std::move(rule), part);
    if (!applied) return applied.error();
    rule = std::move(applied.value());
    seen.emplace(part.name, std::move(part));
  }
  if (!seen.contains("FREQ")) return rule_error("FREQ is required");
  if (auto error = check_combinations(rule, seen)) return std::move(*error);
  return rule;
}

std::string to_string(const RecurrenceRule& rule) {
  std::string out = "FREQ=" + std::string(kFrequencyNames.at(static_cast<std::size_t>(rule.freq)));
  const auto add = [&out](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    out += ';';
    out += name;
    out += '=';
    out += value;
  };
  if (rule.interval != 1) add("INTERVAL", std::to_string(rule.interval));
  if (rule.count) add("COUNT", std::to_string(rule.count.value()));
  if (rule.until) add("UNTIL", ascii_upper(rule.until.value()));
  add("BYMONTH", join_numbers(rule.by_month));
  add("BYWEEKNO", join_numbers(rule.by_week_no));
  add("BYYEARDAY", join_numbers(rule.by_year_day));
  add("BYMONTHDAY", join_numbers(rule.by_month_day));
  std::vector<WeekdayNum> days;
  for (const WeekdayNum& d : rule.by_day) append_unique(days, d);
  std::string by_day;
  for (const WeekdayNum& d : days) {
    if (!by_day.empty()) by_day += ',';
    if (d.ordinal != 0) by_day += std::to_string(d.ordinal);
    by_day += weekday_name(d.weekday);
  }
  add("BYDAY", by_day);
  add("BYHOUR", join_numbers(rule.by_hour));
  add("BYMINUTE", join_numbers(rule.by_minute));
  add("BYSECOND", join_numbers(rule.by_second));
  add("BYSETPOS", join_numbers(rule.by_set_pos));
  if (rule.wkst) add("WKST", weekday_name(rule.wkst.value()));
  return out;
}

std::optional<RecurrencePreset> parse_preset(std::string_view text) {
  const auto it = std::find(kPresetNames.begin(), kPresetNames.end(), text);
  if (it == kPresetNames.end()) return std::nullopt;
  return static_cast<RecurrencePreset>(it - kPresetNames.begin());
}

std::string_view to_string(RecurrencePreset preset) {
  return kPresetNames.at(static_cast<std::size_t>(preset));
}

RecurrenceRule preset_rule(RecurrencePreset preset) {
  RecurrenceRule rule;
  switch (preset) {
    case RecurrencePreset::kDaily:
      rule.freq = Frequency::kDaily;
      break;
    case RecurrencePreset::kWeekly:
      rule.freq = Frequency::kWeekly;
      break;
    case RecurrencePreset::kMonthly:
      rule.freq = Frequency::kMonthly;
      break;
    case RecurrencePreset::kYearly:
      rule.freq = Frequency::kYearly;
      break;
  }
  return rule;
}

Result<std::optional<std::string>> normalize_recurrence(std::string_view text) {
  if (!is_valid_utf8(text)) return rule_error("must be valid UTF-8");
  const std::string trimmed = trim(text);
  const std::string lower = ascii_lower(trimmed);
  if (lower.empty() || lower == "none") return std::optional<std::string>();
  if (const auto preset = parse_preset(lower)) {
    return std::optional<std::string>(std::string(to_string(*preset)));
  }
  auto rule = parse_rrule(trimmed);
  if (!rule) return rule.error();
  return std::optional<std::string>(to_string(rule.value()));
}

RecurrenceSummary summarize_recurrence(std::string_view stored) {
  if (const auto preset = parse_preset(stored)) {
    const std::string rrule = to_string(preset_rule(*preset));
    if (*preset == RecurrencePreset::kYearly) return {"custom", 1, rrule};
    return {std::string(to_string(*preset)), 1, rrule};
  }
  const auto rule = parse_rrule(stored);
  if (!rule) return {"custom", 1, std::string(stored)};  // not stored by us; pass it on as is
  const RecurrenceRule& r = rule.value();
  const std::string rrule = to_string(r);
  RecurrenceRule bare;
  bare.freq = r.freq;
  bare.interval = r.interval;
  const bool simple = to_string(bare) == rrule;
  if (simple && r.freq == Frequency::kDaily) return {"daily", r.interval, rrule};
  if (simple && r.freq == Frequency::kWeekly) return {"weekly", r.interval, rrule};
  if (simple && r.freq == Frequency::kMonthly) return {"monthly", r.interval, rrule};
  return {"custom", r.interval, rrule};
}

}  // namespace todo::domain

// The recurrence engine. libical expands RRULEs in floating wall time; what libical 3.0 gets wrong
// or leaves to its caller is done here (docs/adr/0009-recurrence.md): the defaults RFC 5545 takes
// from DTSTART are written out, so every expansion starts at the beginning of the anchor's period;
// BYSETPOS, the weeks of FREQ=WEEKLY and the BYMONTHDAY of FREQ=DAILY are applied here; COUNT,
// UNTIL and the time zone too.
#include "domain/recurrence.h"

#include <libical/ical.h>

#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <memory>

#include "domain/civil.h"

namespace todo::domain {
namespace {

constexpr int kLastYear = 9999;  // (libical 3.0 itself stops after 2582)

constexpr std::array<std::string_view, 7> kFrequencyNames = {
    "SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"};

Error rule_error(std::string reason) {
  return validation_error({{"recurrence", std::move(reason)}});
}

std::string join(const std::vector<int>& values) {
  std::string out;
  for (const int v : values) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

std::int64_t day_number(const LocalDateTime& t) { return days_from_civil(t.year, t.month, t.day); }

// 0 = MO … 6 = SU, as RecurrenceRule counts weekdays.
int rule_weekday(std::int64_t days) { return (weekday_from_days(days) + 6) % 7; }

// The first day of the week (starting on `wkst`) that holds `days`.
std::int64_t week_start(std::int64_t days, int wkst) {
  return days - (rule_weekday(days) - wkst + 7) % 7;
}

LocalDateTime midnight(const LocalDate& date) { return {date.year, date.month, date.day}; }

LocalDateTime from_days(std::int64_t days) { return midnight(civil_from_days(days)); }

// A wall time as seconds on a zone-less scale: orders wall times, ignoring microseconds.
std::int64_t wall_seconds(const LocalDateTime& t) {
  return day_number(t) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

bool month_day_matches(const std::vector<int>& month_days, const LocalDateTime& t) {
  const int length = days_in_month(t.year, t.month);
  return std::any_of(month_days.begin(), month_days.end(),
                     [&](int d) { return d > 0 ? t.day == d : t.day == length + d + 1; });
}

// False when no month the rule allows has any of its month days (BYMONTH=2;BYMONTHDAY=30), which
// would otherwise send the expansion looking until the end of the calendar.
bool month_days_possible(const RecurrenceRule& rule) {
  if (rule.by_month_day.empty()) return true;
  for (int month = 1; month <= 12; ++month) {
    const bool allowed =
        rule.by_month.empty() ||
        std::find(rule.by_month.begin(), rule.by_month.end(), month) != rule.by_month.end();
    if (!allowed) continue;
    const int longest = days_in_month(2000, month);  // a leap year: 29 February exists
    for (const int d : rule.by_month_day) {
      if (std::abs(d) <= longest) return true;
    }
  }
  return false;
}

RecurrenceRule anchored_preset(RecurrencePreset preset, const LocalDateTime& anchor) {
  RecurrenceRule rule = preset_rule(preset);
  if (preset == RecurrencePreset::kMonthly && anchor.day > 28) {
    for (int d = 28; d <= anchor.day; ++d) rule.by_month_day.push_back(d);
    rule.by_set_pos = {-1};
  }
  if (preset == RecurrencePreset::kYearly && anchor.month == 2 && anchor.day == 29) {
    rule.by_month = {2};
    rule.by_month_day = {28, 29};
    rule.by_set_pos = {-1};
  }
  return rule;
}

Result<RecurrenceRule> parse_stored(std::string_view recurrence) {
  if (const auto preset = parse_preset(recurrence)) return preset_rule(*preset);
  return parse_rrule(recurrence);
}

// ---- expansion ------------------------------------------------------------------------------

// The rule with every default RFC 5545 takes from DTSTART written out, so that the expansion no
// longer depends on where it starts.
RecurrenceRule with_explicit_defaults(RecurrenceRule r, const LocalDateTime& anchor, bool all_day) {
  if (!all_day) {
    if (r.by_hour.empty()) r.by_hour = {anchor.hour};
    if (r.by_minute.empty()) r.by_minute = {anchor.minute};
    if (r.by_second.empty()) r.by_second = {anchor.second};
  }
  const WeekdayNum anchor_weekday{0, rule_weekday(day_number(anchor))};
  switch (r.freq) {
    case Frequency::kWeekly:
      if (r.by_day.empty()) r.by_day = {anchor_weekday};
      break;
    case Frequency::kMonthly:
      if (r.by_day.empty() && r.by_month_day.empty()) r.by_month_day = {anchor.day};
      break;
    case Frequency::kYearly:
      if (!r.by_week_no.empty()) {
        if (r.by_day.empty()) r.by_day = {anchor_weekday};
      } else if (r.by_year_day.empty() && r.by_month_day.empty() && r.by_day.empty()) {
        if (r.by_month.empty()) r.by_month = {anchor.month};
        r.by_month_day = {anchor.day};
      }
      break;
    default:
      break;
  }
  return r;
}

// The first day of week 1 of `year`: the first week (starting on `wkst`) with at least four days
// in the year (RFC 5545, as ISO 8601 with WKST=MO).
std::int64_t week_one_start(int year, int wkst) {
  const std::int64_t january_first = days_from_civil(year, 1, 1);
  const std::int64_t start = week_start(january_first, wkst);
  return january_first - start <= 3 ? start : start + 7;
}

// Whether the week holding `days` has number `wanted` (negative: counted from the end of the year
// the week belongs to; a week crossing the new year belongs to the year with four of its days).
bool week_number_matches(std::int64_t days, int wkst, const std::vector<int>& wanted) {
  int year = civil_from_days(days).year;
  if (days < week_one_start(year, wkst)) {
    --year;
  } else if (days >= week_one_start(year + 1, wkst)) {
    ++year;
  }
  const std::int64_t first = week_one_start(year, wkst);
  const auto number = static_cast<int>((week_start(days, wkst) - first) / 7) + 1;
  const auto weeks = static_cast<int>((week_one_start(year + 1, wkst) - first) / 7);
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](int n) { return n > 0 ? number == n : number == weeks + n + 1; });
}

// Whether the day is one of the weekdays; an ordinal counts in its month or in its year.
bool weekday_matches(const std::vector<WeekdayNum>& weekdays, bool in_month,
                     const LocalDateTime& t) {
  const std::int64_t days = day_number(t);
  const int day = in_month ? t.day : day_of_year(t.date());
  const int length = in_month ? days_in_month(t.year, t.month) : (is_leap(t.year) ? 366 : 365);
  const int from_start = (day - 1) / 7 + 1;
  const int from_end = (length - day) / 7 + 1;
  return std::any_of(weekdays.begin(), weekdays.end(), [&](const WeekdayNum& w) {
    if (w.weekday != rule_weekday(days)) return false;
    return w.ordinal == 0 || (w.ordinal > 0 ? w.ordinal == from_start : -w.ordinal == from_end);
  });
}

bool contains(const std::vector<int>& values, int value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Parts that only limit libical's candidates, applied here where libical 3.0 gets them wrong.
struct Filters {
  std::vector<int> months;
  std::vector<int> month_days;
  std::vector<WeekdayNum> weekdays;
  bool weekdays_in_month = false;  // ordinals count in the month, else in the year
  std::vector<int> week_numbers;
  int wkst = 0;

  bool match(const LocalDateTime& t) const {
    return (months.empty() || contains(months, t.month)) &&
           (month_days.empty() || month_day_matches(month_days, t)) &&
           (weekdays.empty() || weekday_matches(weekdays, weekdays_in_month, t)) &&
           (week_numbers.empty() || week_number_matches(day_number(t), wkst, week_numbers));
  }
};

// What libical expands, from where, and what is applied to its candidates here.
struct Expansion {
  RecurrenceRule ical;  // no COUNT, UNTIL or BYSETPOS
  LocalDateTime start;  // the beginning of the anchor's period
  Filters filters;
  int week_interval = 0;  // FREQ=WEEKLY: every n-th week (from the anchor's) is kept
  int wkst = 0;
};

// FREQ=YEARLY: libical 3.0 handles BYMONTH, BYMONTHDAY and BYDAY (ordinals too), but not
// BYYEARDAY or BYWEEKNO together with parts that limit them, not negative week numbers, and not
// BYMONTHDAY without BYMONTH.
void plan_yearly(const RecurrenceRule& full, Expansion& e) {
  Filters& f = e.filters;
  if (!full.by_year_day.empty()) {
    // libical expands the year days; the other day parts only limit them.
    f.months = full.by_month;
    f.month_days = full.by_month_day;
    f.weekdays = full.by_day;
    f.weekdays_in_month = !full.by_month.empty();
    f.week_numbers = full.by_week_no;
    e.ical.by_month.clear();
    e.ical.by_month_day.clear();
    e.ical.by_day.clear();
    e.ical.by_week_no.clear();
    return;
  }
  if (!full.by_week_no.empty()) {
    // libical expands the weekdays of the year (or of BYMONTH); the weeks are chosen here.
    f.week_numbers = full.by_week_no;
    f.month_days = full.by_month_day;
    e.ical.by_week_no.clear();
    e.ical.by_month_day.clear();
    return;
  }
  if (!full.by_month_day.empty() && full.by_month.empty()) {
    if (full.by_day.empty()) {
      // libical 3.0 would keep to DTSTART's month; RFC 5545 expands BYMONTHDAY over the year.
      e.ical.by_month = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    } else {
      // BYDAY (ordinals counting in the year) expands, BYMONTHDAY limits.
      f.month_days = full.by_month_day;
      e.ical.by_month_day.clear();
    }
  }
}

// FREQ=DAILY (and WEEKLY, expanded as DAILY): BYMONTH, BYMONTHDAY and BYDAY only limit the days;
// libical then only expands the time of day, one candidate per call.
void move_daily_limits_to_filters(Expansion& e) {
  e.filters.months = e.ical.by_month;
  e.filters.month_days = e.ical.by_month_day;
  e.filters.weekdays = e.ical.by_day;
  e.filters.weekdays_in_month = false;  // the parser allows no ordinals with DAILY or WEEKLY
  e.ical.by_month.clear();
  e.ical.by_month_day.clear();
  e.ical.by_day.clear();
}

Expansion expansion_of(const SeriesPlan& plan) {
  const RecurrenceRule full = with_explicit_defaults(plan.rule, plan.anchor, plan.all_day);
  Expansion e;
  e.ical = full;
  e.ical.count.reset();
  e.ical.until.reset();
  e.ical.by_set_pos.clear();
  e.wkst = full.wkst.value_or(0);
  e.filters.wkst = e.wkst;
  const std::int64_t anchor_day = day_number(plan.anchor);
  switch (full.freq) {
    case Frequency::kDaily:
      // libical 3.0 finds nothing for a negative BYMONTHDAY with FREQ=DAILY; for DAILY the part
      // only limits, so it is a filter here. So are BYMONTH and BYDAY (no ordinals with DAILY):
      // libical would skip the days they refuse inside one call, unbounded and uncounted
      // (BYMONTH=2;BYDAY=MO with BYMONTHDAY=29 searches 28 years per match); here every day
      // libical gives spends from the budget.
      move_daily_limits_to_filters(e);
      e.start = from_days(anchor_day);
      break;
    case Frequency::kWeekly:
      // libical 3.0 misplaces the weeks with WKST=SA and INTERVAL > 1: weeks are counted here,
      // on the days libical finds.
      e.ical.freq = Frequency::kDaily;
      e.ical.interval = 1;
      e.ical.wkst.reset();
      e.week_interval = full.interval;
      move_daily_limits_to_filters(e);
      e.start = from_days(week_start(anchor_day, e.wkst));
      break;
    case Frequency::kMonthly:
      e.start = midnight({plan.anchor.year, plan.anchor.month, 1});
      break;
    default:
      e.start = midnight({plan.anchor.year, 1, 1});
      plan_yearly(full, e);
      break;
  }
  return e;
}

icaltimetype ical_time(const LocalDateTime& t, bool date_only) {
  icaltimetype out = icaltime_null_time();
  out.year = t.year;
  out.month = t.month;
  out.day = t.day;
  out.is_date = date_only ? 1 : 0;
  if (!date_only) {
    out.hour = t.hour;
    out.minute = t.minute;
    out.second = t.second;
  }
  return out;  // floating: no zone
}

struct IteratorFree {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};

// The candidates of one plan in order, after everything but COUNT and UNTIL.
class Expander {
 public:
  Expander(const SeriesPlan& plan, RecurrenceBudget& budget)
      : budget_(budget),
        expansion_(expansion_of(plan)),
        anchor_week_(week_start(day_number(plan.anchor), expansion_.wkst)),
        freq_(plan.rule.freq),
        interval_(std::max(1, plan.rule.interval)),
        set_positions_(plan.rule.by_set_pos),
        all_day_(plan.all_day) {
    if (!month_days_possible(plan.rule)) return;
    const std::string text = to_string(expansion_.ical);
    const icalrecurrencetype rule = icalrecurrencetype_from_string(text.c_str());
    if (rule.freq == ICAL_NO_RECURRENCE) return;
    // nullptr when libical finds no occurrence at all (FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1).
    iterator_.reset(icalrecur_iterator_new(rule, ical_time(expansion_.start, all_day_)));
  }

  // The next candidate, or nullopt at the end (see gave_up()).
  std::optional<LocalDateTime> next() {
    if (set_positions_.empty()) return next_filtered();
    while (ready_.empty()) {
      if (!fill_period()) return std::nullopt;
    }
    const LocalDateTime out = ready_.front();
    ready_.pop_front();
    return out;
  }

  bool gave_up() const { return gave_up_; }

 private:
  // libical's next candidate that passes the filters applied here.
  std::optional<LocalDateTime> next_filtered() {
    while (iterator_) {
      if (budget_.exhausted()) {
        gave_up_ = true;
        break;
      }
      const icaltimetype t = icalrecur_iterator_next(iterator_.get());
      if (icaltime_is_null_time(t) || t.year > kLastYear) break;
      budget_.spend(cost_of(t));
      const LocalDateTime local{t.year,
                                t.month,
                                t.day,
                                all_day_ ? 0 : t.hour,
                                all_day_ ? 0 : t.minute,
                                all_day_ ? 0 : t.second};
      if (last_ && wall_seconds(local) <= wall_seconds(*last_)) continue;
      if (!keep(local)) continue;
      last_ = local;
      return local;
    }
    iterator_.reset();
    return std::nullopt;
  }

  // One unit per candidate, and one per period libical passed over without one (months or years
  // a MONTHLY or YEARLY rule's BYMONTH skipped inside the call).
  std::int64_t cost_of(const icaltimetype& t) {
    std::int64_t period = 0;
    switch (freq_) {
      case Frequency::kMonthly:
        period = std::int64_t{t.year} * 12 + t.month;
        break;
      case Frequency::kYearly:
        period = t.year;
        break;
      default:
        return 1;  // DAILY and WEEKLY: libical has no day to skip (see expansion_of)
    }
    const std::int64_t passed = last_period_ ? (period - *last_period_) / interval_ : 1;
    last_period_ = period;
    return std::max<std::int64_t>(1, passed);
  }

  bool keep(const LocalDateTime& t) const {
    if (!expansion_.filters.match(t)) return false;
    if (expansion_.week_interval > 1) {
      const std::int64_t weeks = (week_start(day_number(t), expansion_.wkst) - anchor_week_) / 7;
      if (weeks % expansion_.week_interval != 0) return false;
    }
    return true;
  }

  // The period a candidate belongs to, for BYSETPOS.
  std::int64_t period_of(const LocalDateTime& t) const {
    switch (freq_) {
      case Frequency::kDaily:
        return day_number(t);
      case Frequency::kWeekly:
        return week_start(day_number(t), expansion_.wkst);
      case Frequency::kMonthly:
        return std::int64_t{t.year} * 12 + t.month;
      default:
        return t.year;
    }
  }

  // Reads one period's candidates and queues those BYSETPOS selects; false at the end.
  bool fill_period() {
    std::optional<LocalDateTime> first = lookahead_ ? lookahead_ : next_filtered();
    lookahead_.reset();
    if (!first) return false;
    const std::int64_t period = period_of(*first);
    std::vector<LocalDateTime> candidates{*first};
    while (auto more = next_filtered()) {
      if (period_of(*more) != period) {
        lookahead_ = more;
        break;
      }
      candidates.push_back(*more);
    }
    const auto size = static_cast<int>(candidates.size());
    std::vector<int> chosen;
    for (const int position : set_positions_) {
      const int index = position > 0 ? position - 1 : size + position;
      if (index >= 0 && index < size) chosen.push_back(index);
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    for (const int index : chosen) ready_.push_back(candidates[static_cast<std::size_t>(index)]);
    return true;
  }

  RecurrenceBudget& budget_;
  Expansion expansion_;
  std::int64_t anchor_week_;
  Frequency freq_;
  std::int64_t interval_ = 1;
  std::optional<std::int64_t> last_period_;
  std::vector<int> set_positions_;
  bool all_day_;
  std::unique_ptr<icalrecur_iterator, IteratorFree> iterator_;
  bool gave_up_ = false;
  std::optional<LocalDateTime> last_;
  std::optional<LocalDateTime> lookahead_;
  std::deque<LocalDateTime> ready_;
};

// UNTIL as the rule wrote it: a date (that local day included), a wall time, or an instant (Z).
struct Until {
  std::optional<LocalDate> date;
  std::optional<LocalDateTime> local;
  std::optional<Timestamp> instant;

  bool passed(const Occurrence& o) const {
    if (date) return o.local.date() > *date;
    if (local) return wall_seconds(o.local) > wall_seconds(*local);
    if (instant) return o.at > *instant;
    return false;
  }
};

int digits(const std::string& text, std::size_t pos, std::size_t count) {
  return std::stoi(text.substr(pos, count));
}

// parse_rrule checked the form: YYYYMMDD or YYYYMMDDTHHMMSS[Z].
Until until_of(const std::optional<std::string>& text) {
  Until until;
  if (!text) return until;
  const std::string& u = *text;
  const LocalDate date{digits(u, 0, 4), digits(u, 4, 2), digits(u, 6, 2)};
  if (u.size() == 8) {
    until.date = date;
    return until;
  }
  const LocalDateTime local{date.year,       date.month,       date.day,
                            digits(u, 9, 2), digits(u, 11, 2), digits(u, 13, 2)};
  if (u.back() == 'Z') {
    until.instant = TimeZone::utc().to_utc(local);
  } else {
    until.local = local;
  }
  return until;
}

LocalDateTime local_of_due(Timestamp due, bool all_day, const TimeZone& zone) {
  const LocalDateTime local = zone.to_local(due);
  return all_day ? midnight(local.date()) : local;
}

// The first element of the plan's series after `after`, or nullopt when the series ends first.
Result<std::optional<Occurrence>> first_after(const SeriesPlan& plan, const TimeZone& zone,
                                              Timestamp after, RecurrenceBudget& budget) {
  std::optional<Occurrence> found;
  const WalkEnd end = walk_series(plan, zone, budget, [&](const Occurrence& o) {
    if (o.at <= after) return true;
    found = o;
    return false;
  });
  if (end == WalkEnd::kGaveUp) {
    return rule_error(to_string(plan.rule) +
                      ": this rule matches too rarely to find its next occurrence");
  }
  return found;
}

Error counting_error(const RecurrenceRule& rule) {
  return rule_error(to_string(rule) +
                    ": this rule matches too rarely to count its occurrences up to the due date");
}

// The plan counted from a completion: the rule re-anchored on the completion's local date at the
// series' time of day (all-day when the task is all-day or has no due date).
Result<SeriesPlan> completion_plan(const Task& task, Timestamp completed_at, const TimeZone& zone,
                                   RecurrenceBudget& budget) {
  const std::optional<LocalDateTime> anchor = series_anchor(task, zone);
  std::int64_t position = task.recurrence_anchor_index;
  const bool all_day = !anchor || task.all_day;
  if (anchor) {
    auto current =
        plan_series(*task.recurrence, *anchor, task.all_day, task.recurrence_anchor_index);
    if (!current) return current.error();
    const auto counted = series_position(task, *current, zone, budget);
    if (!counted) return counting_error(current->rule);
    position = *counted;
  }
  const LocalDate day = zone.to_local(completed_at).date();
  LocalDateTime start = midnight(day);
  if (!all_day) {
    start.hour = anchor->hour;
    start.minute = anchor->minute;
    start.second = anchor->second;
    start.microsecond = anchor->microsecond;
  }
  return plan_series(*task.recurrence, start, all_day, position);
}

}  // namespace

Result<RecurrenceRule> expandable_rule(std::string_view recurrence, bool timed) {
  auto parsed = parse_stored(recurrence);
  if (!parsed) return parsed.error();
  const RecurrenceRule& rule = parsed.value();
  if (rule.freq < Frequency::kDaily) {
    return rule_error(
        "FREQ=" + std::string(kFrequencyNames.at(static_cast<std::size_t>(rule.freq))) +
        ": a task repeats at most daily; use DAILY, WEEKLY, MONTHLY or YEARLY");
  }
  // At most one time per hour: several minutes or seconds would repeat a task within the hour
  // (BYMINUTE=0,30, BYSECOND=0,30), below any sensible reminder and a flood of occurrences.
  const auto more_than_hourly = [](const char* name, const std::vector<int>& values) {
    return rule_error(std::string(name) + "=" + join(values) +
                      ": a task recurs at most hourly; give one value (BYHOUR may list hours)");
  };
  if (rule.by_minute.size() > 1) return more_than_hourly("BYMINUTE", rule.by_minute);
  if (rule.by_second.size() > 1) return more_than_hourly("BYSECOND", rule.by_second);
  if (!timed) {
    const auto refuse = [](const char* name, const std::vector<int>& values) {
      return rule_error(std::string(name) + "=" + join(values) +
                        ": needs a due date with a time of day (this task is all-day or has "
                        "no due date)");
    };
    if (!rule.by_hour.empty()) return refuse("BYHOUR", rule.by_hour);
    if (!rule.by_minute.empty()) return refuse("BYMINUTE", rule.by_minute);
    if (!rule.by_second.empty()) return refuse("BYSECOND", rule.by_second);
  }
  return parsed;
}

Result<SeriesPlan> plan_series(std::string_view recurrence, const LocalDateTime& anchor,
                               bool all_day, std::int64_t occurrences_before) {
  auto rule = expandable_rule(recurrence, !all_day);
  if (!rule) return rule.error();
  SeriesPlan plan;
  plan.anchor = all_day ? midnight(anchor.date()) : anchor;
  const auto preset = parse_preset(recurrence);
  plan.rule = preset ? anchored_preset(*preset, plan.anchor) : std::move(rule.value());
  plan.all_day = all_day;
  plan.occurrences_before = std::max<std::int64_t>(0, occurrences_before);
  return plan;
}

WalkEnd walk_series(const SeriesPlan& plan, const TimeZone& zone,
                    const std::function<bool(const Occurrence&)>& visit) {
  RecurrenceBudget budget;
  return walk_series(plan, zone, budget, visit);
}

WalkEnd walk_series(const SeriesPlan& plan, const TimeZone& zone, RecurrenceBudget& budget,
                    const std::function<bool(const Occurrence&)>& visit) {
  const std::int64_t limit =
      plan.rule.count
          ? std::max<std::int64_t>(1, std::int64_t{*plan.rule.count} - plan.occurrences_before)
          : std::numeric_limits<std::int64_t>::max();
  if (!visit(Occurrence{plan.anchor, zone.to_utc(plan.anchor)})) return WalkEnd::kStopped;
  std::int64_t emitted = 1;
  if (emitted >= limit) return WalkEnd::kEnded;

  const Until until = until_of(plan.rule.until);
  const std::int64_t anchor_seconds = wall_seconds(plan.anchor);
  Expander expander(plan, budget);
  while (auto candidate = expander.next()) {
    LocalDateTime local = *candidate;
    if (wall_seconds(local) <= anchor_seconds) continue;  // the anchor's period before it
    local.microsecond = plan.anchor.microsecond;
    const Occurrence occurrence{local, zone.to_utc(local)};
    if (until.passed(occurrence)) return WalkEnd::kEnded;
    if (!visit(occurrence)) return WalkEnd::kStopped;
    if (++emitted >= limit) return WalkEnd::kEnded;
  }
  return expander.gave_up() ? WalkEnd::kGaveUp : WalkEnd::kEnded;
}

std::optional<LocalDateTime> series_anchor(const Task& task, const TimeZone& zone) {
  if (!task.due_at) return std::nullopt;
  if (task.recurrence_anchor) return task.recurrence_anchor;
  return local_of_due(*task.due_at, task.all_day, zone);
}

std::optional<std::int64_t> series_position(const Task& task, const SeriesPlan& plan,
                                            const TimeZone& zone, RecurrenceBudget& budget) {
  if (!plan.rule.count || !task.due_at) return plan.occurrences_before;
  const Timestamp due = *task.due_at;
  std::int64_t before = 0;
  const WalkEnd end = walk_series(plan, zone, budget, [&](const Occurrence& o) {
    if (o.at >= due) return false;
    ++before;
    return true;
  });
  if (end == WalkEnd::kGaveUp) return std::nullopt;
  return plan.occurrences_before + before;
}

namespace {

// `task` anchored on its own due date, with `index` occurrences before it.
Task anchored_on_due(Task task, std::int64_t index, const ZoneCatalog& zones) {
  task.recurrence_anchor_index = index;
  task.recurrence_anchor.reset();
  if (task.due_at) {
    if (const auto zone = zones.find(task.timezone)) {
      task.recurrence_anchor = local_of_due(*task.due_at, task.all_day, *zone);
    }
  }
  return task;
}

}  // namespace

Task anchor_series(Task after, const Task* before, const ZoneCatalog& zones) {
  RecurrenceBudget budget;
  auto anchored = anchor_series(after, before, zones, budget);
  if (anchored) return std::move(*anchored);
  return anchored_on_due(std::move(after), before ? before->recurrence_anchor_index : 0, zones);
}

Result<Task> anchor_series(Task after, const Task* before, const ZoneCatalog& zones,
                           RecurrenceBudget& budget) {
  if (!after.recurrence) {
    after.recurrence_anchor.reset();
    after.recurrence_anchor_index = 0;
    return after;
  }
  const bool rule_changed = !before || before->recurrence != after.recurrence;
  const bool moved = rule_changed || before->due_at != after.due_at ||
                     before->all_day != after.all_day || before->timezone != after.timezone;
  if (!moved) return after;

  std::int64_t index = 0;
  if (!rule_changed) {
    index = before->recurrence_anchor_index;
    const auto zone = zones.find(before->timezone);
    const auto anchor = zone ? series_anchor(*before, *zone) : std::nullopt;
    if (anchor) {
      const auto plan = plan_series(*before->recurrence, *anchor, before->all_day,
                                    before->recurrence_anchor_index);
      if (plan) {
        const auto counted = series_position(*before, *plan, *zone, budget);
        if (!counted) return counting_error(plan->rule);
        index = *counted;
      }
    }
  }
  return anchored_on_due(std::move(after), index, zones);
}

namespace {

// The first element of `plan` after `after`, as the occurrence following `task`; nullopt when
// the series has ended.
Result<std::optional<NextOccurrence>> next_in(const SeriesPlan& plan, const TimeZone& zone,
                                              Timestamp after, const Task& task,
                                              RecurrenceBudget& budget) {
  auto found = first_after(plan, zone, after, budget);
  if (!found) return found.error();
  if (!*found) return std::optional<NextOccurrence>();
  return std::optional<NextOccurrence>(NextOccurrence{
      .due_at = (*found)->at,
      .local = (*found)->local,
      .all_day = plan.all_day,
      .occurrence_index = task.occurrence_index + 1,
      .recurrence_anchor = plan.anchor,
      .recurrence_anchor_index = plan.occurrences_before,
  });
}

}  // namespace

Result<std::optional<NextOccurrence>> next_occurrence(const Task& task, Timestamp completed_at,
                                                      Timestamp now, const TimeZone& zone) {
  RecurrenceBudget budget;
  return next_occurrence(task, completed_at, now, zone, budget);
}

Result<std::optional<NextOccurrence>> next_occurrence(const Task& task, Timestamp completed_at,
                                                      Timestamp now, const TimeZone& zone,
                                                      RecurrenceBudget& budget) {
  if (!task.recurrence) return std::optional<NextOccurrence>();
  const std::optional<LocalDateTime> anchor = series_anchor(task, zone);
  if (!anchor || task.recurrence_mode == RecurrenceMode::kCompletion) {
    auto plan = completion_plan(task, completed_at, zone, budget);
    if (!plan) return plan.error();
    return next_in(*plan, zone, std::max(zone.to_utc(plan->anchor), completed_at), task, budget);
  }
  auto plan = plan_series(*task.recurrence, *anchor, task.all_day, task.recurrence_anchor_index);
  if (!plan) return plan.error();
  Timestamp after = *task.due_at;
  if (task.recurrence_mode == RecurrenceMode::kDue) after = std::max(after, now);
  return next_in(*plan, zone, after, task, budget);
}

Task make_next_task(const Task& completed, const NextOccurrence& next) {
  Task task = completed;
  task.id.clear();
  task.status = TaskStatus::kPending;
  task.due_at = next.due_at;
  task.all_day = next.all_day;
  task.series_id = completed.series_id.value_or(completed.id);
  task.occurrence_index = next.occurrence_index;
  task.recurrence_anchor = next.recurrence_anchor;
  task.recurrence_anchor_index = next.recurrence_anchor_index;
  task.version = 1;
  task.change_seq = 0;
  task.created_at = Timestamp{};
  task.updated_at = Timestamp{};
  task.completed_at.reset();
  task.deleted_at.reset();
  return task;
}

Result<OccurrencePreview> upcoming_occurrences(const Task& task, Timestamp now,
                                               const TimeZone& zone, int count) {
  OccurrencePreview preview;
  if (!task.recurrence || count <= 0) return preview;
  RecurrenceBudget budget;
  const auto too_rare = [&] {
    return rule_error(preview.rrule + ": this rule matches too rarely to preview " +
                      std::to_string(count) + " occurrences; ask for fewer");
  };
  const auto wanted = static_cast<std::size_t>(count);
  const std::optional<LocalDateTime> anchor = series_anchor(task, zone);

  if (anchor && task.recurrence_mode != RecurrenceMode::kCompletion) {
    // Due and strict keep the anchor: one walk gives them all.
    auto plan = plan_series(*task.recurrence, *anchor, task.all_day, task.recurrence_anchor_index);
    if (!plan) return plan.error();
    preview.rrule = to_string(plan->rule);
    preview.all_day = plan->all_day;
    Timestamp after = *task.due_at;
    if (task.recurrence_mode == RecurrenceMode::kDue) after = std::max(after, now);
    const WalkEnd end = walk_series(*plan, zone, budget, [&](const Occurrence& o) {
      if (o.at <= after) return true;
      preview.occurrences.push_back(o);
      after = o.at;
      return preview.occurrences.size() < wanted;
    });
    if (end == WalkEnd::kGaveUp) return too_rare();
    return preview;
  }

  // Counted from completions: each occurrence as if completed on its due date.
  Timestamp completed = task.due_at ? std::max(*task.due_at, now) : now;
  auto first_plan = completion_plan(task, completed, zone, budget);
  if (!first_plan) return budget.exhausted() ? too_rare() : first_plan.error();
  preview.rrule = to_string(first_plan->rule);
  preview.all_day = first_plan->all_day;
  Task current = task;
  while (preview.occurrences.size() < wanted) {
    auto next = next_occurrence(current, completed, now, zone, budget);
    if (!next) return budget.exhausted() ? too_rare() : next.error();
    if (!*next) break;
    const NextOccurrence& n = **next;
    preview.occurrences.push_back(Occurrence{n.local, n.due_at});
    current = make_next_task(current, n);
    completed = n.due_at;
  }
  return preview;
}

}  // namespace todo::domain

// The recurrence engine with real tzdata zones: fixed tables of expected occurrences across the
// spring gap and the autumn overlap in four zones, month ends, leap years, every preset and mode,
// COUNT and UNTIL, the series anchor, and where libical 3.0 needs help. Expected instants were
// checked with Python's zoneinfo (fold=0: a skipped time moves forward, a repeated one is the
// first) on Debian 12's tzdata. The differential test (tests/differential) compares the expansion
// of random rules with python3-dateutil.
#include "domain/recurrence.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "domain/time_format.h"
#include "support/tzdata.h"
#include "support/tzdata_catalog.h"

namespace todo::domain {
namespace {

const testing::TzdataCatalog& catalog() {
  static const testing::TzdataCatalog zones;
  return zones;
}

const TimeZone& zone(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const TimeZone>> cache;
  auto& entry = cache[name];
  if (!entry) entry = catalog().find(name);
  if (!entry) throw std::runtime_error("no zone " + name);
  return *entry;
}

Timestamp at(std::string_view rfc3339) {
  const auto t = parse_rfc3339(rfc3339);
  if (!t) throw std::invalid_argument("bad instant in test: " + std::string(rfc3339));
  return *t;
}

LocalDateTime wall(std::string_view text) {
  if (text.size() == 10) {
    const auto date = parse_date(text);
    if (!date) throw std::invalid_argument("bad date in test");
    return {date->year, date->month, date->day};
  }
  const auto local =
      parse_local_date_time(text.size() == 16 ? std::string(text) + ":00" : std::string(text));
  if (!local) throw std::invalid_argument("bad wall time in test: " + std::string(text));
  return *local;
}

// A recurring task due at `due` (a wall time, or a date for an all-day task) in `zone_name`,
// anchored as TaskService anchors a new task.
Task recurring(std::string_view recurrence, std::string_view due, const std::string& zone_name,
               RecurrenceMode mode = RecurrenceMode::kDue) {
  Task task;
  task.id = "t0";
  task.title = "Recurring";
  task.timezone = zone_name;
  task.recurrence = normalize_recurrence(recurrence).value().value();
  task.recurrence_mode = mode;
  task.all_day = due.size() == 10;
  task.due_at = zone(zone_name).to_utc(wall(due));
  task.series_id = task.id;
  return anchor_series(task, nullptr, catalog());
}

// An occurrence as the API shows it: wall time with offset, or the date of an all-day one.
std::string shown(const Occurrence& o, bool all_day, const TimeZone& z) {
  if (all_day) return format_local_date_time(o.local).substr(0, 10);
  return format_rfc3339_in_zone(o.at, z);
}

std::vector<std::string> upcoming(const Task& task, Timestamp now, int count) {
  const TimeZone& z = zone(task.timezone);
  auto preview = upcoming_occurrences(task, now, z, count);
  if (!preview) return {"<error: " + preview.error().fields.at(0).reason + ">"};
  std::vector<std::string> out;
  for (const auto& o : preview->occurrences) out.push_back(shown(o, preview->all_day, z));
  return out;
}

const Timestamp kLongAgo = at("2000-01-01T00:00:00Z");

// The next occurrence after completing `task` at `completed` (also "now"), shown as above.
std::string next_after(const Task& task, std::string_view completed,
                       std::optional<std::string_view> now = std::nullopt) {
  const TimeZone& z = zone(task.timezone);
  auto next = next_occurrence(task, at(completed), at(now.value_or(completed)), z);
  if (!next) return "<error: " + next.error().fields.at(0).reason + ">";
  if (!*next) return "<ended>";
  return shown(Occurrence{(*next)->local, (*next)->due_at}, (*next)->all_day, z);
}

// Completes each occurrence at the given instant in turn; the due dates of the occurrences.
std::vector<std::string> chain(Task task, const std::vector<std::string_view>& completions) {
  const TimeZone& z = zone(task.timezone);
  std::vector<std::string> out;
  for (const auto completed : completions) {
    auto next = next_occurrence(task, at(completed), at(completed), z);
    if (!next || !*next) {
      out.push_back(next ? "<ended>" : "<error>");
      break;
    }
    out.push_back(shown(Occurrence{(*next)->local, (*next)->due_at}, (*next)->all_day, z));
    task = make_next_task(task, **next);
  }
  return out;
}

using Strings = std::vector<std::string>;

// ---- tables: DST in four zones ----------------------------------------------------------------

struct Table {
  const char* name;
  const char* zone;
  const char* recurrence;
  const char* due;   // wall time in the zone, or a date
  Strings expected;  // the next occurrences in strict mode
};

class DstTable : public ::testing::TestWithParam<Table> {};

TEST_P(DstTable, GivesTheWallTimeInTheZone) {
  const Table& t = GetParam();
  const Task task = recurring(t.recurrence, t.due, t.zone, RecurrenceMode::kStrict);
  EXPECT_EQ(upcoming(task, kLongAgo, static_cast<int>(t.expected.size())), t.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Recurrence, DstTable,
    ::testing::Values(
        // New York: clocks go forward on 8 March 2026 at 02:00, back on 1 November at 02:00.
        Table{"NewYorkSpringGap",
              "America/New_York",
              "daily",
              "2026-03-06T02:30",
              {"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00",
               "2026-03-09T02:30:00-04:00"}},
        Table{"NewYorkAutumnOverlap",
              "America/New_York",
              "daily",
              "2026-10-30T01:30",
              {"2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00",
               "2026-11-02T01:30:00-05:00"}},
        Table{"NewYorkNineStaysNine",
              "America/New_York",
              "weekly",
              "2026-03-01T09:00",
              {"2026-03-08T09:00:00-04:00", "2026-03-15T09:00:00-04:00"}},
        // Berlin: forward on 29 March 2026 at 02:00, back on 25 October at 03:00.
        Table{"BerlinNineAcrossSpring",
              "Europe/Berlin",
              "daily",
              "2026-03-27T09:00",
              {"2026-03-28T09:00:00+01:00", "2026-03-29T09:00:00+02:00",
               "2026-03-30T09:00:00+02:00"}},
        Table{"BerlinSpringGap",
              "Europe/Berlin",
              "daily",
              "2026-03-28T02:30",
              {"2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"}},
        Table{"BerlinAutumnOverlap",
              "Europe/Berlin",
              "daily",
              "2026-10-24T02:30",
              {"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
        Table{"BerlinNineAcrossAutumn",
              "Europe/Berlin",
              "FREQ=WEEKLY;BYDAY=SA,SU",
              "2026-10-24T09:00",
              {"2026-10-25T09:00:00+01:00", "2026-10-31T09:00:00+01:00",
               "2026-11-01T09:00:00+01:00"}},
        // Sydney: back on 5 April 2026 at 03:00, forward on 4 October at 02:00.
        Table{"SydneySpringGap",
              "Australia/Sydney",
              "daily",
              "2026-10-02T02:30",
              {"2026-10-03T02:30:00+10:00", "2026-10-04T03:30:00+11:00",
               "2026-10-05T02:30:00+11:00"}},
        Table{"SydneyAutumnOverlap",
              "Australia/Sydney",
              "daily",
              "2026-04-03T02:30",
              {"2026-04-04T02:30:00+11:00", "2026-04-05T02:30:00+11:00",
               "2026-04-06T02:30:00+10:00"}},
        Table{"SydneyNineMonthly",
              "Australia/Sydney",
              "monthly",
              "2026-03-05T09:00",
              {"2026-04-05T09:00:00+10:00", "2026-05-05T09:00:00+10:00"}},
        // Auckland: back on 5 April 2026 at 03:00, forward on 27 September at 02:00.
        Table{"AucklandSpringGap",
              "Pacific/Auckland",
              "daily",
              "2026-09-25T02:30",
              {"2026-09-26T02:30:00+12:00", "2026-09-27T03:30:00+13:00",
               "2026-09-28T02:30:00+13:00"}},
        Table{"AucklandAutumnOverlap",
              "Pacific/Auckland",
              "daily",
              "2026-04-03T02:30",
              {"2026-04-04T02:30:00+13:00", "2026-04-05T02:30:00+13:00",
               "2026-04-06T02:30:00+12:00"}},
        Table{"AucklandLastSundayOfMarch",
              "Pacific/Auckland",
              "FREQ=MONTHLY;BYDAY=-1SU",
              "2026-03-29T09:00",
              {"2026-04-26T09:00:00+12:00", "2026-05-31T09:00:00+12:00"}},
        // All-day tasks stay all-day across DST.
        Table{"AllDayAcrossSpring",
              "Europe/Berlin",
              "daily",
              "2026-03-28",
              {"2026-03-29", "2026-03-30"}},
        Table{"AllDayAuckland",
              "Pacific/Auckland",
              "weekly",
              "2026-09-20",
              {"2026-09-27", "2026-10-04"}}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(Recurrence, GapOccurrenceShowsItsInstantAndKeepsTheRuleWallTime) {
  const Task task =
      recurring("daily", "2026-03-07T02:30", "America/New_York", RecurrenceMode::kStrict);
  auto next = next_occurrence(task, at("2026-03-07T08:00:00Z"), kLongAgo, zone("America/New_York"));
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(format_rfc3339((*next)->due_at), "2026-03-08T07:30:00.000Z");
  EXPECT_EQ(format_local_date_time((*next)->local), "2026-03-08T02:30:00");
  // The series keeps 02:30: the day after is 02:30 again.
  const Task after = make_next_task(task, **next);
  EXPECT_EQ(next_after(after, "2026-03-08T08:00:00Z", "2000-01-01T00:00:00Z"),
            "2026-03-09T02:30:00-04:00");
}

TEST(Recurrence, AllDayInstantIsLocalMidnight) {
  const Task task = recurring("daily", "2026-03-28", "Europe/Berlin", RecurrenceMode::kStrict);
  auto next = next_occurrence(task, at("2026-03-28T12:00:00Z"), kLongAgo, zone("Europe/Berlin"));
  ASSERT_TRUE(next && *next);
  EXPECT_TRUE((*next)->all_day);
  EXPECT_EQ(format_rfc3339((*next)->due_at), "2026-03-28T23:00:00.000Z");  // 00:00 CEST
}

// ---- month ends and leap years ----------------------------------------------------------------

TEST(Recurrence, MonthlyOnThe31stFallsOnMonthEndsAndReturns) {
  const Task task = recurring("monthly", "2026-01-31T09:00", "UTC", RecurrenceMode::kStrict);
  EXPECT_EQ(upcoming(task, kLongAgo, 6),
            (Strings{"2026-02-28T09:00:00+00:00", "2026-03-31T09:00:00+00:00",
                     "2026-04-30T09:00:00+00:00", "2026-05-31T09:00:00+00:00",
                     "2026-06-30T09:00:00+00:00", "2026-07-31T09:00:00+00:00"}));
}

TEST(Recurrence, MonthlyChainDoesNotDriftThroughShortMonths) {
  // Completing each occurrence on its due date: Feb 28 still remembers the 31st.
  const Task task = recurring("monthly", "2026-01-31T09:00", "Europe/Berlin");
  EXPECT_EQ(chain(task, {"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z",
                         "2026-04-30T10:00:00Z"}),
            (Strings{"2026-02-28T09:00:00+01:00", "2026-03-31T09:00:00+02:00",
                     "2026-04-30T09:00:00+02:00", "2026-05-31T09:00:00+02:00"}));
}

TEST(Recurrence, MonthlyOnThe30thAnd29th) {
  EXPECT_EQ(upcoming(recurring("monthly", "2026-01-30T09:00", "UTC", RecurrenceMode::kStrict),
                     kLongAgo, 3),
            (Strings{"2026-02-28T09:00:00+00:00", "2026-03-30T09:00:00+00:00",
                     "2026-04-30T09:00:00+00:00"}));
  EXPECT_EQ(upcoming(recurring("monthly", "2028-01-29T09:00", "UTC", RecurrenceMode::kStrict),
                     kLongAgo, 2),
            (Strings{"2028-02-29T09:00:00+00:00", "2028-03-29T09:00:00+00:00"}));
  EXPECT_EQ(
      upcoming(recurring("monthly", "2027-01-29", "UTC", RecurrenceMode::kStrict), kLongAgo, 2),
      (Strings{"2027-02-28", "2027-03-29"}));
}

TEST(Recurrence, CustomMonthlyRuleKeepsRfcSemantics) {
  // FREQ=MONTHLY from the 31st skips the months without a 31st (RFC 5545); BYMONTHDAY=-1 is the
  // way to say "the last day".
  EXPECT_EQ(upcoming(recurring("FREQ=MONTHLY", "2026-01-31T09:00", "UTC", RecurrenceMode::kStrict),
                     kLongAgo, 3),
            (Strings{"2026-03-31T09:00:00+00:00", "2026-05-31T09:00:00+00:00",
                     "2026-07-31T09:00:00+00:00"}));
  EXPECT_EQ(upcoming(recurring("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-31T09:00", "UTC",
                               RecurrenceMode::kStrict),
                     kLongAgo, 3),
            (Strings{"2026-02-28T09:00:00+00:00", "2026-03-31T09:00:00+00:00",
                     "2026-04-30T09:00:00+00:00"}));
}

TEST(Recurrence, YearlyOnFebruary29FallsOnThe28thAndReturnsInLeapYears) {
  EXPECT_EQ(
      upcoming(recurring("yearly", "2024-02-29T08:00", "Europe/Berlin", RecurrenceMode::kStrict),
               kLongAgo, 5),
      (Strings{"2025-02-28T08:00:00+01:00", "2026-02-28T08:00:00+01:00",
               "2027-02-28T08:00:00+01:00", "2028-02-29T08:00:00+01:00",
               "2029-02-28T08:00:00+01:00"}));
  EXPECT_EQ(chain(recurring("yearly", "2024-02-29", "UTC"),
                  {"2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z", "2026-02-28T12:00:00Z",
                   "2027-02-28T12:00:00Z"}),
            (Strings{"2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"}));
}

TEST(Recurrence, YearlyCustomRuleOnFebruary29OnlyInLeapYears) {
  EXPECT_EQ(upcoming(recurring("FREQ=YEARLY", "2024-02-29T08:00", "UTC", RecurrenceMode::kStrict),
                     kLongAgo, 2),
            (Strings{"2028-02-29T08:00:00+00:00", "2032-02-29T08:00:00+00:00"}));
}

TEST(Recurrence, YearlyOnFebruary28StaysOnThe28th) {
  EXPECT_EQ(upcoming(recurring("yearly", "2023-02-28T08:00", "UTC", RecurrenceMode::kStrict),
                     kLongAgo, 2),
            (Strings{"2024-02-28T08:00:00+00:00", "2025-02-28T08:00:00+00:00"}));
}

TEST(Recurrence, PresetsExpandAsAnchoredRrules) {
  const auto rrule = [](std::string_view preset, std::string_view due) {
    const auto plan = plan_series(preset, wall(due), due.size() == 10);
    return plan ? to_string(plan->rule) : "<error>";
  };
  EXPECT_EQ(rrule("daily", "2026-01-31T09:00"), "FREQ=DAILY");
  EXPECT_EQ(rrule("weekly", "2026-01-31T09:00"), "FREQ=WEEKLY");
  EXPECT_EQ(rrule("monthly", "2026-01-28T09:00"), "FREQ=MONTHLY");
  EXPECT_EQ(rrule("monthly", "2026-01-29T09:00"), "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1");
  EXPECT_EQ(rrule("monthly", "2026-01-30"), "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1");
  EXPECT_EQ(rrule("monthly", "2026-01-31T09:00"),
            "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1");
  EXPECT_EQ(rrule("yearly", "2026-01-31T09:00"), "FREQ=YEARLY");
  EXPECT_EQ(rrule("yearly", "2028-02-29T09:00"),
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1");
  EXPECT_EQ(rrule("FREQ=MONTHLY", "2026-01-31T09:00"), "FREQ=MONTHLY");
}

TEST(Recurrence, EveryPresetInEveryMode) {
  // Due Monday 5 January 2026 09:00 in Berlin, completed on Thursday 8 January at 18:00 (17:00Z).
  struct Expect {
    const char* preset;
    const char* strict;
    const char* due;
    const char* completion;
  };
  const Expect cases[] = {
      {"daily", "2026-01-06T09:00:00+01:00", "2026-01-09T09:00:00+01:00",
       "2026-01-09T09:00:00+01:00"},
      {"weekly", "2026-01-12T09:00:00+01:00", "2026-01-12T09:00:00+01:00",
       "2026-01-15T09:00:00+01:00"},
      {"monthly", "2026-02-05T09:00:00+01:00", "2026-02-05T09:00:00+01:00",
       "2026-02-08T09:00:00+01:00"},
      {"yearly", "2027-01-05T09:00:00+01:00", "2027-01-05T09:00:00+01:00",
       "2027-01-08T09:00:00+01:00"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.preset);
    const auto next = [&](RecurrenceMode mode) {
      return next_after(recurring(c.preset, "2026-01-05T09:00", "Europe/Berlin", mode),
                        "2026-01-08T17:00:00Z");
    };
    EXPECT_EQ(next(RecurrenceMode::kStrict), c.strict);
    EXPECT_EQ(next(RecurrenceMode::kDue), c.due);
    EXPECT_EQ(next(RecurrenceMode::kCompletion), c.completion);
  }
}

// ---- modes ------------------------------------------------------------------------------------

TEST(Recurrence, DueModeSkipsMissedOccurrences) {
  const Task task = recurring("daily", "2026-01-01T09:00", "Europe/Berlin");
  // Completed on 5 January at 10:00 local: the 5th's 09:00 has passed.
  EXPECT_EQ(next_after(task, "2026-01-05T09:00:00Z"), "2026-01-06T09:00:00+01:00");
  // At 08:00 local it has not.
  EXPECT_EQ(next_after(task, "2026-01-05T07:00:00Z"), "2026-01-05T09:00:00+01:00");
  // Completed early: the next one after the due date.
  EXPECT_EQ(next_after(task, "2025-12-30T07:00:00Z"), "2026-01-02T09:00:00+01:00");
}

TEST(Recurrence, StrictModeTakesTheVeryNextEvenIfPast) {
  const Task task =
      recurring("daily", "2026-01-01T09:00", "Europe/Berlin", RecurrenceMode::kStrict);
  EXPECT_EQ(next_after(task, "2026-01-05T09:00:00Z"), "2026-01-02T09:00:00+01:00");
}

TEST(Recurrence, CompletionModeCountsFromTheCompletionDateAtTheSeriesTime) {
  const Task task = recurring("FREQ=DAILY;INTERVAL=3", "2026-01-01T18:00", "Europe/Berlin",
                              RecurrenceMode::kCompletion);
  // Completed on 4 January at 08:00 local (before 18:00): three days from the 4th.
  EXPECT_EQ(next_after(task, "2026-01-04T07:00:00Z"), "2026-01-07T18:00:00+01:00");
  // Completed on 4 January at 23:30 local: still the 4th.
  EXPECT_EQ(next_after(task, "2026-01-04T22:30:00Z"), "2026-01-07T18:00:00+01:00");
  // A rule with several times a day: the first after the completion.
  const Task twice = recurring("FREQ=DAILY;BYHOUR=9,17", "2026-01-01T09:00", "Europe/Berlin",
                               RecurrenceMode::kCompletion);
  EXPECT_EQ(next_after(twice, "2026-01-04T11:00:00Z"), "2026-01-04T17:00:00+01:00");
  EXPECT_EQ(next_after(twice, "2026-01-04T17:00:00Z"), "2026-01-05T09:00:00+01:00");
}

TEST(Recurrence, CompletionModeMonthlyCountsFromTheCompletionDay) {
  const Task task = recurring("monthly", "2026-01-31T09:00", "UTC", RecurrenceMode::kCompletion);
  EXPECT_EQ(chain(task, {"2026-01-31T10:00:00Z", "2026-03-03T10:00:00Z"}),
            (Strings{"2026-02-28T09:00:00+00:00", "2026-04-03T09:00:00+00:00"}));
}

TEST(Recurrence, CompletionModeWeeklyRuleWithDays) {
  const Task task =
      recurring("FREQ=WEEKLY;BYDAY=MO,TH", "2026-01-05T09:00", "UTC", RecurrenceMode::kCompletion);
  // Completed on Tuesday: the next Thursday; on Thursday before 09:00: the next Monday.
  EXPECT_EQ(next_after(task, "2026-01-06T12:00:00Z"), "2026-01-08T09:00:00+00:00");
  EXPECT_EQ(next_after(task, "2026-01-08T08:00:00Z"), "2026-01-12T09:00:00+00:00");
}

TEST(Recurrence, TaskWithoutDueDateCountsFromItsCompletionAllDay) {
  Task task = recurring("weekly", "2026-01-01", "Europe/Berlin");
  task.due_at.reset();
  task.all_day = false;
  task = anchor_series(task, nullptr, catalog());
  EXPECT_FALSE(task.recurrence_anchor);
  // Completed on Wednesday 7 January at 23:30 in Berlin (22:30Z): a week from the 7th.
  auto next = next_occurrence(task, at("2026-01-07T22:30:00Z"), at("2026-01-07T22:30:00Z"),
                              zone("Europe/Berlin"));
  ASSERT_TRUE(next && *next);
  EXPECT_TRUE((*next)->all_day);
  EXPECT_EQ(format_rfc3339((*next)->due_at), "2026-01-13T23:00:00.000Z");  // 14 Jan, 00:00
  EXPECT_EQ(format_local_date_time((*next)->recurrence_anchor), "2026-01-07T00:00:00");
  for (const RecurrenceMode mode :
       {RecurrenceMode::kDue, RecurrenceMode::kStrict, RecurrenceMode::kCompletion}) {
    task.recurrence_mode = mode;
    EXPECT_EQ(next_after(task, "2026-01-07T22:30:00Z"), "2026-01-14");
  }
}

TEST(Recurrence, AllDayDueModeSkipsToAFutureDay) {
  const Task task = recurring("daily", "2026-01-01", "Europe/Berlin");
  // Completed on 5 January at 15:00: the 5th began at midnight, so the next is the 6th.
  EXPECT_EQ(next_after(task, "2026-01-05T14:00:00Z"), "2026-01-06");
  EXPECT_EQ(next_after(recurring("daily", "2026-01-01", "Europe/Berlin", RecurrenceMode::kStrict),
                       "2026-01-05T14:00:00Z"),
            "2026-01-02");
  EXPECT_EQ(next_after(recurring("FREQ=DAILY;INTERVAL=2", "2026-01-01", "Europe/Berlin",
                                 RecurrenceMode::kCompletion),
                       "2026-01-05T14:00:00Z"),
            "2026-01-07");
}

TEST(Recurrence, NextOccurrenceCarriesTheSeries) {
  Task task = recurring("monthly", "2026-01-31T09:00", "Europe/Berlin");
  task.occurrence_index = 4;
  auto next = next_occurrence(task, at("2026-01-31T10:00:00Z"), at("2026-01-31T10:00:00Z"),
                              zone("Europe/Berlin"));
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->occurrence_index, 5);
  EXPECT_EQ(format_local_date_time((*next)->recurrence_anchor), "2026-01-31T09:00:00");
  const Task created = make_next_task(task, **next);
  EXPECT_EQ(created.status, TaskStatus::kPending);
  EXPECT_EQ(created.due_at, (*next)->due_at);
  EXPECT_EQ(created.series_id, task.series_id);
  EXPECT_EQ(created.occurrence_index, 5);
  EXPECT_EQ(created.recurrence_anchor, task.recurrence_anchor);
  EXPECT_EQ(created.title, task.title);
  EXPECT_EQ(created.version, 1);
  EXPECT_TRUE(created.id.empty());
  EXPECT_FALSE(created.completed_at);
}

TEST(Recurrence, TaskWithoutRuleHasNoNextOccurrence) {
  Task task = recurring("daily", "2026-01-01T09:00", "UTC");
  task.recurrence.reset();
  EXPECT_EQ(next_after(task, "2026-01-01T10:00:00Z"), "<ended>");
  EXPECT_EQ(upcoming(task, kLongAgo, 5), Strings{});
}

// ---- COUNT and UNTIL --------------------------------------------------------------------------

TEST(Recurrence, CountEndsTheSeriesAndCountsTheFirstTask) {
  const Task task = recurring("FREQ=DAILY;COUNT=3", "2026-01-01T09:00", "UTC");
  EXPECT_EQ(chain(task, {"2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"}),
            (Strings{"2026-01-02T09:00:00+00:00", "2026-01-03T09:00:00+00:00", "<ended>"}));
  EXPECT_EQ(upcoming(task, kLongAgo, 10),
            (Strings{"2026-01-02T09:00:00+00:00", "2026-01-03T09:00:00+00:00"}));
}

TEST(Recurrence, CountIncludesSkippedOccurrencesInDueMode) {
  const Task task = recurring("FREQ=DAILY;COUNT=5", "2026-01-01T09:00", "UTC");
  EXPECT_EQ(next_after(task, "2026-01-04T10:00:00Z"), "2026-01-05T09:00:00+00:00");
  EXPECT_EQ(next_after(task, "2026-01-05T10:00:00Z"), "<ended>");
}

TEST(Recurrence, CountInCompletionModeCountsTasks) {
  const Task task =
      recurring("FREQ=WEEKLY;COUNT=3", "2026-01-05T09:00", "UTC", RecurrenceMode::kCompletion);
  EXPECT_EQ(chain(task, {"2026-01-07T10:00:00Z", "2026-01-20T10:00:00Z", "2026-01-30T10:00:00Z"}),
            (Strings{"2026-01-14T09:00:00+00:00", "2026-01-27T09:00:00+00:00", "<ended>"}));
}

TEST(Recurrence, UntilAsDateIncludesThatLocalDay) {
  const Task task = recurring("FREQ=DAILY;UNTIL=20260103", "2026-01-01T23:00", "Europe/Berlin",
                              RecurrenceMode::kStrict);
  EXPECT_EQ(upcoming(task, kLongAgo, 10),
            (Strings{"2026-01-02T23:00:00+01:00", "2026-01-03T23:00:00+01:00"}));
  const Task all_day =
      recurring("FREQ=WEEKLY;UNTIL=20260115", "2026-01-01", "UTC", RecurrenceMode::kStrict);
  EXPECT_EQ(upcoming(all_day, kLongAgo, 10), (Strings{"2026-01-08", "2026-01-15"}));
}

TEST(Recurrence, UntilInUtcIsAnInstantAndWithoutZoneAWallTime) {
  // 09:00 in Berlin is 08:00Z in January.
  const auto next_dates = [](std::string_view rule) {
    return upcoming(recurring(rule, "2026-01-01T09:00", "Europe/Berlin", RecurrenceMode::kStrict),
                    kLongAgo, 10);
  };
  EXPECT_EQ(next_dates("FREQ=DAILY;UNTIL=20260103T080000Z"),
            (Strings{"2026-01-02T09:00:00+01:00", "2026-01-03T09:00:00+01:00"}));
  EXPECT_EQ(next_dates("FREQ=DAILY;UNTIL=20260103T075959Z"),
            (Strings{"2026-01-02T09:00:00+01:00"}));
  EXPECT_EQ(next_dates("FREQ=DAILY;UNTIL=20260103T090000"),
            (Strings{"2026-01-02T09:00:00+01:00", "2026-01-03T09:00:00+01:00"}));
  EXPECT_EQ(next_dates("FREQ=DAILY;UNTIL=20251231"), Strings{});
}

TEST(Recurrence, RescheduledOccurrenceKeepsTheCount) {
  // The third of five (due 3 January) is moved to the 10th: two more follow it.
  Task task = recurring("FREQ=DAILY;COUNT=5", "2026-01-01T09:00", "UTC", RecurrenceMode::kStrict);
  task = make_next_task(
      task, *next_occurrence(task, at("2026-01-01T10:00:00Z"), kLongAgo, zone("UTC")).value());
  task = make_next_task(
      task, *next_occurrence(task, at("2026-01-02T10:00:00Z"), kLongAgo, zone("UTC")).value());
  ASSERT_EQ(format_rfc3339(*task.due_at), "2026-01-03T09:00:00.000Z");
  Task moved = task;
  moved.due_at = at("2026-01-10T09:00:00Z");
  moved = anchor_series(moved, &task, catalog());
  EXPECT_EQ(moved.recurrence_anchor_index, 2);
  EXPECT_EQ(format_local_date_time(*moved.recurrence_anchor), "2026-01-10T09:00:00");
  EXPECT_EQ(upcoming(moved, kLongAgo, 10),
            (Strings{"2026-01-11T09:00:00+00:00", "2026-01-12T09:00:00+00:00"}));
}

// ---- the series anchor ------------------------------------------------------------------------

TEST(SeriesAnchor, SetOnCreateFromTheDueDateInTheTasksZone) {
  const Task task = recurring("daily", "2026-03-29T02:30", "Europe/Berlin");
  ASSERT_TRUE(task.recurrence_anchor);
  // The due instant is 03:30 (the gap), the anchor keeps the instant's wall time.
  EXPECT_EQ(format_local_date_time(*task.recurrence_anchor), "2026-03-29T03:30:00");
  EXPECT_EQ(task.recurrence_anchor_index, 0);
  const Task all_day = recurring("daily", "2026-03-29", "Europe/Berlin");
  EXPECT_EQ(format_local_date_time(*all_day.recurrence_anchor), "2026-03-29T00:00:00");
}

TEST(SeriesAnchor, KeptUnlessTheRuleOrDueDateChanges) {
  Task before = recurring("FREQ=DAILY;COUNT=10", "2026-01-01T09:00", "UTC");
  before.recurrence_anchor = wall("2025-12-30T09:00");  // as if re-anchored earlier
  before.recurrence_anchor_index = 3;

  Task retitled = before;
  retitled.title = "Renamed";
  retitled.recurrence_mode = RecurrenceMode::kStrict;
  retitled = anchor_series(retitled, &before, catalog());
  EXPECT_EQ(retitled.recurrence_anchor, before.recurrence_anchor);
  EXPECT_EQ(retitled.recurrence_anchor_index, 3);

  Task new_rule = before;
  new_rule.recurrence = "FREQ=DAILY;COUNT=4";
  new_rule = anchor_series(new_rule, &before, catalog());
  EXPECT_EQ(format_local_date_time(*new_rule.recurrence_anchor), "2026-01-01T09:00:00");
  EXPECT_EQ(new_rule.recurrence_anchor_index, 0);

  Task rezoned = before;
  rezoned.timezone = "Asia/Tokyo";
  rezoned = anchor_series(rezoned, &before, catalog());
  EXPECT_EQ(format_local_date_time(*rezoned.recurrence_anchor), "2026-01-01T18:00:00");
  EXPECT_EQ(rezoned.recurrence_anchor_index, 5);  // 3 + 30 and 31 December

  Task undated = before;
  undated.due_at.reset();
  undated = anchor_series(undated, &before, catalog());
  EXPECT_FALSE(undated.recurrence_anchor);
  EXPECT_EQ(undated.recurrence_anchor_index, 5);

  Task plain = before;
  plain.recurrence.reset();
  plain = anchor_series(plain, &before, catalog());
  EXPECT_FALSE(plain.recurrence_anchor);
  EXPECT_EQ(plain.recurrence_anchor_index, 0);
}

TEST(SeriesAnchor, OlderTaskWithoutAnchorIsAnchoredOnItsDueDate) {
  Task task = recurring("monthly", "2026-01-15T09:00", "UTC", RecurrenceMode::kStrict);
  task.recurrence_anchor.reset();
  EXPECT_EQ(upcoming(task, kLongAgo, 1), Strings{"2026-02-15T09:00:00+00:00"});
}

TEST(SeriesAnchor, MicrosecondsOfTheDueDateAreKept) {
  const Task task =
      recurring("daily", "2026-01-01T09:00:00.250000", "UTC", RecurrenceMode::kStrict);
  auto next = next_occurrence(task, kLongAgo, kLongAgo, zone("UTC"));
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(format_rfc3339((*next)->due_at), "2026-01-02T09:00:00.250Z");
}

// ---- RFC 5545 details, and where libical 3.0 needs help ---------------------------------------

// The series of a rule from `due` (strict, UTC) as wall times.
Strings series(std::string_view rule, std::string_view due, int count = 6) {
  return upcoming(recurring(rule, due, "UTC", RecurrenceMode::kStrict), kLongAgo, count);
}

TEST(RecurrenceRules, DueDateThatTheRuleDoesNotGiveStillCountsFirst) {
  // Tuesday 6 January; the rule gives Mondays. RFC 5545: DTSTART is the first of COUNT.
  EXPECT_EQ(series("FREQ=WEEKLY;BYDAY=MO;COUNT=3", "2026-01-06T09:00"),
            (Strings{"2026-01-12T09:00:00+00:00", "2026-01-19T09:00:00+00:00"}));
}

TEST(RecurrenceRules, OrdinalAndPlainWeekdaysUnite) {
  EXPECT_EQ(series("FREQ=MONTHLY;BYDAY=-1SA,1MO", "2026-01-31T09:00", 4),
            (Strings{"2026-02-02T09:00:00+00:00", "2026-02-28T09:00:00+00:00",
                     "2026-03-02T09:00:00+00:00", "2026-03-28T09:00:00+00:00"}));
  EXPECT_EQ(series("FREQ=MONTHLY;BYDAY=2MO", "2026-01-12T09:00", 2),
            (Strings{"2026-02-09T09:00:00+00:00", "2026-03-09T09:00:00+00:00"}));
}

TEST(RecurrenceRules, LastWorkdayOfTheMonthWithBysetpos) {
  EXPECT_EQ(series("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-01-30T17:00", 3),
            (Strings{"2026-02-27T17:00:00+00:00", "2026-03-31T17:00:00+00:00",
                     "2026-04-30T17:00:00+00:00"}));
}

TEST(RecurrenceRules, WeeklyBysetposCountsTheWholeWeek) {
  // libical 3.0 ignores BYSETPOS with WEEKLY; the second of MO,WE,FR is Wednesday.
  EXPECT_EQ(series("FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=2", "2026-01-07T09:00", 3),
            (Strings{"2026-01-14T09:00:00+00:00", "2026-01-21T09:00:00+00:00",
                     "2026-01-28T09:00:00+00:00"}));
}

TEST(RecurrenceRules, WeeksStartingOnSaturday) {
  // libical 3.0 places every other week wrongly with WKST=SA; dateutil agrees with these.
  EXPECT_EQ(series("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,WE,FR;WKST=SA", "2026-10-28T18:30", 4),
            (Strings{"2026-10-30T18:30:00+00:00", "2026-11-10T18:30:00+00:00",
                     "2026-11-11T18:30:00+00:00", "2026-11-13T18:30:00+00:00"}));
  // RFC 5545's own example of WKST: Aug 5, 17, 19, 31 with WKST=SU.
  EXPECT_EQ(series("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", "1997-08-05T09:00"),
            (Strings{"1997-08-17T09:00:00+00:00", "1997-08-19T09:00:00+00:00",
                     "1997-08-31T09:00:00+00:00"}));
}

TEST(RecurrenceRules, DailyWithNegativeMonthDays) {
  EXPECT_EQ(series("FREQ=DAILY;BYMONTHDAY=-1,-2", "2026-01-30T09:00", 4),
            (Strings{"2026-01-31T09:00:00+00:00", "2026-02-27T09:00:00+00:00",
                     "2026-02-28T09:00:00+00:00", "2026-03-30T09:00:00+00:00"}));
}

TEST(RecurrenceRules, YearlyMonthDayExpandsOverTheYear) {
  EXPECT_EQ(series("FREQ=YEARLY;BYDAY=FR;BYMONTHDAY=13", "2026-02-13T09:00", 3),
            (Strings{"2026-03-13T09:00:00+00:00", "2026-11-13T09:00:00+00:00",
                     "2027-08-13T09:00:00+00:00"}));
}

TEST(RecurrenceRules, ImpossibleRulesHaveNoNextOccurrence) {
  EXPECT_EQ(series("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "2026-01-01T09:00"), Strings{});
  EXPECT_EQ(series("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "2026-01-01T09:00"), Strings{});
  // No month has a sixth Monday: the expansion runs to the end of libical's calendar and stops.
  EXPECT_EQ(series("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "2026-01-01T09:00"), Strings{});
}

TEST(RecurrenceRules, TheEngineRefusesWhatItCannotExpand) {
  const auto reason = [](std::string_view rule, bool timed) {
    const auto r = expandable_rule(rule, timed);
    return r ? std::string("<accepted>") : r.error().fields.at(0).reason;
  };
  EXPECT_EQ(reason("FREQ=HOURLY", true),
            "FREQ=HOURLY: a task repeats at most daily; use DAILY, WEEKLY, MONTHLY or YEARLY");
  EXPECT_EQ(reason("FREQ=SECONDLY;COUNT=2", true).substr(0, 14), "FREQ=SECONDLY:");
  EXPECT_EQ(reason("FREQ=DAILY;BYHOUR=9,17", false),
            "BYHOUR=9,17: needs a due date with a time of day (this task is all-day or has no "
            "due date)");
  EXPECT_EQ(reason("FREQ=DAILY;BYMINUTE=30", false).substr(0, 12), "BYMINUTE=30:");
  EXPECT_EQ(reason("FREQ=DAILY;BYHOUR=9,17", true), "<accepted>");
  EXPECT_EQ(reason("FREQ=WEEKLY;BYDAY=XX", true), "BYDAY=XX: unknown weekday");
  EXPECT_EQ(reason("monthly", false), "<accepted>");
  const auto plan = plan_series("FREQ=HOURLY", wall("2026-01-01T09:00"), false);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::kValidation);
  EXPECT_EQ(plan.error().fields.at(0).field, "recurrence");
}

TEST(RecurrenceRules, UpcomingMatchesCompletingEachOnItsDueDate) {
  const char* rules[] = {"daily",
                         "weekly",
                         "monthly",
                         "yearly",
                         "FREQ=MONTHLY;BYDAY=-1FR",
                         "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
                         "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",
                         "FREQ=DAILY;COUNT=4"};
  for (const char* rule : rules) {
    for (const RecurrenceMode mode :
         {RecurrenceMode::kDue, RecurrenceMode::kStrict, RecurrenceMode::kCompletion}) {
      SCOPED_TRACE(std::string(rule) + " " + std::string(to_string(mode)));
      Task task = recurring(rule, "2026-03-27T02:30", "Europe/Berlin", mode);
      const Timestamp now = at("2026-01-01T00:00:00Z");
      const Strings preview = upcoming(task, now, 8);
      Strings completed;
      const TimeZone& z = zone("Europe/Berlin");
      for (int i = 0; i < 8; ++i) {
        auto next = next_occurrence(task, *task.due_at, now, z);
        ASSERT_TRUE(next);
        if (!*next) break;
        completed.push_back(format_rfc3339_in_zone((*next)->due_at, z));
        task = make_next_task(task, **next);
      }
      EXPECT_EQ(preview, completed);
    }
  }
}

TEST(RecurrenceRules, WalkVisitsTheAnchorFirstAndStopsWhenTold) {
  const auto plan = plan_series("FREQ=WEEKLY;BYDAY=MO", wall("2026-01-06T09:00"), false);
  ASSERT_TRUE(plan);
  Strings seen;
  const WalkEnd end = walk_series(*plan, zone("UTC"), [&](const Occurrence& o) {
    seen.push_back(format_local_date_time(o.local));
    return seen.size() < 3;
  });
  EXPECT_EQ(end, WalkEnd::kStopped);
  EXPECT_EQ(seen, (Strings{"2026-01-06T09:00:00", "2026-01-12T09:00:00", "2026-01-19T09:00:00"}));
}

}  // namespace
}  // namespace todo::domain

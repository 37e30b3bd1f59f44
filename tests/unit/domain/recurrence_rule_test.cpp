// RRULE parsing, validation and canonical form; presets; the summaries events carry.
#include "domain/recurrence_rule.h"

#include <gtest/gtest.h>

namespace todo::domain {
namespace {

std::string canonical(std::string_view text) {
  const auto rule = parse_rrule(text);
  if (!rule) {
    return "<error: " + (rule.error().fields.empty() ? "" : rule.error().fields[0].reason) + ">";
  }
  return to_string(rule.value());
}

// The one reason of a rejected rule, after checking that it is a validation error on
// "recurrence".
std::string reason(std::string_view text) {
  const auto rule = parse_rrule(text);
  if (rule) return "<accepted as " + to_string(rule.value()) + ">";
  const Error& error = rule.error();
  EXPECT_EQ(error.code, ErrorCode::kValidation);
  if (error.fields.size() != 1) return "<wrong field count>";
  EXPECT_EQ(error.fields[0].field, "recurrence");
  return error.fields[0].reason;
}

struct Valid {
  const char* input;
  const char* canonical;
};

class ValidRule : public ::testing::TestWithParam<Valid> {};

TEST_P(ValidRule, ParsesToCanonicalText) {
  EXPECT_EQ(canonical(GetParam().input), GetParam().canonical) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Rrule, ValidRule,
    ::testing::Values(
        Valid{"FREQ=DAILY", "FREQ=DAILY"}, Valid{"FREQ=SECONDLY", "FREQ=SECONDLY"},
        Valid{"FREQ=MINUTELY;INTERVAL=15", "FREQ=MINUTELY;INTERVAL=15"},
        Valid{"FREQ=HOURLY;BYMINUTE=0,30", "FREQ=HOURLY;BYMINUTE=0,30"},
        Valid{"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"},
        Valid{"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"},
        Valid{"rrule:freq=weekly;byday=mo,we,fr", "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
        Valid{"  FREQ=DAILY  ", "FREQ=DAILY"},
        Valid{"FREQ=DAILY;", "FREQ=DAILY"},  // a trailing separator is tolerated
        // The edges of the rare-rule checks: still valid.
        Valid{"FREQ=MONTHLY;BYDAY=-5FR", "FREQ=MONTHLY;BYDAY=-5FR"},
        Valid{"FREQ=YEARLY;BYDAY=20MO", "FREQ=YEARLY;BYDAY=20MO"},
        Valid{"FREQ=MONTHLY;BYMONTH=2,3;BYDAY=5FR", "FREQ=MONTHLY;BYMONTH=2,3;BYDAY=5FR"},
        Valid{"FREQ=DAILY;BYHOUR=9,17;BYSETPOS=-1", "FREQ=DAILY;BYHOUR=9,17;BYSETPOS=-1"},
        Valid{"FREQ=DAILY; INTERVAL=3", "FREQ=DAILY;INTERVAL=3"},
        Valid{"FREQ=DAILY;INTERVAL=1", "FREQ=DAILY"},  // the default interval is omitted
        Valid{"INTERVAL=2;FREQ=MONTHLY", "FREQ=MONTHLY;INTERVAL=2"},  // FREQ need not be first
        Valid{"BYDAY=FR;WKST=SU;FREQ=WEEKLY;COUNT=5", "FREQ=WEEKLY;COUNT=5;BYDAY=FR;WKST=SU"},
        Valid{"FREQ=DAILY;COUNT=10", "FREQ=DAILY;COUNT=10"},
        Valid{"FREQ=DAILY;UNTIL=20261231", "FREQ=DAILY;UNTIL=20261231"},
        Valid{"FREQ=DAILY;UNTIL=20261231T235959Z", "FREQ=DAILY;UNTIL=20261231T235959Z"},
        Valid{"FREQ=DAILY;UNTIL=20261231t090000z", "FREQ=DAILY;UNTIL=20261231T090000Z"},
        Valid{"FREQ=DAILY;UNTIL=20261231T090000", "FREQ=DAILY;UNTIL=20261231T090000"},
        Valid{"FREQ=YEARLY;UNTIL=20280229", "FREQ=YEARLY;UNTIL=20280229"},  // leap day
        Valid{"FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR"},
        Valid{"FREQ=MONTHLY;BYDAY=+2MO", "FREQ=MONTHLY;BYDAY=2MO"},
        Valid{"FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=MONTHLY;BYMONTHDAY=-1"},
        Valid{"FREQ=MONTHLY;BYMONTHDAY=+31,1", "FREQ=MONTHLY;BYMONTHDAY=31,1"},
        Valid{"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
              "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
        Valid{"FREQ=YEARLY;BYMONTH=1,7;BYDAY=1SU", "FREQ=YEARLY;BYMONTH=1,7;BYDAY=1SU"},
        Valid{"FREQ=YEARLY;BYWEEKNO=20,-1;BYDAY=MO", "FREQ=YEARLY;BYWEEKNO=20,-1;BYDAY=MO"},
        Valid{"FREQ=YEARLY;BYYEARDAY=1,100,-366", "FREQ=YEARLY;BYYEARDAY=1,100,-366"},
        Valid{"FREQ=HOURLY;BYYEARDAY=366", "FREQ=HOURLY;BYYEARDAY=366"},
        Valid{"FREQ=DAILY;BYHOUR=0,23;BYMINUTE=59;BYSECOND=60",
              "FREQ=DAILY;BYHOUR=0,23;BYMINUTE=59;BYSECOND=60"},
        Valid{"FREQ=DAILY;BYDAY=MO,MO,TU", "FREQ=DAILY;BYDAY=MO,TU"},  // duplicates dropped
        Valid{"FREQ=MONTHLY;BYMONTHDAY=5,5,1", "FREQ=MONTHLY;BYMONTHDAY=5,1"},
        // Every part, given in reverse, comes out in the canonical order.
        Valid{"WKST=MO;BYSETPOS=1;BYSECOND=0;BYMINUTE=0;BYHOUR=9;BYDAY=MO;BYMONTHDAY=1;"
              "BYYEARDAY=1;BYMONTH=1;COUNT=3;INTERVAL=2;FREQ=YEARLY",
              "FREQ=YEARLY;INTERVAL=2;COUNT=3;BYMONTH=1;BYYEARDAY=1;BYMONTHDAY=1;BYDAY=MO;"
              "BYHOUR=9;BYMINUTE=0;BYSECOND=0;BYSETPOS=1;WKST=MO"},
        Valid{"FREQ=MONTHLY;INTERVAL=007", "FREQ=MONTHLY;INTERVAL=7"},
        Valid{"FREQ=DAILY;COUNT=1000000", "FREQ=DAILY;COUNT=1000000"}));

struct Invalid {
  const char* input;
  const char* reason;
};

class InvalidRule : public ::testing::TestWithParam<Invalid> {};

TEST_P(InvalidRule, IsRejectedWithAReasonThatSaysWhere) {
  EXPECT_EQ(reason(GetParam().input), GetParam().reason) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Rrule, InvalidRule,
    ::testing::Values(
        Invalid{"", "FREQ is required"}, Invalid{"RRULE:", "FREQ is required"},
        Invalid{"INTERVAL=2", "FREQ is required"},
        Invalid{"FREQ=FORTNIGHTLY",
                "FREQ=FORTNIGHTLY: unknown frequency (expected SECONDLY, MINUTELY, HOURLY, "
                "DAILY, WEEKLY, MONTHLY or YEARLY)"},
        Invalid{"FREQ=", "FREQ=: must not be empty"}, Invalid{"FREQ", "FREQ: expected NAME=VALUE"},
        Invalid{"=DAILY", "=DAILY: the part has no name"},
        Invalid{"FREQ=DAILY;;COUNT=2", "empty rule part between two ';'"},
        Invalid{"FREQ=DAILY;FREQ=WEEKLY", "FREQ=WEEKLY: FREQ is given more than once"},
        Invalid{"FREQ=DAILY;count=2;COUNT=3", "COUNT=3: COUNT is given more than once"},
        Invalid{"FREQ=DAILY;COLOR=RED", "COLOR=RED: unknown rule part"},
        Invalid{"FREQ=DAILY;X-NAME=1", "X-NAME=1: unknown rule part"},
        Invalid{"FREQ=DAILY;INTERVAL=0", "INTERVAL=0: must be a positive integer"},
        Invalid{"FREQ=DAILY;INTERVAL=-1", "INTERVAL=-1: must be a positive integer"},
        Invalid{"FREQ=DAILY;INTERVAL=two", "INTERVAL=two: must be a positive integer"},
        Invalid{"FREQ=DAILY;INTERVAL=+2", "INTERVAL=+2: must be a positive integer"},
        Invalid{"FREQ=DAILY;INTERVAL=99999999999999999999",
                "INTERVAL=99999999999999999999: must be at most 1000000"},
        Invalid{"FREQ=DAILY;COUNT=0", "COUNT=0: must be a positive integer"},
        Invalid{"FREQ=DAILY;COUNT=1.5", "COUNT=1.5: must be a positive integer"},
        Invalid{"FREQ=DAILY;COUNT=3;UNTIL=20261231", "COUNT and UNTIL cannot both be set"},
        Invalid{"FREQ=DAILY;UNTIL=20260230",
                "UNTIL=20260230: must be a real date YYYYMMDD or date-time YYYYMMDDTHHMMSS[Z]"},
        Invalid{"FREQ=DAILY;UNTIL=20270229",
                "UNTIL=20270229: must be a real date YYYYMMDD or date-time YYYYMMDDTHHMMSS[Z]"},
        Invalid{"FREQ=DAILY;UNTIL=2026-12-31",
                "UNTIL=2026-12-31: must be a real date YYYYMMDD or date-time "
                "YYYYMMDDTHHMMSS[Z]"},
        Invalid{"FREQ=DAILY;UNTIL=20261231T240000Z",
                "UNTIL=20261231T240000Z: must be a real date YYYYMMDD or date-time "
                "YYYYMMDDTHHMMSS[Z]"},
        Invalid{"FREQ=DAILY;UNTIL=20261231T0900",
                "UNTIL=20261231T0900: must be a real date YYYYMMDD or date-time "
                "YYYYMMDDTHHMMSS[Z]"},
        Invalid{"FREQ=WEEKLY;BYDAY=XX", "BYDAY=XX: unknown weekday"},
        Invalid{"FREQ=WEEKLY;BYDAY=MO,XX", "BYDAY=XX: unknown weekday"},
        Invalid{"FREQ=WEEKLY;BYDAY=M", "BYDAY=M: unknown weekday"},
        Invalid{"FREQ=WEEKLY;BYDAY=MO,,TU", "BYDAY=MO,,TU: empty item in the list"},
        Invalid{"FREQ=MONTHLY;BYDAY=0MO", "BYDAY=0MO: the ordinal must be 1 to 53 or -53 to -1"},
        Invalid{"FREQ=YEARLY;BYDAY=54MO", "BYDAY=54MO: the ordinal must be 1 to 53 or -53 to -1"},
        Invalid{"FREQ=MONTHLY;BYDAY=XMO", "BYDAY=XMO: the ordinal must be 1 to 53 or -53 to -1"},
        Invalid{"FREQ=WEEKLY;BYDAY=1MO",
                "BYDAY=1MO: an ordinal such as 1MO is only allowed with FREQ=MONTHLY or YEARLY"},
        Invalid{"FREQ=DAILY;BYDAY=MO,-1FR",
                "BYDAY=MO,-1FR: an ordinal such as 1MO is only allowed with FREQ=MONTHLY or "
                "YEARLY"},
        Invalid{"FREQ=YEARLY;BYWEEKNO=1;BYDAY=1MO",
                "BYDAY=1MO: an ordinal such as 1MO is not allowed together with BYWEEKNO"},
        Invalid{"FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0: must be 1 to 31 or -31 to -1"},
        Invalid{"FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32: must be 1 to 31 or -31 to -1"},
        Invalid{"FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY=-32: must be 1 to 31 or -31 to -1"},
        Invalid{"FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY=1: not allowed with FREQ=WEEKLY"},
        Invalid{"FREQ=YEARLY;BYYEARDAY=367", "BYYEARDAY=367: must be 1 to 366 or -366 to -1"},
        Invalid{"FREQ=YEARLY;BYYEARDAY=0", "BYYEARDAY=0: must be 1 to 366 or -366 to -1"},
        Invalid{"FREQ=DAILY;BYYEARDAY=1",
                "BYYEARDAY=1: not allowed with FREQ=DAILY, WEEKLY or MONTHLY"},
        Invalid{"FREQ=WEEKLY;BYYEARDAY=1",
                "BYYEARDAY=1: not allowed with FREQ=DAILY, WEEKLY or MONTHLY"},
        Invalid{"FREQ=MONTHLY;BYYEARDAY=-1",
                "BYYEARDAY=-1: not allowed with FREQ=DAILY, WEEKLY or MONTHLY"},
        Invalid{"FREQ=YEARLY;BYWEEKNO=54", "BYWEEKNO=54: must be 1 to 53 or -53 to -1"},
        Invalid{"FREQ=YEARLY;BYWEEKNO=0", "BYWEEKNO=0: must be 1 to 53 or -53 to -1"},
        Invalid{"FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO=1: only allowed with FREQ=YEARLY"},
        Invalid{"FREQ=YEARLY;BYMONTH=0", "BYMONTH=0: must be 1 to 12"},
        Invalid{"FREQ=YEARLY;BYMONTH=1,13", "BYMONTH=13: must be 1 to 12"},
        Invalid{"FREQ=YEARLY;BYMONTH=-1", "BYMONTH=-1: must be 1 to 12"},
        Invalid{"FREQ=DAILY;BYHOUR=24", "BYHOUR=24: must be 0 to 23"},
        Invalid{"FREQ=DAILY;BYMINUTE=60", "BYMINUTE=60: must be 0 to 59"},
        Invalid{"FREQ=DAILY;BYSECOND=61", "BYSECOND=61: must be 0 to 60"},
        Invalid{"FREQ=DAILY;BYHOUR=", "BYHOUR=: must not be empty"},
        Invalid{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS=0: must be 1 to 366 or -366 to -1"},
        Invalid{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=367",
                "BYSETPOS=367: must be 1 to 366 or -366 to -1"},
        Invalid{"FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS=1: needs another BYxxx part to select from"},
        // Rules that never (or almost never) match, which libical would search for centuries
        // (found by tests/fuzz: fuzz_rrule).
        Invalid{"FREQ=MONTHLY;BYDAY=-6FR",
                "BYDAY=-6FR: -6 is out of range: a month has at most 5 of each weekday"},
        Invalid{"FREQ=MONTHLY;BYDAY=MO,6FR",
                "BYDAY=MO,6FR: 6 is out of range: a month has at most 5 of each weekday"},
        Invalid{"FREQ=YEARLY;BYMONTH=3;BYDAY=-7MO",
                "BYDAY=-7MO: -7 is out of range: a month has at most 5 of each weekday"},
        Invalid{"FREQ=MONTHLY;BYDAY=5FR;BYMONTH=2",
                "BYDAY=5FR: February has a fifth weekday only once in 28 years; this rule matches "
                "too rarely"},
        Invalid{"FREQ=DAILY;BYHOUR=0,3;BYSETPOS=30,40;BYSECOND=5",
                "BYSETPOS=30,40: 30 is beyond the 2 candidate(s) of each day, so it never matches"},
        Invalid{"FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3",
                "BYSETPOS=3: 3 is beyond the 2 candidate(s) of each week, so it never matches"},
        Invalid{"FREQ=WEEKLY;WKST=XY", "WKST=XY: unknown weekday"},
        Invalid{"FREQ=DAILY;COUNT=\xFF", "must be valid UTF-8"}));

TEST(ParseRrule, KeepsTheStructure) {
  const auto rule = parse_rrule("FREQ=MONTHLY;INTERVAL=2;COUNT=6;BYDAY=-1FR,2MO;WKST=SU");
  ASSERT_TRUE(rule.has_value());
  const RecurrenceRule& r = rule.value();
  EXPECT_EQ(r.freq, Frequency::kMonthly);
  EXPECT_EQ(r.interval, 2);
  EXPECT_EQ(r.count, 6);
  EXPECT_FALSE(r.until.has_value());
  EXPECT_EQ(r.by_day, (std::vector<WeekdayNum>{{-1, 4}, {2, 0}}));
  EXPECT_EQ(r.wkst, 6);
}

TEST(ParseRrule, RejectsAnOverlongText) {
  std::string text = "FREQ=DAILY;BYHOUR=1";
  while (text.size() <= 1000) text += ",1";
  EXPECT_EQ(reason(text), "must be at most 1000 characters");
}

TEST(RrulePresets, NamesAndRules) {
  EXPECT_EQ(parse_preset("daily"), RecurrencePreset::kDaily);
  EXPECT_EQ(parse_preset("weekly"), RecurrencePreset::kWeekly);
  EXPECT_EQ(parse_preset("monthly"), RecurrencePreset::kMonthly);
  EXPECT_EQ(parse_preset("yearly"), RecurrencePreset::kYearly);
  EXPECT_EQ(parse_preset("Daily"), std::nullopt);  // the caller lower-cases
  EXPECT_EQ(parse_preset("none"), std::nullopt);
  EXPECT_EQ(to_string(RecurrencePreset::kMonthly), "monthly");
  EXPECT_EQ(to_string(preset_rule(RecurrencePreset::kDaily)), "FREQ=DAILY");
  EXPECT_EQ(to_string(preset_rule(RecurrencePreset::kWeekly)), "FREQ=WEEKLY");
  EXPECT_EQ(to_string(preset_rule(RecurrencePreset::kMonthly)), "FREQ=MONTHLY");
  EXPECT_EQ(to_string(preset_rule(RecurrencePreset::kYearly)), "FREQ=YEARLY");
}

std::string normalized(std::string_view text) {
  const auto result = normalize_recurrence(text);
  if (!result) return "<error: " + result.error().fields.at(0).reason + ">";
  return result.value().value_or("<none>");
}

TEST(NormalizeRecurrence, NoneAndEmptyMeanNoRecurrence) {
  EXPECT_EQ(normalized(""), "<none>");
  EXPECT_EQ(normalized("   "), "<none>");
  EXPECT_EQ(normalized("none"), "<none>");
  EXPECT_EQ(normalized(" NONE "), "<none>");
}

TEST(NormalizeRecurrence, PresetsAreStoredByName) {
  EXPECT_EQ(normalized("daily"), "daily");
  EXPECT_EQ(normalized("Weekly"), "weekly");
  EXPECT_EQ(normalized(" MONTHLY "), "monthly");
  EXPECT_EQ(normalized("yearly"), "yearly");
}

TEST(NormalizeRecurrence, RulesAreStoredCanonically) {
  EXPECT_EQ(normalized("rrule:freq=weekly;interval=2;byday=tu"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");
  EXPECT_EQ(normalized("FREQ=DAILY"), "FREQ=DAILY");  // a rule stays a rule
  EXPECT_EQ(normalized("fortnightly"), "<error: fortnightly: expected NAME=VALUE>");
  EXPECT_EQ(normalized("FREQ=DAILY;COUNT=0"), "<error: COUNT=0: must be a positive integer>");
}

TEST(NormalizeRecurrence, ErrorsAreOnTheRecurrenceField) {
  const auto result = normalize_recurrence("FREQ=SOMETIMES");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kValidation);
  ASSERT_EQ(result.error().fields.size(), 1u);
  EXPECT_EQ(result.error().fields[0].field, "recurrence");
}

void expect_summary(std::string_view stored, std::string_view pattern, int interval,
                    std::string_view rrule) {
  const RecurrenceSummary summary = summarize_recurrence(stored);
  EXPECT_EQ(summary.pattern, pattern) << stored;
  EXPECT_EQ(summary.interval, interval) << stored;
  EXPECT_EQ(summary.rrule, rrule) << stored;
}

TEST(SummarizeRecurrence, Presets) {
  expect_summary("daily", "daily", 1, "FREQ=DAILY");
  expect_summary("weekly", "weekly", 1, "FREQ=WEEKLY");
  expect_summary("monthly", "monthly", 1, "FREQ=MONTHLY");
  expect_summary("yearly", "custom", 1, "FREQ=YEARLY");
}

TEST(SummarizeRecurrence, SimpleRulesBecomeTheirPattern) {
  expect_summary("FREQ=DAILY", "daily", 1, "FREQ=DAILY");
  expect_summary("FREQ=WEEKLY;INTERVAL=2", "weekly", 2, "FREQ=WEEKLY;INTERVAL=2");
  expect_summary("FREQ=MONTHLY;INTERVAL=3", "monthly", 3, "FREQ=MONTHLY;INTERVAL=3");
}

TEST(SummarizeRecurrence, EverythingElseIsCustom) {
  expect_summary("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "custom", 2, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");
  expect_summary("FREQ=DAILY;COUNT=5", "custom", 1, "FREQ=DAILY;COUNT=5");
  expect_summary("FREQ=YEARLY;INTERVAL=2", "custom", 2, "FREQ=YEARLY;INTERVAL=2");
  expect_summary("FREQ=HOURLY", "custom", 1, "FREQ=HOURLY");
  expect_summary("FREQ=WEEKLY;WKST=MO", "custom", 1, "FREQ=WEEKLY;WKST=MO");
}

}  // namespace
}  // namespace todo::domain

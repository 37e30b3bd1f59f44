// Every recurrence computation is bounded: a rule that matches too rarely, or a COUNT that would
// have to be counted far, ends in a clear error once its work budget is spent, and a task recurs
// at most hourly (one BYMINUTE and one BYSECOND).
#include "domain/recurrence.h"

#include <gtest/gtest.h>

#include "domain/time_format.h"
#include "support/tzdata_catalog.h"

namespace todo::domain {
namespace {

const testing::TzdataCatalog& catalog() {
  static const testing::TzdataCatalog zones;
  return zones;
}

const TimeZone& berlin() {
  static const auto zone = catalog().find("Europe/Berlin");
  return *zone;
}

Timestamp at(std::string_view rfc3339) { return parse_rfc3339(rfc3339).value(); }

Task recurring(std::string_view rule, std::string_view due,
               RecurrenceMode mode = RecurrenceMode::kDue) {
  Task task;
  task.id = "t0";
  task.title = "x";
  task.timezone = "Europe/Berlin";
  task.recurrence = normalize_recurrence(rule).value().value();
  task.recurrence_mode = mode;
  task.due_at = berlin().to_utc(parse_local_date_time(std::string(due)).value());
  task.series_id = task.id;
  return anchor_series(task, nullptr, catalog());
}

std::string reason(const Error& e) { return e.fields.empty() ? e.detail : e.fields.front().reason; }

const Timestamp kNow = at("2026-12-01T00:00:00Z");
// Monday 29 February: once in 28 years. DAILY makes libical look at every day.
constexpr std::string_view kRare = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO";

TEST(RecurrenceBounds, ARuleThatMatchesTooRarelyIsAnErrorNotALongSearch) {
  const Task task = recurring(kRare, "2026-12-01T09:00:00");
  auto preview = upcoming_occurrences(task, kNow, berlin(), 100);
  ASSERT_FALSE(preview);
  EXPECT_EQ(preview.error().code, ErrorCode::kValidation);
  ASSERT_EQ(preview.error().fields.size(), 1U);
  EXPECT_EQ(preview.error().fields[0].field, "recurrence");
  EXPECT_EQ(reason(preview.error()),
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO: this rule matches too rarely to preview "
            "100 occurrences; ask for fewer");
}

TEST(RecurrenceBounds, TheSameRuleWithinTheBudgetIsPreviewed) {
  const Task task = recurring(kRare, "2026-12-01T09:00:00");
  auto preview = upcoming_occurrences(task, kNow, berlin(), 3);
  ASSERT_TRUE(preview) << reason(preview.error());
  ASSERT_EQ(preview->occurrences.size(), 3U);
  EXPECT_EQ(format_rfc3339_in_zone(preview->occurrences[0].at, berlin()),
            "2044-02-29T09:00:00+01:00");
  EXPECT_EQ(format_rfc3339_in_zone(preview->occurrences[1].at, berlin()),
            "2072-02-29T09:00:00+01:00");
}

TEST(RecurrenceBounds, CompletionModeSharesOneBudgetForThePreview) {
  const Task task = recurring(kRare, "2026-12-01T09:00:00", RecurrenceMode::kCompletion);
  auto preview = upcoming_occurrences(task, kNow, berlin(), 100);
  ASSERT_FALSE(preview);
  EXPECT_NE(reason(preview.error()).find("matches too rarely to preview 100 occurrences"),
            std::string::npos)
      << reason(preview.error());
}

TEST(RecurrenceBounds, TheNextOccurrenceIsBoundedToo) {
  const Task task = recurring(kRare, "2026-12-01T09:00:00");
  RecurrenceBudget small(1'000);  // 1,000 days: less than the 17 years to the next match
  auto next = next_occurrence(task, *task.due_at, kNow, berlin(), small);
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().fields.at(0).field, "recurrence");
  EXPECT_EQ(reason(next.error()),
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO: this rule matches too rarely to find "
            "its next occurrence");
  RecurrenceBudget enough;
  auto found = next_occurrence(task, *task.due_at, kNow, berlin(), enough);
  ASSERT_TRUE(found);
  ASSERT_TRUE(*found);
  EXPECT_EQ(format_rfc3339_in_zone((*found)->due_at, berlin()), "2044-02-29T09:00:00+01:00");
}

TEST(RecurrenceBounds, AWalkStopsWhenItsBudgetIsSpent) {
  const auto plan = plan_series(kRare, {2026, 12, 1, 9}, false);
  ASSERT_TRUE(plan);
  RecurrenceBudget budget(500);
  int seen = 0;
  const WalkEnd end = walk_series(*plan, berlin(), budget, [&](const Occurrence&) {
    ++seen;
    return true;
  });
  EXPECT_EQ(end, WalkEnd::kGaveUp);
  EXPECT_EQ(seen, 1);  // the anchor only
  EXPECT_TRUE(budget.exhausted());
}

TEST(RecurrenceBounds, YearlyRulesThatSkipYearsSpendPerYear) {
  // BYWEEKNO=53 exists in about one year of six; libical gives every Monday, the weeks are
  // chosen here: each candidate costs, so the walk ends on the budget or libical's last year.
  const Task task = recurring("FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO", "2026-12-01T09:00:00");
  auto preview = upcoming_occurrences(task, kNow, berlin(), 100);
  ASSERT_TRUE(preview) << reason(preview.error());
  EXPECT_LE(preview->occurrences.size(), 100U);
  EXPECT_EQ(format_rfc3339_in_zone(preview->occurrences.at(0).at, berlin()),
            "2026-12-28T09:00:00+01:00");
  RecurrenceBudget small(50);
  const auto plan = plan_series("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", {2028, 2, 29, 9}, false);
  ASSERT_TRUE(plan);
  int seen = 0;
  EXPECT_EQ(walk_series(*plan, berlin(), small, [&](const Occurrence&) { return ++seen < 1000; }),
            WalkEnd::kGaveUp);
  // Every fourth year matches: 50 units are at most 50 years, about 13 occurrences.
  EXPECT_GE(seen, 10);
  EXPECT_LE(seen, 14);
}

TEST(RecurrenceBounds, CountingAFarCountIsBoundedWhenTheTaskIsReanchored) {
  Task before = recurring("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=50",
                          "2026-12-01T09:00:00");
  before.due_at = berlin().to_utc({2600, 2, 29, 9});  // far along its series
  Task after = before;
  after.due_at = berlin().to_utc({2601, 3, 1, 9});
  RecurrenceBudget budget;
  auto moved = anchor_series(after, &before, catalog(), budget);
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().fields.at(0).field, "recurrence");
  EXPECT_NE(reason(moved.error()).find("matches too rarely to count"), std::string::npos);
  // Without a budget to report to, the index the task had is kept.
  const Task kept = anchor_series(after, &before, catalog());
  EXPECT_EQ(kept.recurrence_anchor_index, before.recurrence_anchor_index);
}

TEST(RecurrenceBounds, ATaskRecursAtMostHourly) {
  const auto refused = [](std::string_view rule) {
    auto r = expandable_rule(rule, true);
    return r ? std::string("<accepted>") : reason(r.error());
  };
  EXPECT_EQ(refused("FREQ=DAILY;BYMINUTE=0,30"),
            "BYMINUTE=0,30: a task recurs at most hourly; give one value (BYHOUR may list hours)");
  EXPECT_EQ(refused("FREQ=WEEKLY;BYHOUR=9;BYMINUTE=0;BYSECOND=0,30"),
            "BYSECOND=0,30: a task recurs at most hourly; give one value (BYHOUR may list hours)");
  EXPECT_EQ(refused("FREQ=DAILY;BYHOUR=9,17;BYMINUTE=15;BYSECOND=0"), "<accepted>");
  EXPECT_EQ(
      refused("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"),
      "<accepted>");
}

}  // namespace
}  // namespace todo::domain

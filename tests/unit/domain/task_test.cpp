// Task rules: enumerations, validation and normalisation of client input (POST/PUT vs PATCH),
// due-date forms in real time zones, changed fields and reminder instants.
#include "domain/task.h"

#include <gtest/gtest.h>

#include "support/task_samples.h"
#include "support/tzdata_catalog.h"

namespace todo::domain {
namespace {

using testing::at;
using P = Patch<std::string>;

TEST(TaskEnums, NamesRoundTrip) {
  for (const TaskStatus v : {TaskStatus::kPending, TaskStatus::kCompleted}) {
    EXPECT_EQ(parse_task_status(to_string(v)), v);
  }
  for (const Priority v : {Priority::kLow, Priority::kMedium, Priority::kHigh}) {
    EXPECT_EQ(parse_priority(to_string(v)), v);
  }
  for (const RecurrenceMode v :
       {RecurrenceMode::kDue, RecurrenceMode::kStrict, RecurrenceMode::kCompletion}) {
    EXPECT_EQ(parse_recurrence_mode(to_string(v)), v);
  }
  EXPECT_EQ(to_string(TaskStatus::kCompleted), "completed");
  EXPECT_EQ(to_string(Priority::kHigh), "high");
  EXPECT_EQ(to_string(Priority::kLow), "low");
  EXPECT_EQ(to_string(RecurrenceMode::kCompletion), "completion");
}

TEST(TaskEnums, UnknownNamesAreRejected) {
  EXPECT_EQ(parse_task_status("done"), std::nullopt);
  EXPECT_EQ(parse_task_status("Pending"), std::nullopt);
  EXPECT_EQ(parse_priority("urgent"), std::nullopt);
  EXPECT_EQ(parse_priority(""), std::nullopt);
  EXPECT_EQ(parse_recurrence_mode("after"), std::nullopt);
}

class ApplyTaskInput : public ::testing::Test {
 protected:
  // A task as the API creates it: only the ids set.
  static Task fresh() {
    Task task;
    task.id = "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b";
    task.user_id = "0193a4b2-0000-7000-8000-00000000000a";
    return task;
  }

  static TaskInput titled(std::string title = "Pay rent") {
    TaskInput input;
    input.title = P::of(std::move(title));
    return input;
  }

  Result<Task> create(const TaskInput& input) { return apply(fresh(), input, true); }
  Result<Task> patch(const Task& base, const TaskInput& input) { return apply(base, input, false); }
  Result<Task> apply(const Task& base, const TaskInput& input, bool replace) {
    return apply_task_input(base, input, replace, TaskRules{zones_, owner_});
  }

  // A created task, failing the test when the input is refused.
  Task created(const TaskInput& input) {
    auto result = create(input);
    if (!result) {
      ADD_FAILURE() << "refused: " << result.error().fields.at(0).field << ": "
                    << result.error().fields.at(0).reason;
      return fresh();
    }
    return std::move(result).value();
  }

  // The field errors of a refused input, as "field: reason".
  static std::vector<std::string> errors(const Result<Task>& result) {
    if (result) return {"<accepted>"};
    EXPECT_EQ(result.error().code, ErrorCode::kValidation);
    std::vector<std::string> out;
    for (const FieldError& e : result.error().fields) out.push_back(e.field + ": " + e.reason);
    return out;
  }

  static std::vector<std::string> one(std::string error) { return {std::move(error)}; }

  testing::TzdataCatalog zones_;
  User owner_ = testing::sample_owner();  // Europe/Berlin, default reminders {60, 15}
};

TEST_F(ApplyTaskInput, CreateFillsTheDefaults) {
  const Task task = created(titled());
  EXPECT_EQ(task.id, fresh().id);
  EXPECT_EQ(task.title, "Pay rent");
  EXPECT_EQ(task.description, std::nullopt);
  EXPECT_EQ(task.status, TaskStatus::kPending);
  EXPECT_EQ(task.priority, Priority::kMedium);
  EXPECT_TRUE(task.tags.empty());
  EXPECT_EQ(task.due_at, std::nullopt);
  EXPECT_FALSE(task.all_day);
  EXPECT_EQ(task.timezone, "Europe/Berlin");  // the owner's
  EXPECT_EQ(task.recurrence, std::nullopt);
  EXPECT_EQ(task.recurrence_mode, RecurrenceMode::kDue);
  EXPECT_EQ(task.reminders, (std::vector<int>{15, 60}));  // the owner's, sorted
  EXPECT_EQ(task.version, 1);
}

TEST_F(ApplyTaskInput, CreateTakesEveryField) {
  TaskInput input = titled("  Pay rent  ");
  input.description = P::of("  Line one\n\tindented");
  input.status = P::of("completed");
  input.priority = P::of("high");
  input.tags = Patch<std::vector<std::string>>::of({"Home", "money"});
  input.due_date = P::of("2026-12-01T09:00:00+01:00");
  input.timezone = P::of("America/New_York");
  input.recurrence = P::of("RRULE:FREQ=WEEKLY;byday=tu");
  input.recurrence_mode = P::of("completion");
  input.reminders = Patch<std::vector<std::int64_t>>::of({0, 1440});
  const Task task = created(input);
  EXPECT_EQ(task.title, "Pay rent");
  EXPECT_EQ(task.description, "  Line one\n\tindented");  // kept as written
  EXPECT_EQ(task.status, TaskStatus::kCompleted);
  EXPECT_EQ(task.completed_at, std::nullopt);  // the caller's business
  EXPECT_EQ(task.priority, Priority::kHigh);
  EXPECT_EQ(task.tags, (std::vector<std::string>{"home", "money"}));
  EXPECT_EQ(task.due_at, at("2026-12-01T08:00:00Z"));
  EXPECT_EQ(task.timezone, "America/New_York");
  EXPECT_EQ(task.recurrence, "FREQ=WEEKLY;BYDAY=TU");
  EXPECT_EQ(task.series_id, std::nullopt);  // the caller's business too
  EXPECT_EQ(task.recurrence_mode, RecurrenceMode::kCompletion);
  EXPECT_EQ(task.reminders, (std::vector<int>{0, 1440}));
}

// --- title ---

TEST_F(ApplyTaskInput, TitleIsRequiredOnReplace) {
  EXPECT_EQ(errors(create(TaskInput{})), one("title: is required"));
}

TEST_F(ApplyTaskInput, TitleRules) {
  EXPECT_EQ(errors(create(titled(""))), one("title: must not be empty"));
  EXPECT_EQ(errors(create(titled(" \t\xE3\x80\x80 "))), one("title: must not be empty"));
  EXPECT_EQ(errors(create(titled("a\x01"
                                 "b"))),
            one("title: must not contain control characters"));
  EXPECT_EQ(errors(create(titled("a\nb"))), one("title: must not contain control characters"));
  EXPECT_EQ(errors(create(titled("a\xC2\x85"
                                 "b"))),
            one("title: must not contain control characters"));  // U+0085 (C1)
  EXPECT_EQ(errors(create(titled("bad \xFF"))), one("title: must be valid UTF-8"));
  TaskInput null_title;
  null_title.title = P::null();
  EXPECT_EQ(errors(create(null_title)), one("title: must not be null"));
  EXPECT_EQ(errors(patch(testing::sample_task(), null_title)), one("title: must not be null"));
}

TEST_F(ApplyTaskInput, TitleLengthCountsCodePointsAfterTrimming) {
  std::string title;
  for (int i = 0; i < 200; ++i) title += "\xC3\xA9";  // é, two bytes
  EXPECT_EQ(created(titled("  " + title + "  ")).title, title);
  EXPECT_EQ(errors(create(titled(title + "x"))), one("title: must be at most 200 characters"));
}

// --- description ---

TEST_F(ApplyTaskInput, DescriptionRules) {
  TaskInput input = titled();
  input.description = P::of("   \n\t ");
  EXPECT_EQ(created(input).description, std::nullopt);  // only white space: no description
  input.description = P::of("Windows\r\nline");
  EXPECT_EQ(errors(create(input)),
            one("description: must not contain control characters other than line feed and tab"));
  input.description = P::of("bell\a");
  EXPECT_EQ(errors(create(input)),
            one("description: must not contain control characters other than line feed and tab"));
  input.description = P::of("\xC3");
  EXPECT_EQ(errors(create(input)), one("description: must be valid UTF-8"));
  input.description = P::null();
  EXPECT_EQ(created(input).description, std::nullopt);
}

TEST_F(ApplyTaskInput, DescriptionLength) {
  TaskInput input = titled();
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "\xE2\x82\xAC";  // €, three bytes
  input.description = P::of(text);
  EXPECT_EQ(created(input).description, text);
  input.description = P::of(text + "x");
  EXPECT_EQ(errors(create(input)), one("description: must be at most 2000 characters"));
}

// --- status, priority, recurrence_mode ---

TEST_F(ApplyTaskInput, EnumerationsRejectUnknownValuesAndNull) {
  TaskInput input = titled();
  input.status = P::of("done");
  input.priority = P::of("HIGH");
  input.recurrence_mode = P::of("sometimes");
  EXPECT_EQ(errors(create(input)),
            (std::vector<std::string>{"status: must be pending or completed",
                                      "priority: must be high, medium or low",
                                      "recurrence_mode: must be due, strict or completion"}));
  TaskInput nulls;
  nulls.status = P::null();
  nulls.priority = P::null();
  nulls.recurrence_mode = P::null();
  EXPECT_EQ(errors(patch(testing::sample_task(), nulls)).size(), 3u);
}

// --- tags ---

TEST_F(ApplyTaskInput, TagsAreTrimmedLowerCasedAndDeduplicatedInOrder) {
  TaskInput input = titled();
  input.tags = Patch<std::vector<std::string>>::of(
      {"  Work ", "\xC3\x9Cn\xC3\xAF", "work", "HOME", "\xC3\xBCn\xC3\x8F", "home"});
  EXPECT_EQ(created(input).tags,
            (std::vector<std::string>{"work", "\xC3\xBCn\xC3\xAF", "home"}));  // ünï
}

TEST_F(ApplyTaskInput, TagRules) {
  TaskInput input = titled();
  std::string fifty;
  for (int i = 0; i < 50; ++i) fifty += "\xC3\x9F";  // ß
  input.tags = Patch<std::vector<std::string>>::of(
      {"ok", fifty, "   ", fifty + "x", "a\tb", "\xFF", "x\xC2\x9F"});
  EXPECT_EQ(errors(create(input)),
            (std::vector<std::string>{
                "tags[2]: must not be empty", "tags[3]: must be at most 50 characters",
                "tags[4]: must not contain control characters", "tags[5]: must be valid UTF-8",
                "tags[6]: must not contain control characters"}));
}

TEST_F(ApplyTaskInput, AtMostTenTagsAfterDeduplication) {
  TaskInput input = titled();
  std::vector<std::string> tags = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"};
  tags.push_back("T0");  // a duplicate does not count
  input.tags = Patch<std::vector<std::string>>::of(tags);
  EXPECT_EQ(created(input).tags.size(), 10u);
  tags.push_back("t10");
  input.tags = Patch<std::vector<std::string>>::of(tags);
  EXPECT_EQ(errors(create(input)), one("tags: must have at most 10 different tags"));
}

// --- reminders ---

TEST_F(ApplyTaskInput, RemindersAreSortedAndDeduplicated) {
  TaskInput input = titled();
  input.reminders = Patch<std::vector<std::int64_t>>::of({60, 0, 40320, 60, 15});
  EXPECT_EQ(created(input).reminders, (std::vector<int>{0, 15, 60, 40320}));
  input.reminders = Patch<std::vector<std::int64_t>>::of({});
  EXPECT_TRUE(created(input).reminders.empty());  // an explicit [] is not the default
}

TEST_F(ApplyTaskInput, ReminderRules) {
  TaskInput input = titled();
  input.reminders = Patch<std::vector<std::int64_t>>::of({5, -1, 40321, 4'000'000'000});
  EXPECT_EQ(errors(create(input)),
            (std::vector<std::string>{"reminders[1]: must be 0 to 40320 minutes",
                                      "reminders[2]: must be 0 to 40320 minutes",
                                      "reminders[3]: must be 0 to 40320 minutes"}));
  std::vector<std::int64_t> many;
  for (int i = 0; i < 11; ++i) many.push_back(i);
  many.push_back(0);
  input.reminders = Patch<std::vector<std::int64_t>>::of(many);
  EXPECT_EQ(errors(create(input)), one("reminders: must have at most 10 different reminders"));
}

TEST_F(ApplyTaskInput, AbsentRemindersAreTheOwnersDefaultOnReplaceOnly) {
  Task base = testing::sample_task();
  base.reminders = {5};
  EXPECT_EQ(apply(base, titled(), true).value().reminders, (std::vector<int>{15, 60}));
  EXPECT_EQ(patch(base, titled()).value().reminders, (std::vector<int>{5}));
  TaskInput clear;
  clear.reminders = Patch<std::vector<std::int64_t>>::null();
  EXPECT_TRUE(patch(base, clear).value().reminders.empty());
}

// --- time zone ---

TEST_F(ApplyTaskInput, TimeZoneMustBeKnown) {
  TaskInput input = titled();
  input.timezone = P::of("Mars/Olympus_Mons");
  EXPECT_EQ(errors(create(input)),
            one("timezone: must be a known IANA time zone name such as Europe/Berlin"));
  input.timezone = P::of("../../etc/passwd");
  EXPECT_EQ(errors(create(input)).size(), 1u);
  input.timezone = P::null();
  EXPECT_EQ(errors(create(input)).size(), 1u);
  input.timezone = P::of("Asia/Kolkata");
  EXPECT_EQ(created(input).timezone, "Asia/Kolkata");
}

TEST_F(ApplyTaskInput, TimeZoneDefaultsToTheOwnersOnReplaceAndStaysOnPatch) {
  Task base = testing::sample_task();
  base.timezone = "Asia/Tokyo";
  EXPECT_EQ(apply(base, titled(), true).value().timezone, "Europe/Berlin");
  EXPECT_EQ(patch(base, titled()).value().timezone, "Asia/Tokyo");
}

// --- due date ---

struct DueCase {
  const char* input;
  const char* zone;
  const char* expected;  // UTC
  bool all_day;
};

class DueDateForms : public ApplyTaskInput, public ::testing::WithParamInterface<DueCase> {};

TEST_P(DueDateForms, ResolveInTheTasksTimeZone) {
  TaskInput input = titled();
  input.due_date = P::of(GetParam().input);
  input.timezone = P::of(GetParam().zone);
  const Task task = created(input);
  EXPECT_EQ(task.due_at, at(GetParam().expected)) << GetParam().input << " in " << GetParam().zone;
  EXPECT_EQ(task.all_day, GetParam().all_day);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, DueDateForms,
    ::testing::Values(
        // Instants keep their instant whatever the zone.
        DueCase{"2026-12-01T09:00:00+01:00", "America/New_York", "2026-12-01T08:00:00Z", false},
        DueCase{"2026-12-01T08:00:00Z", "Europe/Berlin", "2026-12-01T08:00:00Z", false},
        DueCase{"2026-12-01T03:30:00.250-05:00", "UTC", "2026-12-01T08:30:00.250Z", false},
        // Wall times: winter and summer offsets.
        DueCase{"2026-12-01T09:00", "Europe/Berlin", "2026-12-01T08:00:00Z", false},
        DueCase{"2026-07-01T09:00:00", "Europe/Berlin", "2026-07-01T07:00:00Z", false},
        DueCase{"2026-12-01T09:00:00.5", "Europe/Berlin", "2026-12-01T08:00:00.500Z", false},
        DueCase{"2026-12-01T09:00", "America/New_York", "2026-12-01T14:00:00Z", false},
        DueCase{"2026-07-01T09:00", "America/New_York", "2026-07-01T13:00:00Z", false},
        // A skipped wall time moves forward by the gap: 02:30 becomes 03:30 summer time.
        DueCase{"2026-03-08T02:30", "America/New_York", "2026-03-08T07:30:00Z", false},
        DueCase{"2026-03-29T02:30", "Europe/Berlin", "2026-03-29T01:30:00Z", false},
        // A repeated wall time takes the first (summer time) instant.
        DueCase{"2026-11-01T01:30", "America/New_York", "2026-11-01T05:30:00Z", false},
        DueCase{"2026-10-25T02:30", "Europe/Berlin", "2026-10-25T00:30:00Z", false},
        // A date is all-day at local midnight.
        DueCase{"2026-12-01", "Europe/Berlin", "2026-11-30T23:00:00Z", true},
        DueCase{"2026-07-01", "America/New_York", "2026-07-01T04:00:00Z", true},
        DueCase{"2026-12-01", "UTC", "2026-12-01T00:00:00Z", true},
        DueCase{"2026-12-01", "Asia/Kolkata", "2026-11-30T18:30:00Z", true}));

TEST_F(ApplyTaskInput, WallTimeUsesTheOwnersZoneWhenTheTaskHasNone) {
  TaskInput input = titled();
  input.due_date = P::of("2026-12-01T09:00");
  EXPECT_EQ(created(input).due_at, at("2026-12-01T08:00:00Z"));  // Europe/Berlin
}

TEST_F(ApplyTaskInput, MalformedDueDates) {
  const std::string reason =
      "due_date: must be an RFC 3339 date-time, a local date-time YYYY-MM-DDTHH:MM[:SS] or a "
      "date YYYY-MM-DD";
  for (const char* text :
       {"tomorrow", "", "2026-02-30", "2026-13-01", "2026-12-01T25:00", "2026-12-01 09:00",
        "2026-12-01T09", "2026-12-01T09:00:60", "2026-12-01T09:00:00.", "2026-12-01T09:00+01",
        "26-12-01", "2026-12-1", "2026-12-01T09:00:00.1234567890"}) {
    TaskInput input = titled();
    input.due_date = P::of(text);
    EXPECT_EQ(errors(create(input)), one(reason)) << text;
  }
}

TEST_F(ApplyTaskInput, AllDayRules) {
  TaskInput input = titled();
  input.all_day = Patch<bool>::of(true);
  EXPECT_EQ(errors(create(input)), one("all_day: requires a due date"));

  input.due_date = P::of("2026-12-01T09:00:00Z");
  Task task = created(input);
  EXPECT_TRUE(task.all_day);  // an explicit all_day keeps the instant as given
  EXPECT_EQ(task.due_at, at("2026-12-01T09:00:00Z"));

  input.due_date = P::of("2026-12-01");
  input.all_day = Patch<bool>::of(false);
  EXPECT_EQ(errors(create(input)),
            one("all_day: cannot be false when due_date is a date without a time"));

  input.all_day = Patch<bool>::null();
  EXPECT_EQ(errors(create(input)), one("all_day: must be true or false"));

  input.due_date = P::null();
  input.all_day = Patch<bool>::of(true);
  EXPECT_EQ(errors(create(input)), one("all_day: requires a due date"));
}

TEST_F(ApplyTaskInput, PatchAllDayAlone) {
  Task base = testing::sample_task();
  TaskInput input;
  input.all_day = Patch<bool>::of(true);
  const Task task = patch(base, input).value();
  EXPECT_TRUE(task.all_day);
  EXPECT_EQ(task.due_at, base.due_at);

  base.due_at.reset();
  EXPECT_EQ(errors(patch(base, input)), one("all_day: requires a due date"));
}

TEST_F(ApplyTaskInput, PatchDueDateAbsentNullOrValue) {
  Task base = testing::sample_task();
  base.all_day = true;
  TaskInput absent;
  absent.title = P::of("Renamed");
  EXPECT_EQ(patch(base, absent).value().due_at, base.due_at);
  EXPECT_TRUE(patch(base, absent).value().all_day);

  TaskInput null_due;
  null_due.due_date = P::null();
  const Task cleared = patch(base, null_due).value();
  EXPECT_EQ(cleared.due_at, std::nullopt);
  EXPECT_FALSE(cleared.all_day);

  TaskInput instant;
  instant.due_date = P::of("2027-01-01T10:00:00Z");
  const Task timed = patch(base, instant).value();
  EXPECT_EQ(timed.due_at, at("2027-01-01T10:00:00Z"));
  EXPECT_FALSE(timed.all_day);  // a time of day ends all-day unless all_day says otherwise
}

TEST_F(ApplyTaskInput, PatchTimeZoneKeepsTheInstant) {
  const Task base = testing::sample_task();  // Europe/Berlin, due 08:00Z
  TaskInput input;
  input.timezone = P::of("America/New_York");
  const Task task = patch(base, input).value();
  EXPECT_EQ(task.timezone, "America/New_York");
  EXPECT_EQ(task.due_at, base.due_at);
}

TEST_F(ApplyTaskInput, PatchWallTimeReadsInTheNewTimeZone) {
  const Task base = testing::sample_task();
  TaskInput input;
  input.timezone = P::of("America/New_York");
  input.due_date = P::of("2026-12-01T09:00");
  EXPECT_EQ(patch(base, input).value().due_at, at("2026-12-01T14:00:00Z"));
  TaskInput same_zone;
  same_zone.due_date = P::of("2026-12-01T09:00");
  EXPECT_EQ(patch(base, same_zone).value().due_at, at("2026-12-01T08:00:00Z"));  // Berlin
}

TEST_F(ApplyTaskInput, UnknownZoneReportsOnlyTheZone) {
  TaskInput input = titled();
  input.timezone = P::of("Nowhere/City");
  input.due_date = P::of("2026-12-01T09:00");
  EXPECT_EQ(errors(create(input)),
            one("timezone: must be a known IANA time zone name such as Europe/Berlin"));
}

// --- recurrence ---

TEST_F(ApplyTaskInput, RecurrenceIsNormalised) {
  TaskInput input = titled();
  input.recurrence = P::of(" Weekly ");
  EXPECT_EQ(created(input).recurrence, "weekly");
  input.recurrence = P::of("none");
  EXPECT_EQ(created(input).recurrence, std::nullopt);
  input.recurrence = P::of("freq=monthly;interval=1;bymonthday=-1");
  EXPECT_EQ(created(input).recurrence, "FREQ=MONTHLY;BYMONTHDAY=-1");
  input.recurrence = P::of("FREQ=WEEKLY;BYDAY=XX");
  EXPECT_EQ(errors(create(input)), one("recurrence: BYDAY=XX: unknown weekday"));
}

TEST_F(ApplyTaskInput, RecurrenceTheEngineCannotExpandIsRefused) {
  TaskInput input = titled();
  input.recurrence = P::of("FREQ=HOURLY;INTERVAL=2");
  EXPECT_EQ(errors(create(input)),
            one("recurrence: FREQ=HOURLY: a task repeats at most daily; use DAILY, WEEKLY, "
                "MONTHLY or YEARLY"));
  input.recurrence = P::of("FREQ=DAILY;BYHOUR=9,17");
  input.due_date = P::of("2026-12-01");  // all-day
  EXPECT_EQ(errors(create(input)),
            one("recurrence: BYHOUR=9,17: needs a due date with a time of day (this task is "
                "all-day or has no due date)"));
  input.due_date = P::of("2026-12-01T08:00");
  EXPECT_EQ(created(input).recurrence, "FREQ=DAILY;BYHOUR=9,17");
}

TEST_F(ApplyTaskInput, ChangingTheDueDateChecksTheRuleAgain) {
  Task base = testing::sample_task();
  base.recurrence = "FREQ=DAILY;BYHOUR=9";
  TaskInput to_all_day;
  to_all_day.due_date = P::of("2026-12-01");
  EXPECT_EQ(errors(patch(base, to_all_day)),
            one("recurrence: BYHOUR=9: needs a due date with a time of day (this task is "
                "all-day or has no due date)"));
  // An unrelated change of a task saved with such a rule before is not refused.
  base.recurrence = "FREQ=HOURLY";
  TaskInput retitle = titled("Renamed");
  EXPECT_EQ(patch(base, retitle).value().title, "Renamed");
}

TEST_F(ApplyTaskInput, PatchRecurrenceNullClears) {
  const Task base = testing::sample_task();
  TaskInput input;
  input.recurrence = P::null();
  const Task task = patch(base, input).value();
  EXPECT_EQ(task.recurrence, std::nullopt);
  EXPECT_EQ(task.series_id, base.series_id);  // left to the caller
}

// --- all at once, and what is not touched ---

TEST_F(ApplyTaskInput, ReportsEveryErrorAtOnceInFieldOrder) {
  TaskInput input = titled("   ");
  input.description = P::of("\x01");
  input.status = P::of("open");
  input.priority = P::of("urgent");
  input.tags = Patch<std::vector<std::string>>::of({"ok", ""});
  input.due_date = P::of("someday");
  input.timezone = P::of("Atlantis");
  input.recurrence = P::of("FREQ=DAILY;COUNT=0");
  input.recurrence_mode = P::of("never");
  input.reminders = Patch<std::vector<std::int64_t>>::of({-5});
  const std::vector<std::string> expected = {
      "title: must not be empty",
      "description: must not contain control characters other than line feed and tab",
      "status: must be pending or completed",
      "priority: must be high, medium or low",
      "tags[1]: must not be empty",
      "due_date: must be an RFC 3339 date-time, a local date-time YYYY-MM-DDTHH:MM[:SS] or a "
      "date YYYY-MM-DD",
      "timezone: must be a known IANA time zone name such as Europe/Berlin",
      "recurrence: COUNT=0: must be a positive integer",
      "recurrence_mode: must be due, strict or completion",
      "reminders[0]: must be 0 to 40320 minutes"};
  EXPECT_EQ(errors(create(input)), expected);
}

TEST_F(ApplyTaskInput, PatchLeavesAbsentFieldsAlone) {
  const Task base = testing::sample_task();
  const Task task = patch(base, TaskInput{}).value();
  EXPECT_TRUE(changed_fields(base, task).empty());
  EXPECT_EQ(task.description, base.description);
  EXPECT_EQ(task.tags, base.tags);
  EXPECT_EQ(task.reminders, base.reminders);
  EXPECT_EQ(task.recurrence, base.recurrence);
}

TEST_F(ApplyTaskInput, PatchNullClearsDescriptionAndTags) {
  const Task base = testing::sample_task();
  TaskInput input;
  input.description = P::null();
  input.tags = Patch<std::vector<std::string>>::null();
  const Task task = patch(base, input).value();
  EXPECT_EQ(task.description, std::nullopt);
  EXPECT_TRUE(task.tags.empty());
  EXPECT_EQ(changed_fields(base, task), (ChangedFields{"description", "tags"}));
}

TEST_F(ApplyTaskInput, ReplaceResetsAbsentFieldsButNotIdentityOrBookkeeping) {
  Task base = testing::sample_task();
  base.status = TaskStatus::kCompleted;
  base.completed_at = at("2026-11-03T07:00:00Z");
  base.all_day = true;
  base.recurrence_mode = RecurrenceMode::kStrict;
  base.change_seq = 17;
  base.occurrence_index = 2;
  const Task task = apply(base, titled("New"), true).value();
  EXPECT_EQ(task.title, "New");
  EXPECT_EQ(task.description, std::nullopt);
  EXPECT_EQ(task.status, TaskStatus::kPending);
  EXPECT_EQ(task.priority, Priority::kMedium);
  EXPECT_TRUE(task.tags.empty());
  EXPECT_EQ(task.due_at, std::nullopt);
  EXPECT_FALSE(task.all_day);
  EXPECT_EQ(task.recurrence, std::nullopt);
  EXPECT_EQ(task.recurrence_mode, RecurrenceMode::kDue);
  EXPECT_EQ(task.reminders, (std::vector<int>{15, 60}));
  // Not the input's business:
  EXPECT_EQ(task.id, base.id);
  EXPECT_EQ(task.user_id, base.user_id);
  EXPECT_EQ(task.version, base.version);
  EXPECT_EQ(task.change_seq, 17);
  EXPECT_EQ(task.series_id, base.series_id);
  EXPECT_EQ(task.occurrence_index, 2);
  EXPECT_EQ(task.created_at, base.created_at);
  EXPECT_EQ(task.updated_at, base.updated_at);
  EXPECT_EQ(task.completed_at, base.completed_at);
}

TEST_F(ApplyTaskInput, StatusOnPatch) {
  const Task base = testing::sample_task();
  TaskInput input;
  input.status = P::of("completed");
  const Task task = patch(base, input).value();
  EXPECT_EQ(task.status, TaskStatus::kCompleted);
  EXPECT_EQ(task.completed_at, std::nullopt);
  EXPECT_EQ(changed_fields(base, task), (ChangedFields{"status"}));
}

// --- changed_fields ---

TEST(ChangedFields, NamesEveryDifferingApiFieldInOrder) {
  const Task before = testing::sample_task();
  EXPECT_TRUE(changed_fields(before, before).empty());
  Task after = before;
  after.title = "x";
  after.description.reset();
  after.status = TaskStatus::kCompleted;
  after.priority = Priority::kLow;
  after.tags = {"money", "home"};  // order matters
  after.due_at = at("2026-12-02T08:00:00Z");
  after.all_day = true;
  after.timezone = "UTC";
  after.recurrence = "weekly";
  after.recurrence_mode = RecurrenceMode::kStrict;
  after.reminders = {15};
  EXPECT_EQ(changed_fields(before, after),
            (ChangedFields{"title", "description", "status", "priority", "tags", "due_date",
                           "all_day", "timezone", "recurrence", "recurrence_mode", "reminders"}));
}

TEST(ChangedFields, IgnoresBookkeeping) {
  const Task before = testing::sample_task();
  Task after = before;
  after.version = 9;
  after.updated_at = at("2027-01-01T00:00:00Z");
  after.completed_at = at("2027-01-01T00:00:00Z");
  after.change_seq = 99;
  after.series_id = "other";
  EXPECT_TRUE(changed_fields(before, after).empty());
}

// --- reminder_instants ---

TEST(ReminderInstants, DueMinusEachOffsetAscending) {
  Task task = testing::sample_task();  // due 08:00Z, reminders {15, 60}
  task.reminders = {0, 15, 60, 40320};
  EXPECT_EQ(reminder_instants(task),
            (std::vector<Timestamp>{at("2026-11-03T08:00:00Z"), at("2026-12-01T07:00:00Z"),
                                    at("2026-12-01T07:45:00Z"), at("2026-12-01T08:00:00Z")}));
}

TEST(ReminderInstants, EmptyWhenNothingIsPending) {
  Task task = testing::sample_task();
  task.status = TaskStatus::kCompleted;
  EXPECT_TRUE(reminder_instants(task).empty());
  task = testing::sample_task();
  task.deleted_at = at("2026-11-05T00:00:00Z");
  EXPECT_TRUE(reminder_instants(task).empty());
  task = testing::sample_task();
  task.due_at.reset();
  EXPECT_TRUE(reminder_instants(task).empty());
  task = testing::sample_task();
  task.reminders.clear();
  EXPECT_TRUE(reminder_instants(task).empty());
}

TEST(ReminderInstants, KeepsInstantsInThePast) {
  Task task = testing::sample_task();
  task.due_at = at("2000-01-01T00:00:00Z");
  EXPECT_EQ(reminder_instants(task).size(), 2u);
}

}  // namespace
}  // namespace todo::domain

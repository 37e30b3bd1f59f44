// The recurrence engine: expands a task's rule in the wall time of its time zone and answers what
// the next occurrence of a completed task is and what the next due dates are. Pure: instants,
// zones and "now" come in as arguments. The rules are in docs/adr/0009-recurrence.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/recurrence_rule.h"
#include "domain/task.h"
#include "domain/time_zone.h"

namespace todo::domain {

inline constexpr int kMaxPreviewCount = 100;

// The work one recurrence computation may do (a preview, one next occurrence, one re-anchoring):
// every candidate libical produces, and every month or year it passes over, spends one unit. A
// rule that needs more (it matches too rarely, or a COUNT far away must be counted) is answered
// with an error instead of seconds of CPU. 100,000 units: 270 years of a daily rule, 11 years of
// one with 24 hours a day, 100 occurrences of any rule that matches at least every 1,000 days.
inline constexpr std::int64_t kRecurrenceWorkUnits = 100'000;

class RecurrenceBudget {
 public:
  explicit RecurrenceBudget(std::int64_t units = kRecurrenceWorkUnits) : left_(units) {}
  // Spends `units`; false once the budget is exhausted.
  bool spend(std::int64_t units) {
    left_ -= units;
    return left_ >= 0;
  }
  bool exhausted() const { return left_ < 0; }

 private:
  std::int64_t left_;
};

// Whether the engine can expand a stored recurrence (a preset or a canonical RRULE) for a task
// whose due date has a time of day (`timed`) or not (all-day, or no due date: its next occurrence
// is all-day). Refused, as kValidation on "recurrence" with a reason naming the part: frequencies
// below DAILY, more than one BYMINUTE or BYSECOND (a task recurs at most hourly: BYHOUR may list
// hours), and BYHOUR/BYMINUTE/BYSECOND without a time of day. Parse errors as parse_rrule's.
Result<RecurrenceRule> expandable_rule(std::string_view recurrence, bool timed);

// A recurrence ready to expand from one anchor.
struct SeriesPlan {
  RecurrenceRule rule;   // what is expanded: a preset as an RRULE fitted to the anchor
  LocalDateTime anchor;  // the first element (DTSTART); midnight for all-day
  bool all_day = false;
  std::int64_t occurrences_before = 0;  // occurrences of the series before the anchor, for COUNT
};

// Presets become RRULEs that keep the anchor's day: monthly on a day d > 28 is
// FREQ=MONTHLY;BYMONTHDAY=28,…,d;BYSETPOS=-1 (the last day of a shorter month, back to d after
// it), yearly on 29 February is FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1. A custom RRULE
// is expanded as written (RFC 5545: BYMONTHDAY=31 skips shorter months). Errors as
// expandable_rule's.
Result<SeriesPlan> plan_series(std::string_view recurrence, const LocalDateTime& anchor,
                               bool all_day, std::int64_t occurrences_before = 0);

// One element of a series: the wall time the rule gives, and the instant it names in the zone (a
// wall time skipped by a DST change moves forward by the gap; a repeated one takes the first).
struct Occurrence {
  LocalDateTime local;
  Timestamp at;
};

enum class WalkEnd {
  kStopped,  // the visitor returned false
  kEnded,    // no more elements: COUNT, UNTIL, or none in the calendar
  kGaveUp,   // the budget ran out first: the rule matches too rarely to expand
};

// Visits the series in order: the anchor first (it always counts, as RFC 5545 says of DTSTART),
// then every later occurrence of the rule, until COUNT (less occurrences_before) or UNTIL (a date:
// that local day included; a local date-time: that wall time; with Z: that instant) ends it.
// Spends from `budget` (shared by the walks of one computation); the overload without one gets a
// fresh budget of kRecurrenceWorkUnits.
WalkEnd walk_series(const SeriesPlan& plan, const TimeZone& zone, RecurrenceBudget& budget,
                    const std::function<bool(const Occurrence&)>& visit);
WalkEnd walk_series(const SeriesPlan& plan, const TimeZone& zone,
                    const std::function<bool(const Occurrence&)>& visit);

// The series state of a recurring task: its stored anchor, else (a task written before anchors
// existed) the wall time of its due date; nullopt when it has no due date.
std::optional<LocalDateTime> series_anchor(const Task& task, const TimeZone& zone);

// `after` (the new state of `before`; nullptr on create) with its series anchor kept true: a new
// or changed rule anchors on the due date with no occurrence before it; a changed due date,
// all-day flag or time zone re-anchors on the new due date and keeps counting (the occurrences
// before it are those before `before` in its series); anything else keeps the anchor. No rule, or
// no due date: no anchor. `zones` resolves the tasks' time zones.
// Counting the occurrences before `before` is bounded by `budget`: when it runs out, a kValidation
// error on "recurrence" (the rule matches too rarely to count that far).
Result<Task> anchor_series(Task after, const Task* before, const ZoneCatalog& zones,
                           RecurrenceBudget& budget);
// As above with a fresh budget; when it runs out, the index `before` had is kept.
Task anchor_series(Task after, const Task* before, const ZoneCatalog& zones);

// How many occurrences of its series precede `task` (COUNT counts them): the anchor's count plus
// the elements of `plan` (the task's series) before its due date. nullopt when the budget ran out.
std::optional<std::int64_t> series_position(const Task& task, const SeriesPlan& plan,
                                            const TimeZone& zone, RecurrenceBudget& budget);

// What the recurring service needs to create the next occurrence of a completed task.
struct NextOccurrence {
  Timestamp due_at;
  LocalDateTime local;  // the wall time the rule gave (due_at is later when that fell in a gap)
  bool all_day = false;
  std::int64_t occurrence_index = 0;  // the completed task's + 1: unique with the series id
  LocalDateTime recurrence_anchor;    // the series state the new task stores
  std::int64_t recurrence_anchor_index = 0;
};

// The next occurrence of `task`, completed at `completed_at`, in its zone `zone`:
// - due: the first occurrence after the due date that is also after `now` (missed ones skipped);
// - strict: the first occurrence after the due date, even if already past;
// - completion: counted from the completion — the rule re-anchored on the completion's local date
//   at the series' time of day; the first occurrence after that and after the completion;
// - no due date (any mode): as completion, all-day.
// nullopt when the task does not recur or its series has ended (COUNT, UNTIL). Errors: the
// stored rule cannot be expanded (kValidation on "recurrence").
// Errors also when the budget runs out first (kValidation on "recurrence": the rule matches too
// rarely). The overload without a budget gets a fresh one.
Result<std::optional<NextOccurrence>> next_occurrence(const Task& task, Timestamp completed_at,
                                                      Timestamp now, const TimeZone& zone,
                                                      RecurrenceBudget& budget);
Result<std::optional<NextOccurrence>> next_occurrence(const Task& task, Timestamp completed_at,
                                                      Timestamp now, const TimeZone& zone);

// The next occurrence as a pending task: `completed`'s content with the new due date and series
// state. The caller gives it an id, version, timestamps and change counter.
Task make_next_task(const Task& completed, const NextOccurrence& next);

struct OccurrencePreview {
  std::string rrule;     // the RRULE expanded for the first of them (empty when not recurring)
  bool all_day = false;  // the occurrences are all-day (a task without due date gets all-day ones)
  std::vector<Occurrence> occurrences;
};

// The due dates the next `count` occurrences of `task` get if each is completed on its due date
// (a task with no due date, or an overdue one in completion mode, as if completed `now`), the
// task's own due date excluded. Empty when the task does not recur. Errors as next_occurrence's;
// one budget of kRecurrenceWorkUnits for the whole preview: when it runs out before `count`
// occurrences (or the end of the series) are found, kValidation on "recurrence" ("this rule
// matches too rarely to preview …"), never a shorter list that would look like the series' end.
Result<OccurrencePreview> upcoming_occurrences(const Task& task, Timestamp now,
                                               const TimeZone& zone, int count);

}  // namespace todo::domain

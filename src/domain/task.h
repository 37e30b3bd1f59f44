// Tasks: the entity, its enumerations, and the rules for creating and changing one.
#pragma once

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/user.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace todo::domain {

enum class TaskStatus { kPending, kCompleted };
enum class Priority { kLow = 1, kMedium = 2, kHigh = 3 };  // the value is the sort rank
enum class RecurrenceMode { kDue, kStrict, kCompletion };

std::string_view to_string(TaskStatus v);
std::string_view to_string(Priority v);
std::string_view to_string(RecurrenceMode v);
std::optional<TaskStatus> parse_task_status(std::string_view text);
std::optional<Priority> parse_priority(std::string_view text);
std::optional<RecurrenceMode> parse_recurrence_mode(std::string_view text);

inline constexpr std::size_t kMaxTitleLength = 200;         // code points, after trimming
inline constexpr std::size_t kMaxDescriptionLength = 2000;  // code points
inline constexpr std::size_t kMaxTags = 10;
inline constexpr std::size_t kMaxTagLength = 50;

struct Task {
  std::string id;       // UUIDv7
  std::string user_id;
  std::string title;
  std::optional<std::string> description;
  TaskStatus status = TaskStatus::kPending;
  Priority priority = Priority::kMedium;
  std::vector<std::string> tags;      // trimmed, lower-case, unique, in the order given
  std::optional<Timestamp> due_at;    // an instant (UTC)
  bool all_day = false;               // due_at is local midnight of the due day in `timezone`
  std::string timezone = "UTC";       // IANA; the user's when the client gives none
  std::optional<std::string> recurrence;  // a preset name or a canonical RRULE (no "RRULE:")
  RecurrenceMode recurrence_mode = RecurrenceMode::kDue;
  std::optional<std::string> series_id;   // set for recurring tasks: the first occurrence's id
  std::int64_t occurrence_index = 0;      // 0 for the first occurrence of a series
  // Where the series is counted from (docs/adr/0009-recurrence.md): the wall time in `timezone` of
  // the due date the rule was set or last re-anchored on, and how many occurrences of the series
  // precede that one (COUNT counts them). Kept by anchor_series (domain/recurrence.h), copied to
  // each next occurrence; not part of the API.
  std::optional<LocalDateTime> recurrence_anchor;
  std::int64_t recurrence_anchor_index = 0;
  std::vector<int> reminders;             // minutes before due_at, unique, ascending
  std::int64_t version = 1;               // +1 on every change; the events' `sequence`
  std::int64_t change_seq = 0;            // the owner's change counter at the last change
  Timestamp created_at{};
  Timestamp updated_at{};
  std::optional<Timestamp> completed_at;
  std::optional<Timestamp> deleted_at;    // tombstone, kept for delta sync
};

// A field of a partial update: absent (leave it), null (clear it) or a value.
template <class T>
struct Patch {
  enum class Kind { kAbsent, kNull, kValue } kind = Kind::kAbsent;
  T value{};
  static Patch absent() { return {}; }
  static Patch null() { return {Kind::kNull, T{}}; }
  static Patch of(T v) { return {Kind::kValue, std::move(v)}; }
  bool is_absent() const { return kind == Kind::kAbsent; }
  bool is_null() const { return kind == Kind::kNull; }
  bool has_value() const { return kind == Kind::kValue; }
};

// What a client sends for a task, as raw values (already JSON-type-checked by the HTTP layer).
// POST and PUT treat every absent field as its default; PATCH leaves absent fields unchanged.
struct TaskInput {
  Patch<std::string> title;
  Patch<std::string> description;
  Patch<std::string> status;           // "pending" | "completed"
  Patch<std::string> priority;         // "high" | "medium" | "low"
  Patch<std::vector<std::string>> tags;
  Patch<std::string> due_date;         // RFC 3339 instant, wall time "YYYY-MM-DDTHH:MM[:SS]" or date "YYYY-MM-DD"
  Patch<bool> all_day;
  Patch<std::string> timezone;
  Patch<std::string> recurrence;       // preset none|daily|weekly|monthly|yearly, or RRULE
  Patch<std::string> recurrence_mode;  // due | strict | completion
  Patch<std::vector<std::int64_t>> reminders;
  // Fields the transport could not read (wrong JSON type); they are absent above and are reported
  // together with the value errors of the other fields.
  std::vector<FieldError> type_errors;
};

// A tag as stored: trimmed and lower-cased; nullopt when empty, longer than 50 code points, not
// valid UTF-8 or containing control characters. Also used for tag filters.
std::optional<std::string> normalize_tag(std::string_view tag);

// The names of fields as the API and events spell them.
using ChangedFields = std::vector<std::string>;

struct TaskRules {
  const ZoneCatalog& zones;
  const User& owner;  // default time zone and default reminders
};

// Validates every field (all errors at once, field names as in the API) and returns the new task
// state: `base` for PATCH, a fresh default task for POST/PUT (`replace` = true resets absent
// fields). Does not touch id, user_id, version, timestamps or change_seq: the caller does.
Result<Task> apply_task_input(const Task& base, const TaskInput& input, bool replace,
                              const TaskRules& rules);

// Names of the API fields that differ between two states (title, description, status, priority,
// tags, due_date, all_day, timezone, recurrence, recurrence_mode, reminders).
ChangedFields changed_fields(const Task& before, const Task& after);

// Every pending reminder instant of a task, ascending: due_at - offset for each offset; empty when
// the task is completed, deleted or has no due date. Instants already past `now` are kept (the
// notification service decides what is late or missed).
std::vector<Timestamp> reminder_instants(const Task& task);

}  // namespace todo::domain

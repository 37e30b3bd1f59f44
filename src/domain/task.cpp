// Task enumerations, the validation of what a client sends for a task, and what a change changed.
#include "domain/task.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>

#include "domain/recurrence.h"
#include "domain/recurrence_rule.h"
#include "domain/text.h"
#include "domain/time_format.h"
#include "domain/time_zone.h"

namespace todo::domain {

namespace {

constexpr std::array<std::string_view, 2> kStatusNames = {"pending", "completed"};
constexpr std::array<std::string_view, 3> kPriorityNames = {"low", "medium", "high"};
constexpr std::array<std::string_view, 3> kModeNames = {"due", "strict", "completion"};

template <class Enum, std::size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names, std::string_view text,
                               int first_value) {
  const auto it = std::find(names.begin(), names.end(), text);
  if (it == names.end()) return std::nullopt;
  return static_cast<Enum>(first_value + static_cast<int>(it - names.begin()));
}

// Cc in valid UTF-8: C0 controls and DEL are single bytes; C1 controls (U+0080..U+009F) are
// 0xC2 0x80..0x9F, and 0xC2 is only ever a lead byte.
bool has_control(std::string_view text, std::string_view allowed = {}) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte < 0x20 || byte == 0x7F) && allowed.find(text[i]) == std::string_view::npos) {
      return true;
    }
    if (byte == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

Error field_error(std::string field, std::string reason) {
  return validation_error({{std::move(field), std::move(reason)}});
}

Result<std::string> normalize_title(const Patch<std::string>& input) {
  if (input.is_null()) return field_error("title", "must not be null");
  if (!is_valid_utf8(input.value)) return field_error("title", "must be valid UTF-8");
  std::string title = trim(input.value);
  if (title.empty()) return field_error("title", "must not be empty");
  if (code_point_count(title) > kMaxTitleLength) {
    return field_error("title", "must be at most 200 characters");
  }
  if (has_control(title)) return field_error("title", "must not contain control characters");
  return title;
}

// The description is kept as written (line breaks and indentation matter to its reader); only a
// text of nothing but white space counts as no description.
Result<std::optional<std::string>> normalize_description(const std::string& text) {
  if (!is_valid_utf8(text)) return field_error("description", "must be valid UTF-8");
  if (code_point_count(text) > kMaxDescriptionLength) {
    return field_error("description", "must be at most 2000 characters");
  }
  if (has_control(text, "\n\t")) {
    return field_error("description",
                       "must not contain control characters other than line feed and tab");
  }
  if (trim(text).empty()) return std::optional<std::string>();
  return std::optional<std::string>(text);
}

std::optional<std::string> tag_problem(const std::string& tag) {
  if (tag.empty()) return "must not be empty";
  if (code_point_count(tag) > kMaxTagLength) return "must be at most 50 characters";
  if (has_control(tag)) return "must not contain control characters";
  return std::nullopt;
}

Result<std::vector<std::string>> normalize_tags(const std::vector<std::string>& input) {
  std::vector<FieldError> problems;
  std::vector<std::string> tags;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::string field = "tags[" + std::to_string(i) + "]";
    if (!is_valid_utf8(input[i])) {
      problems.push_back({field, "must be valid UTF-8"});
      continue;
    }
    std::string tag = lowercase(trim(input[i]));
    if (auto problem = tag_problem(tag)) {
      problems.push_back({field, std::move(*problem)});
    } else if (tags.size() <= kMaxTags &&  // beyond, already too many: no quadratic search
               std::find(tags.begin(), tags.end(), tag) == tags.end()) {
      tags.push_back(std::move(tag));
    }
  }
  if (tags.size() > kMaxTags) problems.push_back({"tags", "must have at most 10 different tags"});
  if (!problems.empty()) return validation_error(std::move(problems));
  return tags;
}

std::vector<int> sorted_unique(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

Result<std::vector<int>> normalize_reminders(const std::vector<std::int64_t>& input) {
  std::vector<FieldError> problems;
  std::vector<int> reminders;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (input[i] < 0 || input[i] > kMaxReminderOffsetMinutes) {
      problems.push_back({"reminders[" + std::to_string(i) + "]", "must be 0 to 40320 minutes"});
    } else {
      reminders.push_back(static_cast<int>(input[i]));
    }
  }
  reminders = sorted_unique(std::move(reminders));
  if (reminders.size() > kMaxReminders) {
    problems.push_back({"reminders", "must have at most 10 different reminders"});
  }
  if (!problems.empty()) return validation_error(std::move(problems));
  return reminders;
}

// A wall-clock reading without an offset, "YYYY-MM-DD" alone or with "THH:MM[:SS[.fraction]]".
struct WallTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, microsecond = 0;
  bool date_only = false;
};

std::optional<WallTime> parse_wall_time(std::string_view text) {
  const auto date = parse_date(text.substr(0, 10));
  if (!date) return std::nullopt;
  WallTime wall{date->year, date->month, date->day, 0, 0, 0, 0, text.size() == 10};
  if (wall.date_only) return wall;

  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  if (!hour || !minute || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || *hour > 23 ||
      *minute > 59) {
    return std::nullopt;
  }
  wall.hour = *hour;
  wall.minute = *minute;
  if (text.size() == 16) return wall;
  const auto second = read_digits(text, 17, 2);
  if (!second || text[16] != ':' || *second > 59) return std::nullopt;
  wall.second = *second;
  if (text.size() == 19) return wall;
  if (text[19] != '.' || text.size() == 20 || text.size() > 29) return std::nullopt;
  int micros = 0;
  for (std::size_t i = 20; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    if (i < 26) micros = micros * 10 + (text[i] - '0');  // beyond microseconds is truncated
  }
  for (std::size_t i = text.size(); i < 26; ++i) micros *= 10;
  wall.microsecond = micros;
  return wall;
}

// The instant a wall time names in the zone `zone_name` (a skipped time moves forward by the gap,
// a repeated one takes the earlier instant); nullopt when the catalog has no such zone.
std::optional<Timestamp> resolve_wall_time(const WallTime& wall, std::string_view zone_name,
                                           const ZoneCatalog& zones) {
  const std::shared_ptr<const TimeZone> zone = zones.find(zone_name);
  if (!zone) return std::nullopt;
  const LocalDateTime local{wall.year,   wall.month,  wall.day,        wall.hour,
                            wall.minute, wall.second, wall.microsecond};
  return zone->to_utc(local, Ambiguity::kEarliest);
}

// The state of due_at and all_day after an input.
struct DueState {
  std::optional<Timestamp> due_at;
  bool all_day = false;
};

// `zone` is the task's new time zone, nullopt when the input names an unknown one (reported on
// `timezone`; a wall time cannot be resolved then, so the due date is left alone).
Result<std::optional<DueState>> apply_due(const DueState& current, const TaskInput& input,
                                          bool replace, const std::optional<std::string>& zone,
                                          const ZoneCatalog& zones) {
  DueState next = replace ? DueState{} : current;
  bool date_only = false;
  if (input.due_date.is_null()) {
    next = DueState{};
  } else if (input.due_date.has_value()) {
    const std::string& text = input.due_date.value;
    if (const auto instant = parse_rfc3339(text)) {
      next = DueState{instant, false};
    } else if (const auto wall = parse_wall_time(text)) {
      if (!zone) return std::optional<DueState>();
      const auto resolved = resolve_wall_time(wall.value(), zone.value(), zones);
      if (!resolved) {
        return field_error("due_date", "cannot be read in the time zone " + zone.value());
      }
      date_only = wall->date_only;
      next = DueState{resolved, date_only};
    } else {
      return field_error("due_date",
                         "must be an RFC 3339 date-time, a local date-time "
                         "YYYY-MM-DDTHH:MM[:SS] or a date YYYY-MM-DD");
    }
  }

  if (input.all_day.is_null()) return field_error("all_day", "must be true or false");
  if (input.all_day.has_value()) {
    if (input.all_day.value && !next.due_at) return field_error("all_day", "requires a due date");
    if (!input.all_day.value && date_only) {
      return field_error("all_day", "cannot be false when due_date is a date without a time");
    }
    next.all_day = input.all_day.value;
  }
  return std::optional<DueState>(next);
}

// An enumeration field: absent keeps `current` (or takes `fallback` on replace); null and unknown
// names are errors.
template <class Enum, class Parse>
Result<Enum> apply_choice(const Patch<std::string>& input, Enum current, Enum fallback,
                          bool replace, Parse parse, const char* field, const char* reason) {
  if (input.is_absent()) return replace ? fallback : current;
  if (input.has_value()) {
    if (const auto parsed = parse(input.value)) return *parsed;
  }
  return field_error(field, reason);
}

// Gathers the field errors of every part of one input.
class Collector {
 public:
  // The value of `result`, or nullopt after noting its errors.
  template <class T>
  std::optional<T> take(Result<T> result) {
    if (result) return std::move(result.value());
    for (FieldError& e : result.error().fields) errors_.push_back(std::move(e));
    return std::nullopt;
  }
  void add(std::string field, std::string reason) {
    errors_.push_back({std::move(field), std::move(reason)});
  }
  bool empty() const { return errors_.empty(); }
  std::vector<FieldError> release() { return std::move(errors_); }

 private:
  std::vector<FieldError> errors_;
};

}  // namespace

std::optional<std::string> normalize_tag(std::string_view tag) {
  if (!is_valid_utf8(tag)) return std::nullopt;
  std::string normalized = lowercase(trim(tag));
  if (tag_problem(normalized)) return std::nullopt;
  return normalized;
}

std::string_view to_string(TaskStatus v) { return kStatusNames.at(static_cast<std::size_t>(v)); }
std::string_view to_string(Priority v) {
  return kPriorityNames.at(static_cast<std::size_t>(v) - 1);
}
std::string_view to_string(RecurrenceMode v) { return kModeNames.at(static_cast<std::size_t>(v)); }
std::optional<TaskStatus> parse_task_status(std::string_view text) {
  return parse_name<TaskStatus>(kStatusNames, text, 0);
}
std::optional<Priority> parse_priority(std::string_view text) {
  return parse_name<Priority>(kPriorityNames, text, 1);
}
std::optional<RecurrenceMode> parse_recurrence_mode(std::string_view text) {
  return parse_name<RecurrenceMode>(kModeNames, text, 0);
}

Result<Task> apply_task_input(const Task& base, const TaskInput& input, bool replace,
                              const TaskRules& rules) {
  Task task = base;
  Collector errors;

  if (input.title.is_absent()) {
    if (replace) errors.add("title", "is required");
  } else if (auto title = errors.take(normalize_title(input.title))) {
    task.title = std::move(*title);
  }

  if (input.description.has_value()) {
    if (auto description = errors.take(normalize_description(input.description.value))) {
      task.description = std::move(*description);
    }
  } else if (input.description.is_null() || replace) {
    task.description.reset();
  }

  if (auto status =
          errors.take(apply_choice(input.status, base.status, TaskStatus::kPending, replace,
                                   parse_task_status, "status", "must be pending or completed"))) {
    task.status = *status;
  }
  if (auto priority =
          errors.take(apply_choice(input.priority, base.priority, Priority::kMedium, replace,
                                   parse_priority, "priority", "must be high, medium or low"))) {
    task.priority = *priority;
  }

  if (input.tags.has_value()) {
    if (auto tags = errors.take(normalize_tags(input.tags.value))) task.tags = std::move(*tags);
  } else if (input.tags.is_null() || replace) {
    task.tags.clear();
  }

  // The time zone is settled before the due date, which may be a wall time in it.
  std::optional<std::string> zone = replace ? rules.owner.timezone : base.timezone;
  if (input.timezone.is_null()) {
    zone.reset();
  } else if (input.timezone.has_value()) {
    zone = input.timezone.value;
    if (!is_valid_utf8(*zone) || !rules.zones.contains(*zone)) zone.reset();
  }
  if (auto due =
          errors.take(apply_due({base.due_at, base.all_day}, input, replace, zone, rules.zones))) {
    if (due->has_value()) {
      task.due_at = due->value().due_at;
      task.all_day = due->value().all_day;
    }
  }
  if (zone) {
    task.timezone = *zone;
  } else {
    errors.add("timezone", "must be a known IANA time zone name such as Europe/Berlin");
  }

  bool recurrence_read = true;
  if (input.recurrence.has_value()) {
    if (auto recurrence = errors.take(normalize_recurrence(input.recurrence.value))) {
      task.recurrence = std::move(*recurrence);
    } else {
      recurrence_read = false;
    }
  } else if (input.recurrence.is_null() || replace) {
    task.recurrence.reset();
  }
  // A rule the engine cannot expand for this task (HOURLY; BYHOUR on an all-day task) is refused
  // when the rule or the due date is set, never on an unrelated change of an older task.
  const bool due_or_rule_set = replace || !input.recurrence.is_absent() ||
                               !input.due_date.is_absent() || !input.all_day.is_absent();
  if (task.recurrence && recurrence_read && due_or_rule_set) {
    errors.take(expandable_rule(*task.recurrence, task.due_at && !task.all_day));
  }
  if (auto mode = errors.take(apply_choice(
          input.recurrence_mode, base.recurrence_mode, RecurrenceMode::kDue, replace,
          parse_recurrence_mode, "recurrence_mode", "must be due, strict or completion"))) {
    task.recurrence_mode = *mode;
  }

  if (input.reminders.has_value()) {
    if (auto reminders = errors.take(normalize_reminders(input.reminders.value))) {
      task.reminders = std::move(*reminders);
    }
  } else if (input.reminders.is_null()) {
    task.reminders.clear();
  } else if (replace) {
    task.reminders = sorted_unique(rules.owner.default_reminders);
  }

  if (!input.type_errors.empty()) {
    // A field of the wrong type is absent from `input`, so a rule may have complained about it
    // missing: report the type error alone for that field.
    std::vector<FieldError> all = input.type_errors;
    for (FieldError& e : errors.release()) {
      bool reported = std::any_of(all.begin(), all.end(), [&](const FieldError& t) {
        return t.field == e.field || e.field.starts_with(t.field + "[");
      });
      if (!reported) all.push_back(std::move(e));
    }
    return validation_error(std::move(all));
  }
  if (!errors.empty()) return validation_error(errors.release());
  return task;
}

ChangedFields changed_fields(const Task& before, const Task& after) {
  ChangedFields changed;
  const auto check = [&changed](bool differs, const char* name) {
    if (differs) changed.emplace_back(name);
  };
  check(before.title != after.title, "title");
  check(before.description != after.description, "description");
  check(before.status != after.status, "status");
  check(before.priority != after.priority, "priority");
  check(before.tags != after.tags, "tags");
  check(before.due_at != after.due_at, "due_date");
  check(before.all_day != after.all_day, "all_day");
  check(before.timezone != after.timezone, "timezone");
  check(before.recurrence != after.recurrence, "recurrence");
  check(before.recurrence_mode != after.recurrence_mode, "recurrence_mode");
  check(before.reminders != after.reminders, "reminders");
  return changed;
}

std::vector<Timestamp> reminder_instants(const Task& task) {
  if (task.status == TaskStatus::kCompleted || task.deleted_at || !task.due_at) return {};
  const Timestamp due = task.due_at.value();
  std::vector<Timestamp> instants;
  instants.reserve(task.reminders.size());
  for (const int offset : task.reminders) instants.push_back(due - std::chrono::minutes(offset));
  std::sort(instants.begin(), instants.end());
  instants.erase(std::unique(instants.begin(), instants.end()), instants.end());
  return instants;
}

}  // namespace todo::domain

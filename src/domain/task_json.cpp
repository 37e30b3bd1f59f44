// The task object of the API (docs/api/tasks.md), also the snapshot inside events.
#include "domain/task_json.h"

#include <boost/json.hpp>

#include "domain/time_format.h"

namespace todo::domain {

namespace {

boost::json::value optional_text(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return boost::json::string(text.value());
}

boost::json::value optional_time(const std::optional<Timestamp>& time) {
  if (!time) return nullptr;
  return boost::json::string(format_rfc3339(time.value()));
}

}  // namespace

boost::json::object task_to_json(const Task& task) {
  boost::json::array tags;
  for (const std::string& tag : task.tags) tags.emplace_back(tag);
  boost::json::array reminders;
  for (const int minutes : task.reminders) reminders.emplace_back(minutes);
  return boost::json::object{
      {"id", task.id},
      {"user_id", task.user_id},
      {"title", task.title},
      {"description", optional_text(task.description)},
      {"status", to_string(task.status)},
      {"priority", to_string(task.priority)},
      {"tags", std::move(tags)},
      {"due_date", optional_time(task.due_at)},
      {"all_day", task.all_day},
      {"timezone", task.timezone},
      {"recurrence", optional_text(task.recurrence)},
      {"recurrence_mode", to_string(task.recurrence_mode)},
      {"series_id", optional_text(task.series_id)},
      {"reminders", std::move(reminders)},
      {"version", task.version},
      {"created_at", format_rfc3339(task.created_at)},
      {"updated_at", format_rfc3339(task.updated_at)},
      {"completed_at", optional_time(task.completed_at)},
  };
}

}  // namespace todo::domain

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

namespace {

// The task object is written as text between fixed fragments: the member names, colons and
// commas are constants, so only the values cost anything.
void append_optional_text(std::string& out, const std::optional<std::string>& text) {
  if (text) append_json_string(out, *text);
  else out.append("null");
}

void append_time(std::string& out, Timestamp time) {
  out.push_back('"');
  append_rfc3339(out, time);
  out.push_back('"');
}

void append_optional_time(std::string& out, const std::optional<Timestamp>& time) {
  if (time) append_time(out, *time);
  else out.append("null");
}

// An enumeration's name: letters only, nothing to escape.
void append_name(std::string& out, std::string_view name) {
  out.push_back('"');
  out.append(name);
  out.push_back('"');
}

// A JSON array of `items`, each written by `append_item(out, item)`.
template <class Items, class AppendItem>
void append_array(std::string& out, const Items& items, AppendItem append_item) {
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_item(out, items[i]);
  }
  out.push_back(']');
}

void append_tags(std::string& out, const Task& task) {
  append_array(out, task.tags,
               [](std::string& o, const std::string& tag) { append_json_string(o, tag); });
}

void append_reminders(std::string& out, const Task& task) {
  append_array(out, task.reminders,
               [](std::string& o, auto minutes) { append_json_integer(o, minutes); });
}

}  // namespace

void write_task_json(JsonWriter& w, const Task& task, TaskJsonStyle style) {
  std::string& out = w.raw_value();
  out.append(R"({"id":)");
  append_json_string(out, task.id);
  out.append(R"(,"user_id":)");
  append_json_string(out, task.user_id);
  out.append(R"(,"title":)");
  append_json_string(out, task.title);
  out.append(R"(,"description":)");
  append_optional_text(out, task.description);
  out.append(R"(,"status":)");
  append_name(out, to_string(task.status));
  out.append(R"(,"priority":)");
  append_name(out, to_string(task.priority));
  out.append(R"(,"tags":)");
  append_tags(out, task);
  out.append(R"(,"due_date":)");
  append_optional_time(out, task.due_at);
  out.append(task.all_day ? R"(,"all_day":true,"timezone":)" : R"(,"all_day":false,"timezone":)");
  append_json_string(out, task.timezone);
  out.append(R"(,"recurrence":)");
  if (!task.recurrence && style == TaskJsonStyle::kSeed) out.append(R"("none")");
  else append_optional_text(out, task.recurrence);
  out.append(R"(,"recurrence_mode":)");
  append_name(out, to_string(task.recurrence_mode));
  out.append(R"(,"series_id":)");
  append_optional_text(out, task.series_id);
  out.append(R"(,"reminders":)");
  append_reminders(out, task);
  out.append(R"(,"version":)");
  append_json_integer(out, task.version);
  out.append(R"(,"created_at":)");
  append_time(out, task.created_at);
  out.append(R"(,"updated_at":)");
  append_time(out, task.updated_at);
  out.append(R"(,"completed_at":)");
  append_optional_time(out, task.completed_at);
  out.push_back('}');
}

namespace {

// What append_optional_text or append_optional_time wrote: the value, or null.
TaskMember optional_member(bool present) { return present ? TaskMember::kValue : TaskMember::kNull; }

}  // namespace

TaskMember append_task_member(std::string& out, const Task& task, std::string_view name) {
  auto is = [&](std::string_view member) { return name == member; };
  if (is("id")) {
    append_json_string(out, task.id);
  } else if (is("user_id")) {
    append_json_string(out, task.user_id);
  } else if (is("title")) {
    append_json_string(out, task.title);
  } else if (is("description")) {
    append_optional_text(out, task.description);
    return optional_member(task.description.has_value());
  } else if (is("status")) {
    append_name(out, to_string(task.status));
  } else if (is("priority")) {
    append_name(out, to_string(task.priority));
  } else if (is("tags")) {
    append_tags(out, task);
  } else if (is("due_date")) {
    append_optional_time(out, task.due_at);
    return optional_member(task.due_at.has_value());
  } else if (is("all_day")) {
    out.append(task.all_day ? "true" : "false");
  } else if (is("timezone")) {
    append_json_string(out, task.timezone);
  } else if (is("recurrence")) {
    append_optional_text(out, task.recurrence);
    return optional_member(task.recurrence.has_value());
  } else if (is("recurrence_mode")) {
    append_name(out, to_string(task.recurrence_mode));
  } else if (is("series_id")) {
    append_optional_text(out, task.series_id);
    return optional_member(task.series_id.has_value());
  } else if (is("reminders")) {
    append_reminders(out, task);
  } else if (is("version")) {
    append_json_integer(out, task.version);
  } else if (is("created_at")) {
    append_time(out, task.created_at);
  } else if (is("updated_at")) {
    append_time(out, task.updated_at);
  } else if (is("completed_at")) {
    append_optional_time(out, task.completed_at);
    return optional_member(task.completed_at.has_value());
  } else {
    return TaskMember::kAbsent;
  }
  return TaskMember::kValue;
}

std::string task_json_text(const Task& task, TaskJsonStyle style) {
  std::string out;
  out.reserve(kTaskJsonSizeHint);
  JsonWriter w(out);
  write_task_json(w, task, style);
  return out;
}

}  // namespace todo::domain

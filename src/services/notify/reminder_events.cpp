// Parsing `reminders` events and rendering `com.todo.reminder.fired`.
#include "services/notify/reminder_events.h"

#include <algorithm>
#include <boost/json.hpp>

#include "bus/retry.h"
#include "domain/task_events.h"
#include "domain/time_format.h"

namespace todo::notify {
namespace {

namespace json = boost::json;

[[noreturn]] void refuse(const std::string& why) {
  throw bus::PermanentFailure("reminders event: " + why);
}

const json::object& member_object(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !v->is_object()) refuse(std::string(name) + " is not an object");
  return v->as_object();
}

std::string member_string(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !v->is_string() || v->as_string().empty()) {
    refuse(std::string(name) + " is not a non-empty string");
  }
  return std::string(v->as_string());
}

domain::Timestamp member_time(const json::object& o, std::string_view name) {
  auto t = domain::parse_rfc3339(member_string(o, name));
  if (!t) refuse(std::string(name) + " is not an RFC 3339 instant");
  return *t;
}

}  // namespace

ScheduleCommand parse_reminder_event(std::string_view payload) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(payload, ec);
  if (ec || !parsed.is_object()) refuse("not a JSON object");
  const json::object& event = parsed.as_object();
  const std::string type = member_string(event, "type");
  if (type != kScheduleType && type != kCancelType) refuse("unknown type " + type);

  ScheduleCommand command;
  command.cancel = type == kCancelType;
  command.event_time = member_time(event, "time");
  const json::object& data = member_object(event, "data");
  command.task_id = member_string(data, "task_id");
  command.user_id = member_string(data, "user_id");
  if (data.contains("due_date")) command.due_at = member_time(data, "due_date");
  if (command.cancel) return command;

  const json::value* times = data.if_contains("reminder_times");
  if (!times || !times->is_array()) refuse("reminder_times is not an array");
  for (const json::value& v : times->as_array()) {
    if (!v.is_string()) refuse("reminder_times holds a value that is not a string");
    auto t = domain::parse_rfc3339(v.as_string());
    if (!t) refuse("reminder_times holds a value that is not an RFC 3339 instant");
    if (*t > command.event_time) command.instants.push_back(*t);
  }
  std::sort(command.instants.begin(), command.instants.end());
  command.instants.erase(std::unique(command.instants.begin(), command.instants.end()),
                         command.instants.end());
  return command;
}

store::OutboxMessage reminder_fired_message(const FiredReminder& fired) {
  json::object data{
      {"task_id", fired.task_id},
      {"user_id", fired.user_id},
      {"reminder_id", fired.reminder_id},
      {"title", fired.title},
      {"fire_at", domain::format_rfc3339(fired.fire_at)},
      {"late", fired.late},
  };
  if (fired.due_at) data["due_date"] = domain::format_rfc3339(*fired.due_at);
  const json::object event{
      {"specversion", "1.0"},
      {"type", kFiredType},
      {"source", kEventSource},
      {"id", fired.event_id},
      {"time", domain::format_rfc3339(fired.time)},
      {"datacontenttype", "application/json"},
      {"subject", fired.task_id},
      {"data", std::move(data)},
  };
  return store::OutboxMessage{std::string(domain::kTaskUpdatesTopic),
                              domain::partition_for(fired.user_id, domain::kTaskUpdatesPartitions),
                              fired.user_id, fired.event_id, json::serialize(event)};
}

}  // namespace todo::notify

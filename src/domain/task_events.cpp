// Builds the CloudEvents of one task change for the outbox: task-events (the history),
// task-updates (live sync) and, when the pending reminder instants moved, reminders.
#include "domain/task_events.h"

#include <array>
#include <boost/json.hpp>
#include <cstdint>

#include "domain/ids.h"
#include "domain/recurrence_rule.h"
#include "domain/task_json.h"
#include "domain/time_format.h"

namespace todo::domain {

namespace {

namespace json = boost::json;

// The API fields a change can touch, in the order of the task object.
constexpr std::array<std::string_view, 11> kApiFields = {
    "title",   "description", "status",     "priority",        "tags",     "due_date",
    "all_day", "timezone",    "recurrence", "recurrence_mode", "reminders"};

// Kafka's Utils.murmur2 (MurmurHash2 with its fixed seed), on unsigned 32-bit words: the same
// bits as Java's wrapping int arithmetic, with >>> as >>.
std::uint32_t murmur2(std::string_view key) {
  constexpr std::uint32_t kSeed = 0x9747b28c;
  constexpr std::uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto byte = [&key](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(key[i]));
  };
  const std::size_t length = key.size();
  std::uint32_t h = kSeed ^ static_cast<std::uint32_t>(length);
  for (std::size_t i = 0; i + 4 <= length; i += 4) {
    std::uint32_t k = byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24;
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const std::size_t tail = length & ~std::size_t{3};
  switch (length % 4) {
    case 3:
      h ^= byte(tail + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte(tail + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte(tail);
      h *= kM;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return h;
}

json::array time_array(const std::vector<Timestamp>& times) {
  json::array out;
  for (const Timestamp t : times) out.emplace_back(format_rfc3339(t));
  return out;
}

json::array string_array(const std::vector<std::string>& values) {
  json::array out;
  for (const std::string& v : values) out.emplace_back(v);
  return out;
}

// The API names of the fields a new task has a value for (null counts as none).
std::vector<std::string> fields_with_value(const json::object& task) {
  std::vector<std::string> names;
  for (const std::string_view name : kApiFields) {
    if (!task.at(name).is_null()) names.emplace_back(name);
  }
  return names;
}

// The CloudEvents envelope around `make_data(id)`, the data of the event with that id.
template <class MakeData>
OutgoingEvent envelope(const TaskChange& change, RandomSource& random, std::string_view topic,
                       int partitions, std::string key, std::string type, MakeData make_data) {
  OutgoingEvent event;
  event.topic = std::string(topic);
  event.partition = partition_for(key, partitions);
  event.key = std::move(key);
  event.id = new_uuid_v7(change.time, random);
  event.type = std::move(type);
  const json::object cloud_event{
      {"specversion", "1.0"},
      {"type", event.type},
      {"source", change.source},
      {"id", event.id},
      {"time", format_rfc3339(change.time)},
      {"datacontenttype", "application/json"},
      {"subject", change.after.id},
      {"data", make_data(event.id)},
  };
  event.json = json::serialize(cloud_event);
  return event;
}

// payload of a task-events event: the task as the system we replace published it, optional
// members absent rather than null.
json::object event_payload(const Task& task, const std::vector<std::string>& changed) {
  json::object payload;
  payload["title"] = task.title;
  if (task.description) payload["description"] = task.description.value();
  payload["status"] = to_string(task.status);
  payload["priority"] = to_string(task.priority);
  payload["tags"] = string_array(task.tags);
  if (task.due_at) payload["due_date"] = format_rfc3339(task.due_at.value());
  payload["timezone"] = task.timezone;
  if (task.recurrence) {
    const RecurrenceSummary summary = summarize_recurrence(task.recurrence.value());
    payload["recurring_pattern"] = summary.pattern;
    payload["recurring_interval"] = summary.interval;
    payload["rrule"] = summary.rrule;
  }
  payload["recurrence_mode"] = to_string(task.recurrence_mode);
  json::array reminders;
  for (const int minutes : task.reminders) reminders.emplace_back(minutes);
  payload["reminders"] = std::move(reminders);
  if (task.series_id) payload["series_id"] = task.series_id.value();
  payload["changed_fields"] = string_array(changed);
  return payload;
}

// `after_json` is task_to_json(change.after), rendered once for both task events.
OutgoingEvent task_event(const TaskChange& change, const json::object& after_json,
                         RandomSource& random) {
  const Task& after = change.after;
  std::vector<std::string> changed;
  json::object before;
  if (change.action == TaskAction::kCreated) {
    changed = fields_with_value(after_json);
  } else if (change.action != TaskAction::kDeleted) {
    changed = change.changed;
    if (change.before) {
      const json::object before_json = task_to_json(change.before.value());
      for (const std::string& name : changed) {
        // An old value that was empty is left out, like every absent value in events.
        const json::value* old = before_json.if_contains(name);
        if (old && !old->is_null()) before[name] = *old;
      }
    }
  }
  return envelope(change, random, kTaskEventsTopic, kTaskEventsPartitions, after.id,
                  "com.todo.task." + std::string(to_string(change.action)),
                  [&](const std::string& id) {
                    return json::object{
                        {"task_id", after.id},         {"user_id", after.user_id},
                        {"sequence", after.version},   {"idempotency_key", id},
                        {"actor", change.actor},       {"payload", event_payload(after, changed)},
                        {"before", std::move(before)},
                    };
                  });
}

OutgoingEvent sync_event(const TaskChange& change, const json::object& after_json,
                         std::int64_t user_seq, RandomSource& random) {
  const Task& after = change.after;
  json::object changed;
  if (change.action == TaskAction::kCreated) {
    for (const std::string_view name : kApiFields) changed[name] = after_json.at(name);
  } else if (change.action != TaskAction::kDeleted) {
    for (const std::string& name : change.changed) {
      if (const json::value* now = after_json.if_contains(name)) changed[name] = *now;
    }
  }
  return envelope(change, random, kTaskUpdatesTopic, kTaskUpdatesPartitions, after.user_id,
                  "com.todo.task.sync", [&](const std::string&) {
                    json::object data{
                        {"task_id", after.id},
                        {"user_id", after.user_id},
                        {"sequence", after.version},
                        {"user_seq", user_seq},
                        {"action", to_string(change.action)},
                        {"changed_fields", std::move(changed)},
                    };
                    if (change.action != TaskAction::kDeleted) data["task"] = after_json;
                    return data;
                  });
}

std::optional<OutgoingEvent> reminder_event(const TaskChange& change, RandomSource& random) {
  const Task& after = change.after;
  const std::vector<Timestamp> previous =
      change.before ? reminder_instants(change.before.value()) : std::vector<Timestamp>{};
  const std::vector<Timestamp> next = reminder_instants(after);
  if (previous == next) return std::nullopt;
  const bool cancel = next.empty();
  return envelope(change, random, kRemindersTopic, kRemindersPartitions, after.id,
                  cancel ? "com.todo.reminder.cancel" : "com.todo.reminder.schedule",
                  [&](const std::string&) {
                    json::object data{
                        {"task_id", after.id}, {"user_id", after.user_id}, {"title", after.title}};
                    if (after.due_at) data["due_date"] = format_rfc3339(after.due_at.value());
                    if (!cancel) data["reminder_time"] = format_rfc3339(next.front());
                    data["reminder_times"] = time_array(next);
                    data["notification_channels"] = json::array{"email"};
                    if (change.owner != nullptr) {
                      const User& owner = *change.owner;
                      data["user_email"] = owner.reminder_email.value_or(owner.email);
                    }
                    data["timezone"] = after.timezone;
                    return data;
                  });
}

}  // namespace

int partition_for(std::string_view key, int partitions) {
  if (partitions <= 1) return 0;
  return static_cast<int>((murmur2(key) & 0x7fffffffU) % static_cast<std::uint32_t>(partitions));
}

std::string_view to_string(TaskAction action) {
  switch (action) {
    case TaskAction::kCreated:
      return "created";
    case TaskAction::kUpdated:
      return "updated";
    case TaskAction::kCompleted:
      return "completed";
    case TaskAction::kDeleted:
      return "deleted";
  }
  return "updated";
}

namespace {

std::vector<OutgoingEvent> render_events(const TaskChange& change, std::int64_t user_seq,
                                         RandomSource& random) {
  std::vector<OutgoingEvent> events;
  const json::object after_json = task_to_json(change.after);
  events.push_back(task_event(change, after_json, random));
  events.push_back(sync_event(change, after_json, user_seq, random));
  if (auto reminders = reminder_event(change, random)) events.push_back(std::move(*reminders));
  return events;
}

// Rendered in place of the change counter and then cut out: no counter has this value, and
// "user_seq": followed by it cannot occur inside a JSON string (the quotes would be escaped).
constexpr std::int64_t kUserSeqPlaceholder = -7'340'987'112'096'541;

}  // namespace

std::vector<OutgoingEvent> task_change_events(const TaskChange& change, RandomSource& random) {
  return render_events(change, change.user_seq, random);
}

std::string PendingEvent::json(std::int64_t user_seq) const {
  if (!has_user_seq) return json_head;
  std::string out;
  const std::string number = std::to_string(user_seq);
  out.reserve(json_head.size() + number.size() + json_tail.size());
  out += json_head;
  out += number;
  out += json_tail;
  return out;
}

std::vector<PendingEvent> pending_task_change_events(const TaskChange& change,
                                                     RandomSource& random) {
  static const std::string marker = "\"user_seq\":" + std::to_string(kUserSeqPlaceholder);
  std::vector<PendingEvent> out;
  for (OutgoingEvent& event : render_events(change, kUserSeqPlaceholder, random)) {
    PendingEvent pending{std::move(event.topic), event.partition, std::move(event.key),
                         std::move(event.id),    std::move(event.type), {}, {}, false};
    const auto at = event.json.find(marker);
    if (at == std::string::npos) {
      pending.json_head = std::move(event.json);
    } else {
      const auto value = at + marker.size() - std::to_string(kUserSeqPlaceholder).size();
      pending.json_head = event.json.substr(0, value);
      pending.json_tail = event.json.substr(at + marker.size());
      pending.has_user_seq = true;
    }
    out.push_back(std::move(pending));
  }
  return out;
}

}  // namespace todo::domain

// Builds the CloudEvents of one task change for the outbox: task-events (the history),
// task-updates (live sync) and, when the pending reminder instants moved, reminders.
#include "domain/task_events.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "domain/ids.h"
#include "domain/json_writer.h"
#include "domain/recurrence_rule.h"
#include "domain/task_json.h"
#include "domain/time_format.h"

namespace todo::domain {

namespace {

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

// The CloudEvents envelope around the data `write_data(out, id)` appends, the data of the event
// with that id. Written as text: byte for byte what boost::json::serialize wrote for the same
// object (tests/unit/domain/task_events_bytes_test.cpp keeps that rendering as the reference).
template <class WriteData>
OutgoingEvent envelope(const TaskChange& change, RandomSource& random, std::string_view topic,
                       int partitions, std::string key, std::string type, WriteData write_data) {
  OutgoingEvent event;
  event.topic = std::string(topic);
  event.partition = partition_for(key, partitions);
  event.key = std::move(key);
  event.id = new_uuid_v7(change.time, random);
  event.type = std::move(type);
  std::string& out = event.json;
  out.reserve(2 * kTaskJsonSizeHint);
  out.append(R"({"specversion":"1.0","type":)");
  append_json_string(out, event.type);
  out.append(R"(,"source":)");
  append_json_string(out, change.source);
  out.append(R"(,"id":)");
  append_json_string(out, event.id);
  out.append(R"(,"time":")");
  append_rfc3339(out, change.time);
  out.append(R"(","datacontenttype":"application/json","subject":)");
  append_json_string(out, change.after.id);
  out.append(R"(,"data":)");
  JsonWriter data(out);
  write_data(data, event.id);
  out.push_back('}');
  return event;
}

void write_time(JsonWriter& w, Timestamp time) {
  std::string& out = w.raw_value();
  out.push_back('"');
  append_rfc3339(out, time);
  out.push_back('"');
}

// Member `name` of the task object as a member of the object `w` is in, when the task has it and
// it passes `keep`; names already written are skipped (a JSON object holds a name once: the DOM
// this replaces overwrote the value in place, with the same value).
template <class Keep>
void write_member(JsonWriter& w, const Task& task, std::string_view name,
                  std::vector<std::string_view>& written, Keep keep) {
  if (std::find(written.begin(), written.end(), name) != written.end()) return;
  std::string value;
  const TaskMember member = append_task_member(value, task, name);
  if (member == TaskMember::kAbsent || !keep(member)) return;
  written.push_back(name);
  w.key(name).raw_value().append(value);
}

// payload of a task-events event: the task as the system we replace published it, optional
// members absent rather than null.
void write_event_payload(JsonWriter& w, const Task& task, const std::vector<std::string>& changed) {
  w.begin_object();
  w.key("title").string(task.title);
  if (task.description) w.key("description").string(*task.description);
  w.key("status").string(to_string(task.status));
  w.key("priority").string(to_string(task.priority));
  w.key("tags").begin_array();
  for (const std::string& tag : task.tags) w.string(tag);
  w.end_array();
  if (task.due_at) write_time(w.key("due_date"), *task.due_at);
  w.key("timezone").string(task.timezone);
  if (task.recurrence) {
    const RecurrenceSummary summary = summarize_recurrence(task.recurrence.value());
    w.key("recurring_pattern").string(summary.pattern);
    w.key("recurring_interval").integer(summary.interval);
    w.key("rrule").string(summary.rrule);
  }
  w.key("recurrence_mode").string(to_string(task.recurrence_mode));
  w.key("reminders").begin_array();
  for (const int minutes : task.reminders) w.integer(minutes);
  w.end_array();
  if (task.series_id) w.key("series_id").string(*task.series_id);
  w.key("changed_fields").begin_array();
  for (const std::string& name : changed) w.string(name);
  w.end_array();
  w.end_object();
}

OutgoingEvent task_event(const TaskChange& change, RandomSource& random) {
  const Task& after = change.after;
  std::vector<std::string> changed;
  if (change.action == TaskAction::kCreated) {
    // The API names of the fields the new task has a value for (null counts as none).
    std::string scratch;
    for (const std::string_view name : kApiFields) {
      scratch.clear();
      if (append_task_member(scratch, after, name) == TaskMember::kValue) {
        changed.emplace_back(name);
      }
    }
  } else if (change.action != TaskAction::kDeleted) {
    changed = change.changed;
  }
  return envelope(change, random, kTaskEventsTopic, kTaskEventsPartitions, after.id,
                  "com.todo.task." + std::string(to_string(change.action)),
                  [&](JsonWriter& w, const std::string& id) {
                    w.begin_object();
                    w.key("task_id").string(after.id);
                    w.key("user_id").string(after.user_id);
                    w.key("sequence").integer(after.version);
                    w.key("idempotency_key").string(id);
                    w.key("actor").string(change.actor);
                    w.key("payload");
                    write_event_payload(w, after, changed);
                    w.key("before").begin_object();
                    if (change.action != TaskAction::kCreated &&
                        change.action != TaskAction::kDeleted && change.before) {
                      // An old value that was empty is left out, like every absent value.
                      std::vector<std::string_view> written;
                      for (const std::string& name : changed) {
                        write_member(w, *change.before, name, written,
                                     [](TaskMember m) { return m == TaskMember::kValue; });
                      }
                    }
                    w.end_object();
                    w.end_object();
                  });
}

OutgoingEvent sync_event(const TaskChange& change, std::int64_t user_seq, RandomSource& random) {
  const Task& after = change.after;
  return envelope(change, random, kTaskUpdatesTopic, kTaskUpdatesPartitions, after.user_id,
                  "com.todo.task.sync", [&](JsonWriter& w, const std::string&) {
                    w.begin_object();
                    w.key("task_id").string(after.id);
                    w.key("user_id").string(after.user_id);
                    w.key("sequence").integer(after.version);
                    w.key("user_seq").integer(user_seq);
                    w.key("action").string(to_string(change.action));
                    w.key("changed_fields").begin_object();
                    std::vector<std::string_view> written;
                    auto any = [](TaskMember) { return true; };
                    if (change.action == TaskAction::kCreated) {
                      for (const std::string_view name : kApiFields) {
                        write_member(w, after, name, written, any);
                      }
                    } else if (change.action != TaskAction::kDeleted) {
                      for (const std::string& name : change.changed) {
                        write_member(w, after, name, written, any);
                      }
                    }
                    w.end_object();
                    if (change.action != TaskAction::kDeleted) {
                      w.key("task");
                      write_task_json(w, after);
                    }
                    w.end_object();
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
                  [&](JsonWriter& w, const std::string&) {
                    w.begin_object();
                    w.key("task_id").string(after.id);
                    w.key("user_id").string(after.user_id);
                    w.key("title").string(after.title);
                    if (after.due_at) write_time(w.key("due_date"), *after.due_at);
                    if (!cancel) write_time(w.key("reminder_time"), next.front());
                    w.key("reminder_times").begin_array();
                    for (const Timestamp t : next) write_time(w, t);
                    w.end_array();
                    w.key("notification_channels").begin_array().string("email").end_array();
                    if (change.owner != nullptr) {
                      const User& owner = *change.owner;
                      w.key("user_email").string(owner.reminder_email.value_or(owner.email));
                    }
                    w.key("timezone").string(after.timezone);
                    w.end_object();
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
  events.push_back(task_event(change, random));
  events.push_back(sync_event(change, user_seq, random));
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

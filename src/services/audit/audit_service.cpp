// Turns task-events CloudEvents into hash-chained audit entries, and reads, verifies and purges
// the chain.
#include "services/audit/audit_service.h"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <stdexcept>

#include "auth/tokens.h"
#include "bus/retry.h"
#include "domain/recurrence_rule.h"
#include "domain/time_format.h"
#include "domain/user.h"
#include "store/user_repository.h"

namespace todo::services::audit {
namespace {

namespace json = boost::json;

constexpr std::string_view kTypePrefix = "com.todo.";
constexpr int kVerifyPage = 1000;

// A malformed event never becomes well-formed by retrying: it goes to the dead letters at once.
[[noreturn]] void malformed(std::string_view why) {
  throw bus::PermanentFailure("malformed task event: " + std::string(why));
}

// "data." + "task_id": the member's path in the CloudEvent, for the error.
std::string path(std::string_view where, std::string_view name) {
  return std::string(where) + std::string(name);
}

const json::value& member(const json::object& o, std::string_view name, std::string_view where) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) malformed(path(where, name) + " is missing");
  return *v;
}

std::string text_member(const json::object& o, std::string_view name, std::string_view where) {
  const json::value& v = member(o, name, where);
  if (!v.is_string() || v.as_string().empty()) {
    malformed(path(where, name) + " must be a non-empty string");
  }
  return std::string(v.as_string());
}

const json::object& object_member(const json::object& o, std::string_view name,
                                  std::string_view where) {
  const json::value& v = member(o, name, where);
  if (!v.is_object()) malformed(path(where, name) + " must be an object");
  return v.as_object();
}

std::int64_t integer_member(const json::object& o, std::string_view name, std::string_view where) {
  const json::value& v = member(o, name, where);
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.as_uint64());
  }
  malformed(path(where, name) + " must be an integer");
}

// An old value as the entry records it: a recurrence in the RRULE form the snapshot carries.
json::value old_value(std::string_view field, const json::value& old) {
  if (field == "recurrence" && old.is_string()) {
    const std::string rrule = domain::summarize_recurrence(old.as_string()).rrule;
    return json::value(std::string_view(rrule));
  }
  return old;
}

// The new value of a changed field, from the snapshot. Two API fields are carried differently by
// the event: `recurrence` as `rrule`, and `all_day` not at all — it is a boolean that changed, so
// its new value is the opposite of the old one.
std::optional<json::value> new_value(std::string_view field, const json::object& snapshot,
                                     const json::object& before) {
  if (field == "recurrence") {
    if (const json::value* rrule = snapshot.if_contains("rrule")) return *rrule;
    return std::nullopt;
  }
  if (field == "all_day") {
    const json::value* old = before.if_contains("all_day");
    if (old && old->is_bool()) return json::value(!old->as_bool());
    return std::nullopt;
  }
  if (const json::value* now = snapshot.if_contains(field)) return *now;
  return std::nullopt;
}

// {"task": snapshot without changed_fields, "changes": {field: {"old"?, "new"?}}}: a value that
// was or became empty is absent, as in the event. A created task has no changes: its snapshot is
// the whole new state (the event names every field with a value as changed).
std::string entry_payload(const json::object& data, bool created) {
  json::object task = object_member(data, "payload", "data.");
  const json::value* before_value = data.if_contains("before");
  if (before_value && !before_value->is_object()) malformed("data.before must be an object");
  const json::object empty;
  const json::object& before = before_value ? before_value->as_object() : empty;
  const json::value* changed = task.if_contains("changed_fields");
  if (changed == nullptr || !changed->is_array()) {
    malformed("data.payload.changed_fields must be an array");
  }
  json::object changes;
  for (const json::value& name_value : changed->as_array()) {
    if (!name_value.is_string() || name_value.as_string().empty()) {
      malformed("data.payload.changed_fields must hold field names");
    }
    if (created) continue;
    const std::string_view name = name_value.as_string();
    json::object change;
    if (const json::value* old = before.if_contains(name)) change["old"] = old_value(name, *old);
    if (auto now = new_value(name, task, before)) change["new"] = std::move(*now);
    changes[name] = std::move(change);
  }
  task.erase("changed_fields");
  return json::serialize(json::object{{"task", std::move(task)}, {"changes", std::move(changes)}});
}

store::AuditEntry entry_from_event(const bus::Event& event) {
  boost::system::error_code ec;
  json::value parsed = json::parse(event.payload, ec);
  if (ec) malformed("not JSON: " + ec.message());
  if (!parsed.is_object()) malformed("not a JSON object");
  const json::object& cloud_event = parsed.as_object();

  store::AuditEntry e;
  e.event_id = text_member(cloud_event, "id", "");
  const std::string type = text_member(cloud_event, "type", "");
  if (!type.starts_with(kTypePrefix) || !is_event_type(type.substr(kTypePrefix.size()))) {
    malformed("type " + type + " is not a task event");
  }
  e.event_type = type.substr(kTypePrefix.size());
  const auto time = domain::parse_rfc3339(text_member(cloud_event, "time", ""));
  if (!time) malformed("time is not an RFC 3339 instant");
  e.event_time = *time;

  const json::object& data = object_member(cloud_event, "data", "");
  e.task_id = text_member(data, "task_id", "data.");
  e.user_id = text_member(data, "user_id", "data.");
  e.actor = text_member(data, "actor", "data.");
  e.sequence = integer_member(data, "sequence", "data.");
  e.payload = entry_payload(data, e.event_type == "task.created");
  return e;
}

}  // namespace

bool is_event_type(std::string_view text) {
  return std::find(std::begin(kEventTypes), std::end(kEventTypes), text) != std::end(kEventTypes);
}

namespace {

// canonical_entry() is written in pieces, so that the consumer can write the ones it knows before
// the transaction (prepare_entry) and the writer thread only the rest (complete_entry).
// ,"event_id":…,"event_time":N,"recorded_at":
std::string canonical_after_id(const store::AuditEntry& e) {
  std::string middle = json::serialize(json::object{
      {"event_id", e.event_id},
      {"event_type", e.event_type},
      {"user_id", e.user_id},
      {"actor", e.actor},
      {"task_id", e.task_id},
      {"sequence", e.sequence},
      {"event_time", domain::to_micros(e.event_time)},
  });
  middle.front() = ',';  // {"event_id":…,"event_time":N} → ,"event_id":…,"event_time":N,
  middle.back() = ',';
  return middle + "\"recorded_at\":";
}

// ,"payload":"…","prev_hash":
std::string canonical_after_recorded_at(const store::AuditEntry& e) {
  return ",\"payload\":" + json::serialize(json::string(e.payload)) + ",\"prev_hash\":";
}

// Appends the canonical bytes of the entry with these values to `out`.
void append_canonical(std::string& out, std::int64_t id, std::string_view after_id,
                      domain::Timestamp recorded_at, std::string_view after_recorded_at,
                      std::string_view prev_hash) {
  out += "{\"id\":";
  out += std::to_string(id);
  out += after_id;
  out += std::to_string(domain::to_micros(recorded_at));
  out += after_recorded_at;
  out += json::serialize(json::string(prev_hash));
  out += '}';
}

}  // namespace

std::string canonical_entry(const store::AuditEntry& e) {
  std::string out;
  append_canonical(out, e.id, canonical_after_id(e), e.recorded_at,
                   canonical_after_recorded_at(e), e.prev_hash);
  return out;
}

std::string entry_hash(const store::AuditEntry& e) {
  return auth::sha256_hex(e.prev_hash + canonical_entry(e));
}

AuditService::AuditService(store::Database& database, const domain::Clock& clock)
    : database_(database), clock_(clock) {}

PreparedEntry prepare_entry(const bus::Event& event) {
  PreparedEntry p;
  p.entry = entry_from_event(event);
  p.canonical_after_id = canonical_after_id(p.entry);
  p.canonical_after_recorded_at = canonical_after_recorded_at(p.entry);
  return p;
}

store::AuditEntry complete_entry(const PreparedEntry& prepared, std::int64_t head_id,
                                 std::string prev_hash, domain::Timestamp recorded_at) {
  store::AuditEntry entry = prepared.entry;
  entry.id = head_id + 1;
  entry.prev_hash = std::move(prev_hash);
  entry.recorded_at = recorded_at;
  std::string text = entry.prev_hash;  // the hash covers prev_hash, then the canonical bytes
  text.reserve(entry.prev_hash.size() * 2 + prepared.canonical_after_id.size() +
               prepared.canonical_after_recorded_at.size() + 64);
  append_canonical(text, entry.id, prepared.canonical_after_id, entry.recorded_at,
                   prepared.canonical_after_recorded_at, entry.prev_hash);
  entry.hash = auth::sha256_hex(text);
  return entry;
}

void AuditService::handle(const bus::Event& event, store::Transaction& tx) {
  apply(prepare_entry(event), tx);
}

void AuditService::apply(const PreparedEntry& prepared, store::Transaction& tx) {
  auto head = entries_.head_unless_recorded(tx, prepared.entry.event_id);
  if (!head) return;
  const store::AuditEntry entry =
      complete_entry(prepared, head->id, std::move(head->hash), clock_.now());
  entries_.append(tx, entry);
}

bool AuditService::is_admin(std::string_view user_id) {
  auto user = store::read_value(database_, [&](store::Transaction& s) {
    return store::UserRepository{}.find_by_id(s, user_id);
  });
  return user && user->role == domain::Role::kAdmin;
}

AuditPage AuditService::list(store::AuditQuery query) {
  const auto limit = static_cast<std::size_t>(query.limit);
  query.limit += 1;  // one more tells whether another page follows
  AuditPage page;
  page.items =
      store::read_value(database_, [&](store::Transaction& s) { return entries_.query(s, query); });
  page.has_more = page.items.size() > limit;
  if (page.has_more) page.items.resize(limit);
  return page;
}

VerifyReport AuditService::verify() {
  VerifyReport report;
  database_.read([&](store::Transaction& s) {
    const store::AuditAnchor anchor = entries_.anchor(s);
    report.anchor = anchor.hash;
    if (auto range = entries_.id_range(s)) {
      report.oldest_id = range->first;
      report.newest_id = range->second;
    }
    std::string expected_prev = anchor.hash;
    std::int64_t after = std::numeric_limits<std::int64_t>::min();
    for (;;) {
      const auto page = entries_.page_after(s, after, kVerifyPage);
      for (const store::AuditEntry& e : page) {
        ++report.entries_checked;
        std::string_view broken;
        if (e.prev_hash != expected_prev) {
          broken = kPrevHashMismatch;
        } else if (entry_hash(e) != e.hash) {
          broken = kHashMismatch;
        }
        if (!broken.empty()) {
          report.valid = false;
          report.first_broken = BrokenLink{e.id, std::string(broken)};
          return;
        }
        expected_prev = e.hash;
      }
      if (page.size() < static_cast<std::size_t>(kVerifyPage)) return;
      after = page.back().id;
    }
  });
  return report;
}

std::int64_t AuditService::purge(std::chrono::microseconds older_than) {
  const domain::Timestamp now = clock_.now();
  return store::write_value(
      database_, [&](store::Transaction& s) { return entries_.purge(s, now - older_than, now); });
}

}  // namespace todo::services::audit

// Frames of /ws/tasks written as text (domain::JsonWriter); client messages parsed strictly.
#include "services/sync/frames.h"

#include <boost/json.hpp>

#include "domain/json_writer.h"

namespace todo::services::sync {
namespace {

namespace json = boost::json;

constexpr std::string_view kTypePrefix = "com.todo.";
constexpr std::string_view kTaskSync = "com.todo.task.sync";

const json::string* string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v ? v->if_string() : nullptr;
}

std::optional<std::int64_t> integer_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  return std::nullopt;
}

// A value of the event, as Boost.JSON writes it.
void append_value(domain::JsonWriter& w, const json::value& value) {
  w.raw_value() += json::serialize(value);
}

}  // namespace

// The event is parsed (it must be checked anyway), but the frame is written straight as text:
// no second document is built from the first one's values (the task's whole subtree was copied
// into it before). Byte for byte what serializing that document gave (differential test).
std::optional<Frame> frame_from_event(std::string_view cloud_event) {
  boost::system::error_code ec;
  json::value parsed = json::parse(cloud_event, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& event = parsed.as_object();
  const json::string* type = string_member(event, "type");
  const json::value* data_value = event.if_contains("data");
  if (!type || !data_value || !data_value->is_object()) return std::nullopt;
  const json::object& data = data_value->as_object();
  const json::string* user_id = string_member(data, "user_id");
  if (!user_id || user_id->empty()) return std::nullopt;

  Frame frame;
  frame.user_id = std::string(*user_id);
  frame.seq = integer_member(data, "user_seq");
  frame.text.reserve(cloud_event.size());
  domain::JsonWriter w(frame.text);
  w.begin_object();
  if (*type == kTaskSync) {
    const json::string* action = string_member(data, "action");
    const json::string* task_id = string_member(data, "task_id");
    if (!action || !task_id || !frame.seq) return std::nullopt;
    std::string frame_type = "task.";
    frame_type += std::string_view(*action);
    w.key("type").string(frame_type);
    w.key("seq").integer(*frame.seq);
    w.key("task_id").string(*task_id);
    if (const json::value* task = data.if_contains("task")) append_value(w.key("task"), *task);
    w.key("changed_fields");
    if (const json::value* changed = data.if_contains("changed_fields")) {
      append_value(w, *changed);
    } else {
      w.begin_object().end_object();
    }
  } else {
    // Anything else on task-updates (com.todo.reminder.fired today) goes out as its data, typed
    // by the CloudEvent type without the prefix; its seq too when it has one (a "seq" of the data
    // takes that place, as it did when the frame was a document whose "seq" it replaced).
    std::string_view kind = *type;
    if (kind.starts_with(kTypePrefix)) kind.remove_prefix(kTypePrefix.size());
    w.key("type").string(kind);
    if (frame.seq) {
      w.key("seq");
      if (const json::value* seq = data.if_contains("seq")) {
        append_value(w, *seq);
      } else {
        w.integer(*frame.seq);
      }
    }
    for (const auto& member : data) {
      if (member.key() == "type" || member.key() == "user_seq") continue;
      if (frame.seq && member.key() == "seq") continue;  // written above
      append_value(w.key(member.key()), member.value());
    }
  }
  w.end_object();
  return frame;
}

std::string hello_frame(std::int64_t seq) {
  std::string out;
  domain::JsonWriter(out).begin_object().key("type").string("hello").key("seq").integer(seq)
      .end_object();
  return out;
}

std::string pong_frame() { return R"({"type":"pong"})"; }

std::string resync_required_frame(std::int64_t since, std::string_view reason) {
  std::string out;
  domain::JsonWriter(out)
      .begin_object()
      .key("type")
      .string("resync-required")
      .key("since")
      .integer(since)
      .key("reason")
      .string(reason)
      .end_object();
  return out;
}

std::string error_frame(std::string_view code, std::string_view message) {
  std::string out;
  domain::JsonWriter(out)
      .begin_object()
      .key("type")
      .string("error")
      .key("code")
      .string(code)
      .key("message")
      .string(message)
      .end_object();
  return out;
}

ClientMessage parse_client_message(std::string_view text) {
  if (text == "ping") return LegacyPing{};
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) return Invalid{"invalid-json", "The message is not valid JSON."};
  if (!parsed.is_object()) return Invalid{"invalid-json", "The message must be a JSON object."};
  const json::object& message = parsed.as_object();
  const json::string* type = string_member(message, "type");
  if (!type) return Invalid{"invalid-field", "type: must be a string"};
  if (*type == "ping") return Ping{};
  if (*type == "resume") {
    auto since = integer_member(message, "since");
    if (!since || *since < 0) {
      return Invalid{"invalid-field", "since: must be an integer >= 0 (the last seq you have)"};
    }
    return Resume{*since};
  }
  if (*type == "auth") {
    const json::string* token = string_member(message, "token");
    if (!token || token->empty())
      return Invalid{"invalid-field", "token: must be a non-empty string"};
    return Auth{std::string(*token)};
  }
  return Invalid{"unknown-type", "type: unknown message type; expected resume, ping or auth"};
}

}  // namespace todo::services::sync

// Frames of /ws/tasks rendered with Boost.JSON; client messages parsed strictly.
#include "services/sync/frames.h"

#include <boost/json.hpp>

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

}  // namespace

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
  json::object out;
  if (*type == kTaskSync) {
    const json::string* action = string_member(data, "action");
    const json::string* task_id = string_member(data, "task_id");
    if (!action || !task_id || !frame.seq) return std::nullopt;
    out["type"] = "task." + std::string(*action);
    out["seq"] = *frame.seq;
    out["task_id"] = *task_id;
    if (const json::value* task = data.if_contains("task")) out["task"] = *task;
    const json::value* changed = data.if_contains("changed_fields");
    out["changed_fields"] = changed ? *changed : json::value(json::object{});
  } else {
    // Anything else on task-updates (com.todo.reminder.fired today) goes out as its data, typed
    // by the CloudEvent type without the prefix; its seq too when it has one.
    std::string_view kind = *type;
    if (kind.starts_with(kTypePrefix)) kind.remove_prefix(kTypePrefix.size());
    out["type"] = kind;
    if (frame.seq) out["seq"] = *frame.seq;
    for (const auto& member : data) {
      if (member.key() == "type" || member.key() == "user_seq") continue;
      out[member.key()] = member.value();
    }
  }
  frame.text = json::serialize(out);
  return frame;
}

std::string hello_frame(std::int64_t seq) {
  return json::serialize(json::object{{"type", "hello"}, {"seq", seq}});
}

std::string pong_frame() { return R"({"type":"pong"})"; }

std::string resync_required_frame(std::int64_t since, std::string_view reason) {
  return json::serialize(
      json::object{{"type", "resync-required"}, {"since", since}, {"reason", reason}});
}

std::string error_frame(std::string_view code, std::string_view message) {
  return json::serialize(json::object{{"type", "error"}, {"code", code}, {"message", message}});
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

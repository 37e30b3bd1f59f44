// The frames of /ws/tasks (DESIGN §4, docs/api/websocket.md): what the server sends, rendered from
// task-updates CloudEvents, and what a client may send, parsed. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/clock.h"

namespace todo::services::sync {

// One server → client frame of a user's change stream.
struct Frame {
  std::string user_id;
  std::optional<std::int64_t> seq;  // the user's change counter; absent on frames outside it
  std::string text;                 // the JSON sent
  domain::Timestamp time{};         // the event's time (for the fan-out latency)
};

// A task-updates CloudEvent as a frame: com.todo.task.sync → task.<action> with seq, task_id,
// changed_fields and task (absent on delete); any other com.todo.<kind> → {"type":"<kind>", …its
// data members} (reminder.fired). nullopt when the event is not a CloudEvent with a user_id.
std::optional<Frame> frame_from_event(std::string_view cloud_event);

std::string hello_frame(std::int64_t seq);
std::string pong_frame();
std::string resync_required_frame(std::int64_t since, std::string_view reason);
// {"type":"error","code":…,"message":…}: the connection stays open.
std::string error_frame(std::string_view code, std::string_view message);

// Client → server.
struct Resume {
  std::int64_t since = 0;
};
struct Ping {};
struct LegacyPing {};  // the literal text `ping`: answered with the text `pong`
struct Auth {
  std::string token;
};
struct Invalid {
  std::string code;  // invalid-json, unknown-type, invalid-field
  std::string message;
};
using ClientMessage = std::variant<Resume, Ping, LegacyPing, Auth, Invalid>;

ClientMessage parse_client_message(std::string_view text);

}  // namespace todo::services::sync

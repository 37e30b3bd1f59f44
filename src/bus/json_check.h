// Whether an event's payload is one JSON object, checked without building it: every consumer
// checks each event it gets before its handler parses what it needs, and a DOM built for the
// check alone cost a create about 150,000 instructions (four consumers, one event each).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace todo::bus {

// nullopt when `payload` is one JSON object as boost::json::parse accepts it with its default
// options (no comments, no trailing commas, valid UTF-8, at most 32 levels deep, nothing after
// it); else why not: "the event is not JSON: <Boost.JSON's message>" or "the event is not a JSON
// object".
std::optional<std::string> json_object_problem(std::string_view payload);

}  // namespace todo::bus

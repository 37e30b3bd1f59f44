// A bus whose broker pushes events to the application over HTTP (the Dapr bus): what the
// application's routes call. Plain data in and out, no HTTP types: the app turns the answers into
// responses (problem+json for the failures) in one place.
#pragma once

#include <string>
#include <string_view>

#include "bus/dapr_settings.h"

namespace todo::bus {

struct PushAnswer {
  enum class Kind {
    kStatus,        // HTTP 200 with dapr_status_body(status)
    kInvalid,       // 400: the body is not a structured CloudEvent; `field` says what is wrong
    kUnknownTopic,  // 404: no subscription of this process consumes the topic
  };
  Kind kind = Kind::kStatus;
  DaprStatus status = DaprStatus::kSuccess;
  std::string field;
  std::string reason;
};

class PushDelivery {
 public:
  virtual ~PushDelivery() = default;
  // The body of GET /dapr/subscribe: Dapr's programmatic subscriptions of this process.
  virtual std::string subscriptions_json() const = 0;
  // POST /dapr/events/{topic}: every durable group of this process that consumes the topic.
  virtual PushAnswer deliver(std::string_view topic, std::string_view body) = 0;
  // POST /dapr/fanout/{topic}: the ephemeral subscriptions of the topic (at most once).
  virtual PushAnswer deliver_fanout(std::string_view topic, std::string_view body) = 0;
  // The token the sidecar must present (empty: none is checked).
  virtual const std::string& app_token() const = 0;
};

// The routes of the two deliveries.
inline std::string dapr_event_route(std::string_view topic) {
  return "/dapr/events/" + std::string(topic);
}
inline std::string dapr_fanout_route(std::string_view topic) {
  return "/dapr/fanout/" + std::string(topic);
}

}  // namespace todo::bus

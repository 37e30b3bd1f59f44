// How to reach the Dapr sidecar (the --dapr-* flags) and the pieces of Dapr's pub/sub contract
// that are plain data: the publish URL, the subscriber's answer, the pushed CloudEvent. No I/O
// here, so the configuration, the bus and the HTTP routes share it and unit tests cover it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace todo::bus {

struct DaprSettings {
  std::string host = "127.0.0.1";
  int http_port = 3500;                // DAPR_HTTP_PORT, as the sidecar injector sets it
  std::string pubsub = "todo-pubsub";  // the component durable groups consume and the relay uses
  // The component of ephemeral (fan-out) subscriptions: its consumerGroup must differ per replica
  // (e.g. {podName}), so every replica of the sync role sees every update.
  std::string fanout_pubsub = "todo-pubsub-fanout";
  std::string api_token;  // sent to the sidecar as dapr-api-token (DAPR_API_TOKEN); a secret
  std::string app_token;  // the sidecar must send it to us as dapr-api-token (APP_API_TOKEN)
  std::chrono::milliseconds publish_timeout{10000};
};

// nullopt when `name` can be a Dapr component name (a DNS label: a-z, 0-9, '-', 1-63 characters,
// starting and ending with a letter or digit), else what is wrong.
std::optional<std::string> dapr_component_name_problem(std::string_view name);

// http://<host>:<port>/v1.0/publish/<pubsub>/<topic>?metadata.partitionKey=<key> — the key keeps
// Kafka's per-key order (the Kafka component uses it as the message key). Host, pubsub and topic
// are taken as they are (validated at start); the key is percent-encoded.
std::string dapr_publish_url(const DaprSettings& settings, std::string_view topic,
                             std::string_view key);

// The subscriber's answer (HTTP 200 with {"status": ...}), as Dapr's pub/sub contract defines it:
// SUCCESS: processed; RETRY: not processed, deliver again; DROP: never processable, discard.
enum class DaprStatus { kSuccess, kRetry, kDrop };
std::string_view to_string(DaprStatus status);    // "SUCCESS", "RETRY", "DROP"
std::string dapr_status_body(DaprStatus status);  // {"status":"SUCCESS"}

// What a publish attempt came to: the sidecar's HTTP status (204 = delivered), or 0 with `error`
// when there was no answer (refused, timed out).
struct DaprPublishResult {
  long status = 0;
  std::string error;
  bool delivered() const { return status == 204; }
};

// One POST to the sidecar. The bus does not link an HTTP client: the application passes this in
// (the libcurl client of the notification channels), and tests pass a fake.
struct DaprPublishRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};
using DaprPublisher = std::function<DaprPublishResult(const DaprPublishRequest&)>;

// The extension attributes the relay adds to each published CloudEvent, so a pushed event still
// names its outbox partition, offset and key (dead letters and logs show them); removed again
// before a handler sees the event. CloudEvents extension names: lower-case letters and digits.
inline constexpr std::string_view kPartitionAttribute = "todopartition";
inline constexpr std::string_view kOffsetAttribute = "todooffset";
inline constexpr std::string_view kKeyAttribute = "todokey";

// The published body: the outbox row's CloudEvent with the three extension attributes. A payload
// that is not a JSON object is sent as it is (the consumers dead-letter it).
std::string dapr_publish_body(std::string_view cloud_event, int partition, std::int64_t offset,
                              std::string_view key);

// A CloudEvent as the sidecar pushed it, back in the shape the outbox had.
struct PushedCloudEvent {
  std::string id;
  std::string payload;  // without Dapr's attributes (topic, pubsubname, trace*) and ours
  int partition = 0;
  std::int64_t offset = -1;  // -1: not published by our relay
  std::string key;
};
struct PushedCloudEventError {
  std::string field;  // "body", "id", "specversion", "type", "source"
  std::string reason;
};
// Parses and checks the structured-mode CloudEvent 1.0 the sidecar pushed.
std::variant<PushedCloudEvent, PushedCloudEventError> parse_pushed_cloud_event(
    std::string_view body);

}  // namespace todo::bus

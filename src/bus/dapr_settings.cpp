// Dapr's pub/sub contract as plain data: URLs, answers, and the pushed CloudEvent's envelope.
#include "bus/dapr_settings.h"

#include <boost/json.hpp>
#include <cctype>

namespace todo::bus {
namespace {

// Attributes the sidecar adds to a CloudEvent it delivers (Dapr's pub/sub envelope).
constexpr std::string_view kDaprAttributes[] = {"topic",       "pubsubname", "traceid",
                                                "traceparent", "tracestate", "expiration"};

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

const boost::json::string* string_member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v ? v->if_string() : nullptr;
}

}  // namespace

std::optional<std::string> dapr_component_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 63) return "must be 1 to 63 characters";
  for (unsigned char c : name) {
    if (!(std::islower(c) || std::isdigit(c) || c == '-')) {
      return "may contain only a-z, 0-9 and '-'";
    }
  }
  if (name.front() == '-' || name.back() == '-') return "must start and end with a letter or digit";
  return std::nullopt;
}

std::string dapr_publish_url(const DaprSettings& settings, std::string_view topic,
                             std::string_view key) {
  std::string url = "http://" + settings.host + ":" + std::to_string(settings.http_port) +
                    "/v1.0/publish/" + settings.pubsub + "/" + std::string(topic);
  if (!key.empty()) url += "?metadata.partitionKey=" + percent_encode(key);
  return url;
}

std::string_view to_string(DaprStatus status) {
  switch (status) {
    case DaprStatus::kSuccess:
      return "SUCCESS";
    case DaprStatus::kRetry:
      return "RETRY";
    case DaprStatus::kDrop:
      return "DROP";
  }
  return "RETRY";
}

std::string dapr_status_body(DaprStatus status) {
  return R"({"status":")" + std::string(to_string(status)) + R"("})";
}

std::string dapr_publish_body(std::string_view cloud_event, int partition, std::int64_t offset,
                              std::string_view key) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(cloud_event, ec);
  if (ec || !parsed.is_object()) return std::string(cloud_event);
  auto& o = parsed.as_object();
  o[kPartitionAttribute] = partition;
  o[kOffsetAttribute] = offset;
  o[kKeyAttribute] = key;
  return boost::json::serialize(parsed);
}

std::variant<PushedCloudEvent, PushedCloudEventError> parse_pushed_cloud_event(
    std::string_view body) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(body, ec);
  if (ec) return PushedCloudEventError{"body", "is not JSON: " + ec.message()};
  auto* o = parsed.if_object();
  if (!o) return PushedCloudEventError{"body", "must be a JSON object (a structured CloudEvent)"};
  const auto* specversion = string_member(*o, "specversion");
  if (!specversion || *specversion != "1.0") {
    return PushedCloudEventError{"specversion", "must be \"1.0\""};
  }
  const auto* id = string_member(*o, "id");
  if (!id || id->empty()) return PushedCloudEventError{"id", "must be a non-empty string"};
  for (std::string_view name : {"type", "source"}) {
    const auto* value = string_member(*o, name);
    if (!value || value->empty()) {
      return PushedCloudEventError{std::string(name), "must be a non-empty string"};
    }
  }
  PushedCloudEvent out;
  out.id = std::string(*id);
  if (const auto* v = o->if_contains(kPartitionAttribute)) {
    if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > 1'000'000) {
      return PushedCloudEventError{std::string(kPartitionAttribute),
                                   "must be a non-negative integer"};
    }
    out.partition = static_cast<int>(v->as_int64());
  }
  if (const auto* v = o->if_contains(kOffsetAttribute)) {
    if (!v->is_int64() || v->as_int64() < 0) {
      return PushedCloudEventError{std::string(kOffsetAttribute), "must be a non-negative integer"};
    }
    out.offset = v->as_int64();
  }
  if (const auto* v = o->if_contains(kKeyAttribute)) {
    if (!v->is_string())
      return PushedCloudEventError{std::string(kKeyAttribute), "must be a string"};
    out.key = std::string(v->as_string());
  }
  for (std::string_view name : kDaprAttributes) o->erase(name);
  for (std::string_view name : {kPartitionAttribute, kOffsetAttribute, kKeyAttribute}) {
    o->erase(name);
  }
  out.payload = boost::json::serialize(parsed);
  return out;
}

}  // namespace todo::bus

// librdkafka client configuration and topic administration for the Kafka bus's relay and
// consumers.
#include "bus/kafka_client.h"

#include <boost/json.hpp>
#include <stdexcept>

#include "log/log.h"

namespace todo::bus {

std::optional<std::string> kafka_security_protocol_problem(std::string_view value) {
  if (value == "plaintext" || value == "ssl" || value == "sasl_plaintext" || value == "sasl_ssl") {
    return std::nullopt;
  }
  return "must be one of plaintext, ssl, sasl_plaintext, sasl_ssl";
}

std::optional<std::string> kafka_sasl_mechanism_problem(std::string_view value) {
  if (value == "PLAIN" || value == "SCRAM-SHA-256" || value == "SCRAM-SHA-512") return std::nullopt;
  return "must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512";
}

bool kafka_uses_sasl(std::string_view security_protocol) {
  return security_protocol == "sasl_plaintext" || security_protocol == "sasl_ssl";
}

namespace kafka {
namespace {

void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    throw std::invalid_argument("kafka: property " + name + " refused: " + error);
  }
}

// librdkafka's own log lines go through ours. Its level 3 (a broker that cannot be reached,
// repeated at every reconnect) is a warning here: the bus goes on and says so in its own lines.
void log_callback(const rd_kafka_t*, int level, const char* facility, const char* message) {
  if (level <= 2) {
    log::error("librdkafka", {{"facility", facility}, {"message", message}});
  } else if (level <= 5) {
    log::warn("librdkafka", {{"facility", facility}, {"message", message}});
  } else {
    log::debug("librdkafka", {{"facility", facility}, {"message", message}});
  }
}

}  // namespace

Conf make_conf(const KafkaSettings& settings,
               const std::vector<std::pair<std::string, std::string>>& extra) {
  Conf conf(rd_kafka_conf_new());
  set(conf.get(), "bootstrap.servers", settings.brokers);
  set(conf.get(), "security.protocol", settings.security_protocol);
  if (kafka_uses_sasl(settings.security_protocol)) {
    set(conf.get(), "sasl.mechanisms", settings.sasl_mechanism);
    set(conf.get(), "sasl.username", settings.username);
    set(conf.get(), "sasl.password", settings.password);
  }
  if (!settings.ca_file.empty()) set(conf.get(), "ssl.ca.location", settings.ca_file);
  rd_kafka_conf_set_log_cb(conf.get(), log_callback);
  for (const auto& [name, value] : extra) set(conf.get(), name, value);
  return conf;
}

Handle make_client(rd_kafka_type_t type, Conf conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (rk == nullptr)
    throw std::runtime_error(std::string("kafka: cannot create a client: ") + error);
  conf.release();  // rd_kafka_new owns it now
  return Handle(rk);
}

namespace {

// topic -> partition count, of the topics in `wanted` that exist; nullopt when the cluster did not
// answer.
std::optional<std::map<std::string, int>> existing_topics(
    rd_kafka_t* rk, const std::map<std::string, int, std::less<>>& wanted,
    std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &metadata,
                                     static_cast<int>(timeout.count()));
  if (err) {
    log::warn("kafka: could not read the cluster's topics", {{"error", rd_kafka_err2str(err)}});
    return std::nullopt;
  }
  std::map<std::string, int> out;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && wanted.contains(std::string_view(t.topic))) {
      out[t.topic] = t.partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return out;
}

bool create_topics(rd_kafka_t* rk, const std::vector<std::pair<std::string, int>>& missing,
                   std::chrono::milliseconds timeout) {
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const auto& [name, count] : missing) {
    // -1: the broker's default replication factor.
    topics.push_back(rd_kafka_NewTopic_new(name.c_str(), count, -1, error, sizeof error));
  }
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), error,
                                            sizeof error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, topics.data(), topics.size(), options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
  bool ok = false;
  if (event == nullptr) {
    log::warn("kafka: no answer to CreateTopics");
  } else if (rd_kafka_event_error(event)) {
    log::warn("kafka: CreateTopics failed", {{"error", rd_kafka_event_error_string(event)}});
  } else {
    ok = true;
    const auto* result = rd_kafka_event_CreateTopics_result(event);
    std::size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        log::info("kafka: topic created", {{"topic", rd_kafka_topic_result_name(results[i])}});
      } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {  // another process was faster
        ok = false;
        const char* message = rd_kafka_topic_result_error_string(results[i]);
        log::warn("kafka: could not create a topic",
                  {{"topic", rd_kafka_topic_result_name(results[i])},
                   {"error", message != nullptr ? message : rd_kafka_err2str(err)}});
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(options);
  for (auto* t : topics) rd_kafka_NewTopic_destroy(t);
  return ok;
}

}  // namespace

bool ensure_topics(rd_kafka_t* rk, const std::map<std::string, int, std::less<>>& partitions,
                   std::chrono::milliseconds timeout) {
  const auto existing = existing_topics(rk, partitions, timeout);
  if (!existing) return false;
  bool ok = true;
  std::vector<std::pair<std::string, int>> missing;
  for (const auto& [topic, count] : partitions) {
    const auto found = existing->find(topic);
    if (found == existing->end()) {
      missing.emplace_back(topic, count);
    } else if (found->second < count) {
      // The relay maps outbox partition n to Kafka partition n: the missing ones stay unshipped.
      log::error("kafka: a topic has fewer partitions than the bus needs; add partitions",
                 {{"topic", topic}, {"partitions", found->second}, {"needed", count}});
      ok = false;
    }
  }
  if (!missing.empty() && !create_topics(rk, missing, timeout)) ok = false;
  return ok;
}

CloudEventAttributes cloud_event_attributes(const std::string& payload) {
  CloudEventAttributes out;
  boost::system::error_code ec;
  const auto value = boost::json::parse(payload, ec);
  if (ec || !value.is_object()) return out;
  const auto& object = value.get_object();
  auto field = [&](const char* name) -> std::string {
    const auto* v = object.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  out.id = field("id");
  out.type = field("type");
  out.source = field("source");
  out.specversion = field("specversion");
  return out;
}

}  // namespace kafka
}  // namespace todo::bus

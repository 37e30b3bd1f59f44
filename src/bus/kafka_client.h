// What the Kafka bus's parts share about librdkafka: owning handles, the client configuration made
// from KafkaSettings, topic creation, and the CloudEvent headers. Included by src/bus/kafka_*.cpp
// only, so librdkafka stays out of every widely included header.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bus/kafka_settings.h"

namespace todo::bus::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// The client configuration of the cluster (brokers, TLS, SASL) plus `extra` properties. Throws
// std::invalid_argument naming the property librdkafka refused (never its value: it may be the
// password).
Conf make_conf(const KafkaSettings& settings,
               const std::vector<std::pair<std::string, std::string>>& extra);

// A client of `type` from `conf` (taken). Throws std::runtime_error when librdkafka refuses.
Handle make_client(rd_kafka_type_t type, Conf conf);

// Creates the topics of `partitions` (topic -> partition count) that the cluster lacks, asking
// for them with CreateTopics, and checks the partition counts of those that exist. Logs what it
// could not do and returns false then (the bus goes on: an operator or the broker may create
// them). Blocks up to about twice `timeout`.
bool ensure_topics(rd_kafka_t* rk, const std::map<std::string, int, std::less<>>& partitions,
                   std::chrono::milliseconds timeout);

// The CloudEvent attributes a relayed message carries as headers (ce_id, ce_type, ce_source,
// ce_specversion), read from the structured-mode JSON; absent ones are empty.
struct CloudEventAttributes {
  std::string id, type, source, specversion;
};
CloudEventAttributes cloud_event_attributes(const std::string& payload);

inline constexpr const char* kCloudEventsContentType = "application/cloudevents+json";

}  // namespace todo::bus::kafka

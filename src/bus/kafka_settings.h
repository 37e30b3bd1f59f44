// How to reach a Kafka cluster (the --kafka-* flags), without any librdkafka type: the
// configuration and the bus factory include this, only src/bus/kafka_*.cpp include librdkafka.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace todo::bus {

struct KafkaSettings {
  std::string brokers;                          // host:port,…
  std::string security_protocol = "plaintext";  // plaintext | ssl | sasl_plaintext | sasl_ssl
  std::string sasl_mechanism = "PLAIN";         // PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
  std::string username;
  std::string password;  // a secret: never logged
  std::string ca_file;   // PEM file of the CAs to trust (TLS); empty: the system's
  // The relay's producer is idempotent (no duplicate from its own retries, order kept with several
  // requests in flight). Off for brokers that refuse idempotent producers (Oracle Streaming): then
  // one request in flight keeps the order, and a retried send may write a duplicate, which
  // consumers drop by event id as they drop a relay restart's.
  bool idempotence = true;
  // The longest a consumer's fetch waits at the broker when it has nothing new (librdkafka's
  // fetch.wait.max.ms). A real broker answers as soon as an event arrives; librdkafka's mock
  // cluster answers an empty fetch only after this wait, so there it bounds the delivery latency.
  std::chrono::milliseconds fetch_wait{500};
  // Waiting for a CreateTopics answer at start; the bus goes on without it (the topics may be
  // created by an operator, or by the broker on first use).
  std::chrono::milliseconds admin_timeout{10000};
  // A group member silent this long is dropped and its partitions reassigned (librdkafka's
  // session.timeout.ms; the mock cluster also waits this long for a member that left).
  std::chrono::milliseconds session_timeout{45000};
};

// nullopt when `value` is one of the accepted values, else what is wrong (for a flag's error).
std::optional<std::string> kafka_security_protocol_problem(std::string_view value);
std::optional<std::string> kafka_sasl_mechanism_problem(std::string_view value);
// True for sasl_plaintext and sasl_ssl.
bool kafka_uses_sasl(std::string_view security_protocol);

}  // namespace todo::bus

// The Kafka broker of the tests: librdkafka's mock cluster (a real Kafka protocol peer) in a
// process of its own, so a test can take it down, bring it back and kill it like a real broker.
// Prints the bootstrap servers as one line, then obeys one command a line on stdin and answers
// each with one line ("ok" or "error: ..."), so a test knows when it took effect:
//   down <broker id>        the broker stops answering (connections are closed)
//   up <broker id>          it answers again
//   topic <name> <count>    creates a topic with <count> partitions
// and exits on "quit" or when stdin closes. Usage: kafka_mock_broker [broker count, default 1]
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  const int brokers = argc > 1 ? std::atoi(argv[1]) : 1;
  if (brokers < 1) {
    std::cerr << "usage: kafka_mock_broker [broker count >= 1]\n";
    return 2;
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) {
    std::cerr << "kafka_mock_broker: " << error << '\n';
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::cerr << "kafka_mock_broker: could not create the mock cluster\n";
    return 1;
  }
  std::cout << rd_kafka_mock_cluster_bootstraps(cluster) << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (command == "quit") {
      break;
    } else if (command == "down" || command == "up") {
      int id = 0;
      in >> id;
      err = command == "down" ? rd_kafka_mock_broker_set_down(cluster, id)
                              : rd_kafka_mock_broker_set_up(cluster, id);
    } else if (command == "topic") {
      std::string name;
      int partitions = 0;
      in >> name >> partitions;
      err = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
    } else if (command.empty()) {
      continue;
    } else {
      std::cout << "error: unknown command " << command << std::endl;
      continue;
    }
    if (err) {
      std::cout << "error: " << rd_kafka_err2str(err) << std::endl;
    } else {
      std::cout << "ok" << std::endl;
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}

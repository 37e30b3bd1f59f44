// The Kafka broker of the bus tests: tests/support/kafka_mock_broker (librdkafka's mock cluster)
// as a child process. Each command waits for the helper's answer, so when down() returns the
// broker is down. Destroying it closes the helper's stdin, which ends it, and reaps it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

extern char** environ;

namespace todo::bus::testing {

class KafkaMockProcess {
 public:
  explicit KafkaMockProcess(int brokers = 1) {
    int to_child[2];
    int from_child[2];
    // Close-on-exec: a process the test starts later (the PostgreSQL server) must not inherit
    // the helper's stdin, or closing ours would never end it.
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    std::string program = TODO_KAFKA_MOCK_BROKER;
    std::string count = std::to_string(brokers);
    char* argv[] = {program.data(), count.data(), nullptr};
    const int rc = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (rc != 0) throw std::runtime_error("cannot start " + program);
    to_ = ::fdopen(to_child[1], "w");
    from_ = ::fdopen(from_child[0], "r");
    brokers_ = read_line();
    if (brokers_.empty()) throw std::runtime_error("the mock broker printed no address");
  }
  ~KafkaMockProcess() {
    if (to_ != nullptr) {
      std::fputs("quit\n", to_);
      std::fclose(to_);  // end of stdin: the helper exits
    }
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    if (from_ != nullptr) std::fclose(from_);
  }
  KafkaMockProcess(const KafkaMockProcess&) = delete;
  KafkaMockProcess& operator=(const KafkaMockProcess&) = delete;

  const std::string& brokers() const { return brokers_; }

  // Sends one command and returns the helper's answer ("ok" or "error: ...").
  std::string command(const std::string& line) {
    std::fputs((line + "\n").c_str(), to_);
    std::fflush(to_);
    return read_line();
  }
  void create_topic(const std::string& name, int partitions) {
    expect_ok(command("topic " + name + " " + std::to_string(partitions)));
  }
  void down(int broker = 1) { expect_ok(command("down " + std::to_string(broker))); }
  void up(int broker = 1) { expect_ok(command("up " + std::to_string(broker))); }

 private:
  static void expect_ok(const std::string& answer) {
    if (answer != "ok") throw std::runtime_error("mock broker: " + answer);
  }
  std::string read_line() {
    std::string line;
    for (int c = std::fgetc(from_); c != EOF && c != '\n'; c = std::fgetc(from_)) {
      line.push_back(static_cast<char>(c));
    }
    return line;
  }

  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  std::string brokers_;
};

}  // namespace todo::bus::testing

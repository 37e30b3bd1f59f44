// Starts one of tests/notify_peers/*.py on a free port and reads what it reports: its hello line,
// then one JSON record per request it checked. The peer exits when we close its stdin.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace todo::notify::testing {

class Peer {
 public:
  Peer(const std::string& script, std::vector<std::string> args) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string path = std::string(TODO_UNIT_TESTS_DIR) + "/../notify_peers/" + script;
    args.insert(args.begin(), {"/usr/bin/python3", path});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (rc != 0) throw std::runtime_error("cannot start " + path);
    hello_ = next();
  }
  ~Peer() {
    ::close(stdin_);
    ::close(stdout_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const boost::json::object& hello() const { return hello_; }
  std::string port() const { return std::to_string(hello_.at("port").as_int64()); }
  std::string origin() const { return "http://127.0.0.1:" + port(); }

  // The next line the peer prints, waiting at most 20 s (it prints one per request it answered).
  boost::json::object next() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return boost::json::parse(line).as_object();
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{stdout_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0) {
        throw std::runtime_error("the peer reported nothing in time");
      }
      char chunk[4096];
      ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("the peer exited");
      buffer_.append(chunk, std::size_t(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string buffer_;
  boost::json::object hello_;
};

inline std::string text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

inline std::string errors_of(const boost::json::object& record) {
  return boost::json::serialize(record.at("errors"));
}

}  // namespace todo::notify::testing

#include "services/notify/channel.h"

namespace todo::notify::testing {

inline Reminder sample_reminder(std::string delivery_id = "0190f0a1-7c1d-7000-8000-000000000001") {
  Reminder r;
  r.delivery_id = std::move(delivery_id);
  r.user_id = "0190f0a1-7c1d-7000-8000-0000000000aa";
  r.task_id = "0190f0a1-7c1d-7000-8000-0000000000bb";
  r.title = "Pay the <rent> — «Miete» 🏠";
  r.due_at_utc = "2026-12-07T08:00:00.000Z";
  r.due_local = "Mon 7 Dec 2026, 09:00 (Europe/Berlin)";
  r.fire_at_utc = "2026-12-07T07:45:00.000Z";
  r.task_url = "https://todo.example.com/tasks/0190f0a1-7c1d-7000-8000-0000000000bb";
  return r;
}

}  // namespace todo::notify::testing

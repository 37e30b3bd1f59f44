// A relay between a pool under test and the test server's Unix socket that can drop every
// connection the way an immediate shutdown (pg_ctl -m immediate) does: each backend sends a
// WARNING notice (SQLSTATE 57P01, not an error) and its socket closes. Killing the shared test
// server's backends that way would restart the whole server; the relay drops only its own.
#pragma once

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace todo::store::testing {

class PostgresRelay {
 public:
  // `url`: a URL of PostgresTestServer (host=<socket directory>&port=<port>).
  explicit PostgresRelay(const std::string& url);
  ~PostgresRelay();
  PostgresRelay(const PostgresRelay&) = delete;
  PostgresRelay& operator=(const PostgresRelay&) = delete;

  // `url` with the relay's socket directory in place of the server's.
  const std::string& url() const { return url_; }

  // Sends the notice to every client connection open now and closes it and its server side;
  // returns once that is done. Connections made afterwards are relayed as before.
  void drop_all_like_an_immediate_shutdown();

  // Client connections accepted since the relay started.
  int connections_accepted() const { return accepted_.load(); }

 private:
  struct Pair {
    int client;
    int server;
  };
  void run();
  void accept_one();
  bool forward(int from, int to);  // false once `from` is closed or failed
  void drop_all();

  std::filesystem::path directory_;   // the relay's socket directory
  std::filesystem::path server_socket_;
  std::string url_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: one byte per command
  std::mutex mutex_;
  std::vector<std::promise<void>> drops_;  // commands waiting for the relay thread
  bool stopping_ = false;
  std::vector<Pair> pairs_;  // the relay thread's alone
  std::atomic<int> accepted_ = 0;
  std::thread thread_;
};

}  // namespace todo::store::testing

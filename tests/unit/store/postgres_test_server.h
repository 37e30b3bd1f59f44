// A real PostgreSQL server for the store tests: started once per test binary from Debian's
// binaries (initdb, postgres) into a temporary directory, reachable only through a Unix socket
// in that directory, and gone when the binary exits, even when it crashes (docs/adr/0019).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

namespace todo::store::testing {

class PostgresTestServer {
 public:
  // The server of this test binary, started on first use. Throws std::runtime_error (with the
  // server's log) when it cannot be started: the tests that need it then fail, never skip.
  static PostgresTestServer& instance();

  // A connection URL to a schema of its own for `key` (a test's temporary path): the first call
  // for a key creates an empty schema, later calls for it return the same one.
  std::string url_for(const std::string& key);

  // A URL to the test database with no schema of its own (search_path left as is).
  std::string admin_url() const;

  ~PostgresTestServer();
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

 private:
  PostgresTestServer();
  void start();
  void stop();  // the server and the temporary directory; idempotent
  void create_database();
  std::string url(const std::string& database, const std::string& options) const;

  std::filesystem::path base_;  // the socket directory; data/ and the logs are inside
  pid_t postmaster_ = -1;
  std::mutex mutex_;
  std::map<std::string, std::string> schemas_;  // key -> schema name
};

}  // namespace todo::store::testing

// The store tests' PostgreSQL server: initdb and postgres from /usr/lib/postgresql/15/bin, run
// as an unprivileged user (initdb refuses root), with the Unix socket in the temporary directory
// and no TCP listener at all, so no port is ever taken or raced for.
#include "postgres_test_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace todo::store::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kUser = "todo-test-pg";  // the server's user when the tests run as root
constexpr const char* kDatabase = "todo_test";
// The socket directory of the server a test process started, set in its environment for the
// processes it starts: a gtest death-test child ("threadsafe" style re-executes the binary) joins
// its parent's server, so it can open the very schema the parent made, instead of starting one.
constexpr const char* kServerDirEnv = "TODO_TEST_PG_SERVER_DIR";

struct RunAs {
  uid_t uid;
  gid_t gid;
};

// Root: the dedicated system user (created when missing). Anyone else: themselves. ctest runs
// test processes side by side: while one adds the user, another's useradd fails on the lock of
// /etc/passwd, so it looks again (for at most 60 s) until the user is there.
RunAs server_user() {
  if (::geteuid() != 0) return {::geteuid(), ::getegid()};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    if (const passwd* pw = ::getpwnam(kUser)) return {pw->pw_uid, pw->pw_gid};
    const std::string command = std::string("useradd --system --no-create-home --shell ") +
                                "/usr/sbin/nologin " + kUser + " >/dev/null 2>&1";
    if (std::system(command.c_str()) == 0) continue;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(std::string("cannot create the user ") + kUser);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Forks and execs `args` as `user` with stdout and stderr appended to `log`. With
// `die_with_parent`, the child gets SIGQUIT (PostgreSQL's immediate shutdown) when the thread
// that forked it ends, i.e. when the test binary exits or crashes.
pid_t spawn(const std::vector<std::string>& args, const RunAs& user,
            const std::filesystem::path& log, bool die_with_parent) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (::geteuid() == 0 && (::setgid(user.gid) != 0 || ::setuid(user.uid) != 0)) ::_exit(126);
    // After setuid, which clears the parent-death signal.
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (::getppid() != parent) ::_exit(125);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string percent_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void run_sql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to the test server: " + message);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string message = PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + message);
}

// The pid a directory's owner (the test process that made it) wrote into it; 0 when none.
pid_t owner_of(const std::filesystem::path& dir) {
  std::ifstream file(dir / "owner.pid");
  pid_t pid = 0;
  return file >> pid ? pid : 0;
}

bool running(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// A test binary that was killed leaves its directory behind (its server died with it): remove
// those whose owner is gone. ctest runs test processes side by side, each with a directory of its
// own: one without its owner.pid yet is being made (left alone for an hour).
void remove_abandoned_directories() {
  std::error_code ec;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::temp_directory_path(), ec)) {
    if (entry.path().filename().string().rfind("todo-pg-", 0) != 0) continue;
    const pid_t owner = owner_of(entry.path());
    if (running(owner)) continue;
    if (owner == 0) {
      const auto modified = std::filesystem::last_write_time(entry.path(), ec);
      if (ec || now - modified < std::chrono::hours(1)) continue;
    }
    std::ifstream pid_file(entry.path() / "data" / "postmaster.pid");
    pid_t postmaster = 0;
    if (pid_file >> postmaster && running(postmaster)) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

// A freshly initialised cluster, made by initdb once per machine (per server user) and copied by
// every test process after that: ctest runs each test in a process of its own, and a copy takes a
// tenth of initdb's second. Made in a private directory and renamed into place, so a process
// never sees half of one; when two make it at once, the first rename wins.
std::filesystem::path cluster_template(const RunAs& user) {
  const auto temp = std::filesystem::temp_directory_path();
  const auto ready = temp / ("todo-pgtemplate-15-" + std::to_string(user.uid));
  if (std::filesystem::exists(ready / "data" / "PG_VERSION")) return ready;
  std::string pattern = (temp / "todo-pgtemplate-build-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::filesystem::path building = pattern;
  if (::chown(building.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("cannot hand " + building.string() + " to the server's user");
  }
  const auto log = building / "initdb.log";
  const pid_t initdb = spawn({std::string(kBin) + "/initdb", "-D", (building / "data").string(),
                              "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
                              "--no-sync", "--no-instructions"},
                             user, log, false);
  int status = 0;
  ::waitpid(initdb, &status, 0);
  std::error_code ec;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string output = read_file(log);
    std::filesystem::remove_all(building, ec);
    throw std::runtime_error("initdb failed:\n" + output);
  }
  if (::rename(building.c_str(), ready.c_str()) != 0) {
    std::filesystem::remove_all(building, ec);  // another process's template is in place
  }
  return ready;
}

}  // namespace

PostgresTestServer& PostgresTestServer::instance() {
  static PostgresTestServer server;
  return server;
}

PostgresTestServer::PostgresTestServer() {
  if (const char* parents = ::getenv(kServerDirEnv)) {
    base_ = parents;  // owned by the parent (its owner.pid): stop() leaves it alone
    if (PQping(url("postgres", "").c_str()) != PQPING_OK) {
      throw std::runtime_error(std::string(kServerDirEnv) + " names " + base_.string() +
                               ", whose server does not answer");
    }
    return;
  }
  remove_abandoned_directories();
  std::string pattern = (std::filesystem::temp_directory_path() / "todo-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  base_ = pattern;
  std::ofstream(base_ / "owner.pid") << ::getpid() << "\n";
  try {
    start();
    create_database();
    ::setenv(kServerDirEnv, base_.c_str(), /*overwrite=*/1);
  } catch (...) {
    stop();
    throw;
  }
}

PostgresTestServer::~PostgresTestServer() { stop(); }

void PostgresTestServer::stop() {
  if (owner_of(base_) != ::getpid()) return;  // the parent's server, joined
  if (postmaster_ > 0) {
    ::kill(postmaster_, SIGQUIT);  // immediate shutdown: nothing of the test data is worth keeping
    int status = 0;
    ::waitpid(postmaster_, &status, 0);
    postmaster_ = -1;
  }
  std::error_code ec;
  std::filesystem::remove_all(base_, ec);
}

void PostgresTestServer::start() {
  const RunAs user = server_user();
  if (::chown(base_.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("cannot hand " + base_.string() + " to the server's user");
  }
  const auto data = base_ / "data";
  const auto copy_log = base_ / "copy.log";
  const pid_t copy = spawn({"/bin/cp", "-a", (cluster_template(user) / "data").string(),
                            data.string()},
                           user, copy_log, false);
  int status = 0;
  ::waitpid(copy, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("copying the initialised cluster failed:\n" + read_file(copy_log));
  }

  // The postmaster is forked from a thread that lives as long as the process, so its
  // parent-death signal fires exactly when the test binary ends, however it ends.
  const auto log = base_ / "postgres.log";
  const std::vector<std::string> args = {std::string(kBin) + "/postgres",
                                         "-D",
                                         data.string(),
                                         "-k",
                                         base_.string(),
                                         "-c",
                                         "listen_addresses=",
                                         "-p",
                                         "5432",
                                         "-c",
                                         "fsync=off",
                                         "-c",
                                         "synchronous_commit=off",
                                         "-c",
                                         "full_page_writes=off",
                                         "-c",
                                         "max_connections=300",
                                         "-c",
                                         "shared_buffers=32MB"};
  std::promise<pid_t> forked;
  std::thread([&forked, args, user, log] {
    try {
      forked.set_value(spawn(args, user, log, true));
    } catch (...) {
      forked.set_exception(std::current_exception());
      return;
    }
    for (;;) ::pause();
  }).detach();
  postmaster_ = forked.get_future().get();

  const std::string ping = url("postgres", "");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PQping(ping.c_str()) != PQPING_OK) {
    if (::waitpid(postmaster_, &status, WNOHANG) == postmaster_) {
      postmaster_ = -1;
      throw std::runtime_error("postgres exited:\n" + read_file(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("postgres did not answer within 60 s:\n" + read_file(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void PostgresTestServer::create_database() {
  run_sql(url("postgres", ""), std::string("CREATE DATABASE ") + kDatabase);
}

std::string PostgresTestServer::url(const std::string& database, const std::string& options) const {
  std::string out = "postgresql:///" + database + "?host=" + percent_encode(base_.string()) +
                    "&port=5432&user=postgres";
  if (!options.empty()) out += "&options=" + percent_encode(options);
  return out;
}

std::string PostgresTestServer::admin_url() const { return url(kDatabase, ""); }

std::string PostgresTestServer::url_for(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto found = schemas_.find(key);
  if (found == schemas_.end()) {
    // The pid keeps apart the schemas of a parent and a death-test child on one server.
    const std::string schema =
        "test_" + std::to_string(::getpid()) + "_" + std::to_string(schemas_.size() + 1);
    run_sql(admin_url(), "CREATE SCHEMA " + schema);
    found = schemas_.emplace(key, schema).first;
  }
  return url(kDatabase, "-csearch_path=" + found->second);
}

}  // namespace todo::store::testing

#include "store/postgres_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace todo::store::testing {
namespace {

// The value of `key=` in a URL's query, percent-decoded.
std::string query_value(const std::string& url, const std::string& key) {
  const auto at = url.find(key + "=");
  if (at == std::string::npos) throw std::runtime_error("no " + key + "= in " + url);
  const auto start = at + key.size() + 1;
  const std::string raw = url.substr(start, url.find('&', start) - start);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      out.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

sockaddr_un unix_address(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path)) throw std::runtime_error("socket path too long");
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

// What a backend sends its client when an immediate shutdown stops it (quickdie()).
std::string immediate_shutdown_notice() {
  std::string body;
  for (const std::string field :
       {"SWARNING", "VWARNING", "C57P01", "Mterminating connection due to immediate shutdown command"}) {
    body += field;
    body.push_back('\0');
  }
  body.push_back('\0');
  std::string message(1, 'N');
  const std::uint32_t length = htonl(static_cast<std::uint32_t>(body.size() + 4));
  message.append(reinterpret_cast<const char*>(&length), 4);
  return message + body;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace

PostgresRelay::PostgresRelay(const std::string& url) {
  const std::string port = query_value(url, "port");
  server_socket_ = std::filesystem::path(query_value(url, "host")) / (".s.PGSQL." + port);
  char pattern[] = "/tmp/todo-relay-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  directory_ = pattern;
  const auto host_at = url.find("host=") + 5;
  url_ = url.substr(0, host_at) + directory_.string() + url.substr(url.find('&', host_at));

  listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const auto address = unix_address(directory_ / (".s.PGSQL." + port));
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<const sockaddr*>(&address),
                              sizeof address) != 0 ||
      ::listen(listener_, 16) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot listen in " + directory_.string());
  }
  thread_ = std::thread([this] { run(); });
}

PostgresRelay::~PostgresRelay() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  (void)!::write(wake_[1], "s", 1);
  thread_.join();
  for (const Pair& pair : pairs_) {
    ::close(pair.client);
    ::close(pair.server);
  }
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void PostgresRelay::drop_all_like_an_immediate_shutdown() {
  std::future<void> done;
  {
    std::lock_guard lock(mutex_);
    drops_.emplace_back();
    done = drops_.back().get_future();
  }
  (void)!::write(wake_[1], "d", 1);
  done.get();
}

void PostgresRelay::run() {
  for (;;) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (const Pair& pair : pairs_) {
      fds.push_back({pair.client, POLLIN, 0});
      fds.push_back({pair.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[1].revents != 0) {
      char byte;
      (void)!::read(wake_[0], &byte, 1);
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      auto drops = std::move(drops_);
      drops_.clear();
      lock.unlock();
      if (!drops.empty()) drop_all();
      for (auto& drop : drops) drop.set_value();
      continue;  // the pairs changed: poll again
    }
    std::vector<Pair> open;
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      const Pair pair = pairs_[i];
      const bool ok = (fds[2 + 2 * i].revents == 0 || forward(pair.client, pair.server)) &&
                      (fds[3 + 2 * i].revents == 0 || forward(pair.server, pair.client));
      if (ok) {
        open.push_back(pair);
      } else {
        ::close(pair.client);
        ::close(pair.server);
      }
    }
    pairs_ = std::move(open);
    if (fds[0].revents != 0) accept_one();
  }
}

void PostgresRelay::accept_one() {
  const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const auto address = unix_address(server_socket_);
  if (server < 0 ||
      ::connect(server, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(client);
    if (server >= 0) ::close(server);
    return;
  }
  pairs_.push_back({client, server});
  accepted_.fetch_add(1);
}

bool PostgresRelay::forward(int from, int to) {
  char buffer[65536];
  const ssize_t got = ::recv(from, buffer, sizeof buffer, 0);
  return got > 0 && send_all(to, buffer, static_cast<std::size_t>(got));
}

// Between two messages of the server: a pooled connection waits for its client, and the relay
// forwards what it reads at once, so nothing of a message is left half sent.
void PostgresRelay::drop_all() {
  const std::string notice = immediate_shutdown_notice();
  for (const Pair& pair : pairs_) {
    send_all(pair.client, notice.data(), notice.size());
    ::close(pair.client);
    ::close(pair.server);
  }
  pairs_.clear();
}

}  // namespace todo::store::testing

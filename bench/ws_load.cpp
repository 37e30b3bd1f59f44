// make bench's WebSocket load tool (issue 11 point 6): opens many authenticated connections to
// `GET /ws/tasks` and reports, as JSON on stdout, how long they took (`idle`) or how fast and how
// late the server's task.* frames arrive while tasks are written over HTTP (`fanout`).
//
//   todo_ws_load idle   --url ws://127.0.0.1:PORT/ws/tasks --tokens FILE --connections 10000
//   todo_ws_load fanout --url ws://127.0.0.1:PORT/ws/tasks --tokens FILE --per-user 50
//                       [--users U] [--writes-per-second 10] [--duration 10]
//
// FILE has one access token per line as its first word (bench/run.py's seed file, "<token> <task
// id>", works as is); repeated tokens count once, and connections take the users round-robin.
// Both modes print one JSON line once every connection is open (or failed), then wait for a line
// on stdin: `idle` then closes everything and prints a second line; `fanout` measures for
// --duration seconds, writing --writes-per-second probe tasks itself, then prints its figures.
//
// Latency, per task.* frame: receipt time minus the task's `updated_at` (milliseconds, taken by the
// server before its write transaction), and for the tool's own probe writes receipt time minus the
// send time and minus the receipt time of the HTTP response of the write that caused the frame.
// The frames carry no commit timestamp; the commit lies between the request and its response, so
// those two bound the commit-to-client time from above and below. --probe-receipts writes each
// probe frame's receipt time so that bench/run.py can subtract the event's outbox created_at (µs,
// taken in the write transaction) read from the database. All on the system clock of this machine,
// which the server shares.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string mode;
  std::string host, port, target;  // from --url
  std::string tokens_path;
  std::string origin;               // sent as the Origin header when not empty
  std::string probe_receipts_path;  // fanout: "<task id> <receipt µs>" per probe frame, when set
  std::size_t connections = 10000;
  std::size_t per_user = 50;
  std::size_t users = 0;  // 0: every user of the file
  std::size_t threads = 2;
  std::size_t handshakes_in_flight = 256;
  double writes_per_second = 10;
  double duration_s = 10;
  double connect_timeout_s = 120;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "todo_ws_load: " << why
            << "\nusage: todo_ws_load idle|fanout --url ws://HOST:PORT/PATH --tokens FILE"
               " [--connections N (idle)] [--per-user K] [--users U] [--writes-per-second R]"
               " [--duration S] [--probe-receipts FILE] [--threads T] [--handshakes-in-flight H]"
               " [--origin O]"
               " [--connect-timeout S]\n";
  std::exit(2);
}

double parse_number(std::string_view flag, std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= 0)) {
    usage(std::string(flag) + " needs a non-negative number, got \"" + std::string(text) + "\"");
  }
  return value;
}

void parse_url(Options& options, std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) usage("--url must start with ws:// (wss is not supported)");
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  const auto authority = url.substr(0, slash);
  options.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == authority.size()) {
    usage("--url needs an explicit port");
  }
  options.host = std::string(authority.substr(0, colon));
  options.port = std::string(authority.substr(colon + 1));
}

Options parse_options(int argc, char** argv) {
  if (argc < 2) usage("no mode");
  Options options;
  options.mode = argv[1];
  if (options.mode != "idle" && options.mode != "fanout") usage("unknown mode " + options.mode);
  bool have_url = false;
  for (int i = 2; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
    const std::string_view value = argv[i + 1];
    auto count = [&] { return static_cast<std::size_t>(parse_number(flag, value)); };
    if (flag == "--url") {
      parse_url(options, value);
      have_url = true;
    } else if (flag == "--tokens") {
      options.tokens_path = value;
    } else if (flag == "--probe-receipts") {
      options.probe_receipts_path = value;
    } else if (flag == "--origin") {
      options.origin = value;
    } else if (flag == "--connections") {
      options.connections = count();
    } else if (flag == "--per-user") {
      options.per_user = count();
    } else if (flag == "--users") {
      options.users = count();
    } else if (flag == "--threads") {
      options.threads = std::max<std::size_t>(1, count());
    } else if (flag == "--handshakes-in-flight") {
      options.handshakes_in_flight = std::max<std::size_t>(1, count());
    } else if (flag == "--writes-per-second") {
      options.writes_per_second = parse_number(flag, value);
    } else if (flag == "--duration") {
      options.duration_s = parse_number(flag, value);
    } else if (flag == "--connect-timeout") {
      options.connect_timeout_s = parse_number(flag, value);
    } else {
      usage("unknown flag " + std::string(flag));
    }
  }
  if (!have_url) usage("--url is required");
  if (options.tokens_path.empty()) usage("--tokens is required");
  return options;
}

std::vector<std::string> load_tokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage("cannot read " + path);
  std::vector<std::string> tokens;
  std::unordered_set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    const auto end = line.find_first_of(" \t\r", start);
    auto token = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (seen.insert(token).second) tokens.push_back(std::move(token));
  }
  if (tokens.empty()) usage(path + " holds no token");
  return tokens;
}

// 10,000 sockets need more descriptors than the usual soft limit of 1024.
rlim_t raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// The value of a top-level key of a frame, without parsing the whole frame: the server writes
// compact JSON, and "type", "seq", "task_id" and "updated_at" are not field names of a task or of
// its changed fields, so their first occurrence as a key is the one we want. A key inside a string
// value cannot match: its quotes would be escaped. At 100,000 frames a second a full parse per
// frame would take a core that the server needs.
std::string_view string_field(std::string_view frame, std::string_view key_with_quotes) {
  const auto at = frame.find(key_with_quotes);
  if (at == std::string_view::npos) return {};
  auto rest = frame.substr(at + key_with_quotes.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != ':') return {};
  rest.remove_prefix(1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '"') return {};
  rest.remove_prefix(1);
  return rest.substr(0, rest.find('"'));
}

std::optional<std::int64_t> integer_field(std::string_view frame,
                                          std::string_view key_with_quotes) {
  const auto at = frame.find(key_with_quotes);
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = frame.substr(at + key_with_quotes.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

// "2026-12-06T08:40:00.123Z" (the API's format, ADR 0003) → microseconds since the epoch.
std::optional<std::int64_t> parse_rfc3339_us(std::string_view text) {
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t pos, std::size_t len) {
    int value = 0;
    std::from_chars(text.data() + pos, text.data() + pos + len, value);
    return value;
  };
  using namespace std::chrono;
  const sys_days day = year{number(0, 4)} / month(number(5, 2)) / number(8, 2);
  std::int64_t us = duration_cast<microseconds>(day.time_since_epoch()).count() +
                    (number(11, 2) * 3600LL + number(14, 2) * 60LL + number(17, 2)) * 1'000'000LL;
  if (text[19] == '.') {
    std::int64_t scale = 100'000;
    for (std::size_t i = 20; i < text.size() - 1 && scale > 0; ++i, scale /= 10) {
      us += (text[i] - '0') * scale;
    }
  }
  return us;
}

// One received task.* frame.
struct Receipt {
  std::uint64_t task_id_hash;
  std::int64_t received_us;
  std::int64_t updated_at_us;  // INT64_MIN when the frame has no task (a deletion)
};

// What every connection shares; counters are atomics, the error map has a mutex.
struct Shared {
  explicit Shared(Options o) : options(std::move(o)) {}
  Options options;
  std::vector<std::string> tokens;
  std::atomic<std::size_t> settled{0};  // connected with hello, or failed
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> hellos{0};   // like open, but never counted down
  std::atomic<std::size_t> running{0};  // connection coroutines not yet finished
  std::atomic<bool> closing{false};
  std::atomic<std::size_t> dropped_while_held{0};
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::size_t> errors;

  void count_error(std::string what) {
    std::lock_guard lock(mutex);
    ++errors[std::move(what)];
  }
  void notify() {
    std::lock_guard lock(mutex);
    changed.notify_all();
  }
};

struct Connection {
  Connection(asio::io_context& io, std::size_t user_index)
      : ws(asio::make_strand(io)), user(user_index) {}
  websocket::stream<beast::tcp_stream> ws;
  std::size_t user;
  beast::flat_buffer buffer;
  std::int64_t hello_seq = -1;
  std::int64_t last_seq = -1;
  std::size_t seq_gaps = 0;       // a seq more than one above the previous
  std::size_t seq_backwards = 0;  // a seq not above the previous (duplicate or reordered)
  std::size_t other_frames = 0;   // neither hello nor task.*
  std::vector<Receipt> receipts;  // task.* frames, in arrival order
};

std::string describe(const boost::system::error_code& ec) {
  return ec.category().name() + std::string(": ") + ec.message();
}

// Connects, waits for hello, then reads frames until the connection ends.
asio::awaitable<void> run_connection(std::shared_ptr<Shared> shared,
                                     std::shared_ptr<Connection> c) {
  const auto& options = shared->options;
  bool settled = false;
  auto settle = [&] {
    if (!settled) {
      settled = true;
      ++shared->settled;
      shared->notify();
    }
  };
  try {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(options.host, options.port, kAsTuple);
    if (rec) {
      shared->count_error("resolve: " + describe(rec));
      settle();
      co_return;
    }
    auto& stream = beast::get_lowest_layer(c->ws);
    stream.expires_after(std::chrono::seconds(30));
    auto [cec, endpoint] = co_await stream.async_connect(endpoints, kAsTuple);
    if (cec) {
      shared->count_error("connect: " + describe(cec));
      settle();
      co_return;
    }
    stream.expires_never();
    c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    if (!options.origin.empty()) {
      c->ws.set_option(websocket::stream_base::decorator(
          [origin = options.origin](websocket::request_type& request) {
            request.set(http::field::origin, origin);
          }));
    }
    const auto& token = shared->tokens[c->user];
    const std::string target = options.target +
                               (options.target.find('?') == std::string::npos ? "?" : "&") +
                               "token=" + token;
    websocket::response_type response;
    auto [hec] = co_await c->ws.async_handshake(response, options.host + ":" + options.port, target,
                                                kAsTuple);
    if (hec) {
      shared->count_error(hec == websocket::error::upgrade_declined
                              ? "handshake refused: HTTP " + std::to_string(response.result_int()) +
                                    " " + response.body().substr(0, 160)
                              : "handshake: " + describe(hec));
      settle();
      co_return;
    }
    while (true) {
      auto [ec, bytes] = co_await c->ws.async_read(c->buffer, kAsTuple);
      if (ec) {
        if (!shared->closing) {
          if (ec == websocket::error::closed) {
            shared->count_error(
                "closed by the server: code " + std::to_string(c->ws.reason().code) + " " +
                std::string(c->ws.reason().reason.data(), c->ws.reason().reason.size()));
          } else {
            shared->count_error("read: " + describe(ec));
          }
          if (settled) ++shared->dropped_while_held;
        }
        if (c->hello_seq >= 0) --shared->open;
        break;
      }
      const auto received = now_us();
      const std::string_view frame(static_cast<const char*>(c->buffer.data().data()), bytes);
      const auto type = string_field(frame, "\"type\"");
      if (c->hello_seq < 0) {
        const auto seq = integer_field(frame, "\"seq\"");
        if (type != "hello" || !seq) {
          shared->count_error("first frame is not a hello: " + std::string(frame.substr(0, 120)));
          settle();
          c->buffer.consume(bytes);
          break;
        }
        c->hello_seq = c->last_seq = *seq;
        ++shared->open;
        ++shared->hellos;
        settle();
      } else if (type.starts_with("task.")) {
        const auto seq = integer_field(frame, "\"seq\"").value_or(-1);
        if (seq > c->last_seq + 1) ++c->seq_gaps;
        if (seq <= c->last_seq) ++c->seq_backwards;
        c->last_seq = std::max(c->last_seq, seq);
        const auto updated_at = parse_rfc3339_us(string_field(frame, "\"updated_at\""));
        c->receipts.push_back({std::hash<std::string_view>{}(string_field(frame, "\"task_id\"")),
                               received, updated_at.value_or(INT64_MIN)});
      } else {
        ++c->other_frames;
      }
      c->buffer.consume(bytes);
    }
  } catch (const std::exception& e) {
    shared->count_error(std::string("exception: ") + e.what());
  }
  settle();
}

void start_connection(std::shared_ptr<Shared> shared, std::shared_ptr<Connection> c) {
  ++shared->running;
  asio::co_spawn(c->ws.get_executor(), run_connection(shared, c),
                 [shared](std::exception_ptr error) {
                   if (error) shared->count_error("connection coroutine ended by an exception");
                   --shared->running;
                   shared->notify();
                 });
}

// Starts connections as earlier ones settle (hello received, or failed), keeping at most
// --handshakes-in-flight opening at once so the server's accept backlog never overflows (a dropped
// SYN costs a one-second retransmit). Returns when every one settled or --connect-timeout passed.
void open_connections(Shared& shared, const std::vector<std::shared_ptr<Connection>>& connections,
                      const std::shared_ptr<Shared>& owner) {
  const auto window = shared.options.handshakes_in_flight;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(shared.options.connect_timeout_s));
  std::size_t started = 0;
  std::unique_lock lock(shared.mutex);
  while (shared.settled.load() < connections.size()) {
    while (started < connections.size() && started < shared.settled.load() + window) {
      lock.unlock();
      start_connection(owner, connections[started++]);
      lock.lock();
    }
    if (shared.changed.wait_until(lock, deadline) == std::cv_status::timeout) return;
  }
}

std::optional<double> percentile_ms(std::vector<std::int64_t>& values_us, double q) {
  if (values_us.empty()) return std::nullopt;
  std::sort(values_us.begin(), values_us.end());
  const auto index = std::min(values_us.size() - 1, static_cast<std::size_t>(q * values_us.size()));
  return values_us[index] / 1000.0;
}

json::object latency_summary(std::vector<std::int64_t> values_us) {
  json::object out;
  out["frames"] = values_us.size();
  auto put = [&](const char* name, std::optional<double> value) {
    if (value) {
      out[name] = *value;
    } else {
      out[name] = nullptr;
    }
  };
  put("p50_ms", percentile_ms(values_us, 0.50));
  put("p99_ms", percentile_ms(values_us, 0.99));
  put("max_ms",
      values_us.empty() ? std::nullopt : std::optional<double>(values_us.back() / 1000.0));
  return out;
}

json::object errors_json(Shared& shared) {
  std::lock_guard lock(shared.mutex);
  json::object out;
  for (const auto& [what, count] : shared.errors) out[what] = count;
  return out;
}

// This process's CPU time (user + system), to compare with the server's: they share the machine.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void print(const json::object& object) { std::cout << json::serialize(object) << std::endl; }

void wait_for_stdin_line() {
  std::string line;
  std::getline(std::cin, line);
}

// Closes every open connection (each on its strand) and waits until every coroutine ended.
void close_all(Shared& shared, std::vector<std::shared_ptr<Connection>>& connections,
               std::chrono::seconds limit) {
  shared.closing = true;
  for (auto& c : connections) {
    asio::dispatch(c->ws.get_executor(), [c] {
      if (c->ws.is_open()) {
        c->ws.async_close(websocket::close_code::normal, [c](boost::system::error_code) {});
      }
    });
  }
  std::unique_lock lock(shared.mutex);
  shared.changed.wait_for(lock, limit, [&] { return shared.running.load() == 0; });
}

// --- fanout: the probe writer --------------------------------------------------------------------

struct Probe {
  std::string task_id;
  std::int64_t sent_us;
  std::int64_t response_us;
};

struct ProbeLog {
  std::mutex mutex;
  std::unordered_map<std::uint64_t, Probe> by_task;  // by the hash of the created task's id
  std::map<std::string, std::size_t> failures;
  std::size_t sent = 0;
};

// Creates one task every 1/rate seconds, for users in turn, on one keep-alive HTTP connection
// (reconnecting when the server closes it), until `until_us`.
asio::awaitable<void> write_probes(std::shared_ptr<Shared> shared, std::shared_ptr<ProbeLog> log,
                                   std::size_t users, std::int64_t until_us) {
  const auto& options = shared->options;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const auto endpoints =
      co_await resolver.async_resolve(options.host, options.port, asio::use_awaitable);
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  asio::steady_timer timer(executor);
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options.writes_per_second));
  auto next = std::chrono::steady_clock::now();
  auto fail = [&](std::string what) {
    std::lock_guard lock(log->mutex);
    ++log->failures[std::move(what)];
  };
  for (std::size_t i = 0; now_us() < until_us; ++i) {
    timer.expires_at(next);
    co_await timer.async_wait(kAsTuple);
    next += interval;
    if (!stream) {
      stream.emplace(executor);
      stream->expires_after(10s);
      auto [ec, ep] = co_await stream->async_connect(endpoints, kAsTuple);
      if (ec) {
        fail("connect: " + describe(ec));
        stream.reset();
        continue;
      }
    }
    http::request<http::string_body> request(http::verb::post, "/api/tasks", 11);
    request.set(http::field::host, options.host + ":" + options.port);
    request.set(http::field::authorization, "Bearer " + shared->tokens[i % users]);
    request.set(http::field::content_type, "application/json");
    request.body() = R"({"title":"ws_load probe )" + std::to_string(i) + R"("})";
    request.prepare_payload();
    http::response<http::string_body> response;
    stream->expires_after(10s);
    const auto sent = now_us();
    auto [wec, wbytes] = co_await http::async_write(*stream, request, kAsTuple);
    if (!wec)
      std::tie(wec, wbytes) = co_await http::async_read(*stream, buffer, response, kAsTuple);
    const auto received = now_us();
    {
      std::lock_guard lock(log->mutex);
      ++log->sent;
    }
    if (wec) {
      fail("http: " + describe(wec));
      stream.reset();
      buffer.clear();
      continue;
    }
    if (response.result() != http::status::created) {
      fail("HTTP " + std::to_string(response.result_int()));
    } else {
      boost::system::error_code pec;
      const auto body = json::parse(response.body(), pec);
      const auto* id = !pec && body.is_object() ? body.as_object().if_contains("id") : nullptr;
      if (id == nullptr || !id->is_string()) {
        fail("201 without an id");
      } else {
        std::lock_guard lock(log->mutex);
        const std::string_view task_id = id->as_string();
        log->by_task[std::hash<std::string_view>{}(task_id)] = {std::string(task_id), sent,
                                                                received};
      }
    }
    if (!response.keep_alive()) stream.reset();
  }
  if (stream) {
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

json::object fanout_figures(Shared& shared, std::vector<std::shared_ptr<Connection>>& connections,
                            ProbeLog& probes, std::size_t per_user, std::size_t open_at_end,
                            std::int64_t start_us, std::int64_t end_us) {
  std::size_t in_window = 0, total = 0, gaps = 0, backwards = 0, others = 0;
  std::vector<std::int64_t> from_updated_at, from_request, from_response;
  std::size_t probe_frames = 0;
  std::ofstream receipts_file;
  if (!shared.options.probe_receipts_path.empty()) {
    receipts_file.open(shared.options.probe_receipts_path);
  }
  for (const auto& c : connections) {
    gaps += c->seq_gaps;
    backwards += c->seq_backwards;
    others += c->other_frames;
    for (const auto& r : c->receipts) {
      if (r.received_us < start_us) continue;
      ++total;
      if (r.received_us <= end_us) ++in_window;
      if (r.updated_at_us != INT64_MIN) from_updated_at.push_back(r.received_us - r.updated_at_us);
      if (auto it = probes.by_task.find(r.task_id_hash); it != probes.by_task.end()) {
        ++probe_frames;
        if (receipts_file.is_open())
          receipts_file << it->second.task_id << ' ' << r.received_us << '\n';
        from_request.push_back(r.received_us - it->second.sent_us);
        from_response.push_back(r.received_us - it->second.response_us);
      }
    }
  }
  const double seconds = (end_us - start_us) / 1e6;
  json::object out;
  out["mode"] = "fanout";
  out["connections"] = connections.size();
  out["open_at_end"] = open_at_end;  // still open when the tool closed them
  out["users"] = connections.size() / std::max<std::size_t>(1, per_user);
  out["per_user"] = per_user;
  out["window_s"] = seconds;
  out["frames_in_window"] = in_window;
  out["frames_per_second"] = seconds > 0 ? in_window / seconds : 0.0;
  out["frames_total"] = total;
  out["seq_gaps"] = gaps;
  out["seq_backwards"] = backwards;
  out["other_frames"] = others;
  json::object probe;
  probe["writes"] = probes.sent;
  probe["created"] = probes.by_task.size();
  probe["frames_expected"] = probes.by_task.size() * per_user;
  probe["frames_received"] = probe_frames;
  json::object failures;
  for (const auto& [what, count] : probes.failures) failures[what] = count;
  probe["failures"] = std::move(failures);
  probe["latency_from_request"] = latency_summary(std::move(from_request));
  probe["latency_from_response"] = latency_summary(std::move(from_response));
  out["probes"] = std::move(probe);
  out["latency_from_updated_at"] = latency_summary(std::move(from_updated_at));
  out["errors"] = errors_json(shared);
  return out;
}

void stop(asio::io_context& io, asio::executor_work_guard<asio::io_context::executor_type>& work,
          std::vector<std::thread>& threads) {
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
}

int run(Options options) {
  const auto nofile = raise_open_files_limit();
  auto shared = std::make_shared<Shared>(options);
  shared->tokens = load_tokens(options.tokens_path);
  if (options.users > 0 && options.users < shared->tokens.size()) {
    shared->tokens.resize(options.users);
  }
  const auto users = shared->tokens.size();
  const bool fanout = options.mode == "fanout";
  const std::size_t total = fanout ? users * options.per_user : options.connections;

  asio::io_context io(static_cast<int>(options.threads));
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });

  std::vector<std::shared_ptr<Connection>> connections;
  connections.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    connections.push_back(std::make_shared<Connection>(io, i % users));
  }
  const auto started = std::chrono::steady_clock::now();
  open_connections(*shared, connections, shared);
  const double connect_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  json::object ready;
  ready["mode"] = options.mode;
  ready["event"] = "ready";
  ready["requested"] = total;
  ready["open"] = shared->open.load();
  ready["failed"] = shared->settled.load() - shared->hellos.load();
  ready["not_settled"] = total - shared->settled.load();  // still opening at --connect-timeout
  ready["users"] = users;
  ready["seconds"] = connect_seconds;
  ready["open_files_limit"] = static_cast<std::uint64_t>(nofile);
  ready["errors"] = errors_json(*shared);
  print(ready);

  wait_for_stdin_line();
  if (!fanout) {
    const auto held = shared->open.load();
    close_all(*shared, connections, 60s);
    json::object done;
    done["mode"] = "idle";
    done["event"] = "closed";
    done["held"] = held;
    done["dropped_while_held"] = shared->dropped_while_held.load();
    done["errors"] = errors_json(*shared);
    print(done);
  } else {
    const auto cpu_before = cpu_seconds();
    auto probes = std::make_shared<ProbeLog>();
    const auto start_us = now_us();
    const auto end_us = start_us + static_cast<std::int64_t>(options.duration_s * 1e6);
    std::promise<void> written;
    auto written_future = written.get_future();
    if (options.writes_per_second > 0) {
      asio::co_spawn(asio::make_strand(io), write_probes(shared, probes, users, end_us),
                     [&written, probes](std::exception_ptr error) {
                       if (error) {
                         try {
                           std::rethrow_exception(error);
                         } catch (const std::exception& e) {
                           std::lock_guard lock(probes->mutex);
                           ++probes->failures[std::string("probe writer: ") + e.what()];
                         }
                       }
                       written.set_value();
                     });
    } else {
      written.set_value();
    }
    std::this_thread::sleep_until(
        std::chrono::system_clock::time_point(std::chrono::microseconds(end_us)));
    written_future.wait();
    // Frames of the last writes are still on their way: wait until every probe frame arrived
    // (or 5 s more), counting receipts on each connection's strand.
    const auto expected = [&] {
      std::lock_guard lock(probes->mutex);
      return probes->by_task.size() * options.per_user;
    }();
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < give_up) {
      std::unordered_set<std::uint64_t> ids;
      {
        std::lock_guard lock(probes->mutex);
        for (const auto& [id, probe] : probes->by_task) ids.insert(id);
      }
      std::atomic<std::size_t> seen{0};
      std::atomic<std::size_t> pending{connections.size()};
      std::promise<void> counted;
      for (auto& c : connections) {
        asio::dispatch(c->ws.get_executor(), [&, c] {
          std::size_t n = 0;
          for (const auto& r : c->receipts) n += ids.count(r.task_id_hash);
          seen += n;
          if (--pending == 0) counted.set_value();
        });
      }
      counted.get_future().wait();
      if (seen >= expected) break;
      std::this_thread::sleep_for(100ms);
    }
    const auto open_at_end = shared->open.load();
    close_all(*shared, connections, 60s);
    stop(io, work, threads);
    auto figures = fanout_figures(*shared, connections, *probes, options.per_user, open_at_end,
                                  start_us, end_us);
    figures["cpu_seconds"] = cpu_seconds() - cpu_before;  // from "go" to the end
    print(figures);
    return 0;
  }
  stop(io, work, threads);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "todo_ws_load: " << e.what() << "\n";
    return 1;
  }
}

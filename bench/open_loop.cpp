// make bench's open-loop load (issue 17): requests at a fixed rate, whatever the server's answers
// do, so queueing shows in the latency — a closed loop (wrk) slows down with the server and hides
// it. Request i is due at start + i / rate and goes to connection i mod connections; a connection
// still waiting for its previous answer sends late, and the latency counts from when the request
// was due (the correction for coordinated omission wrk2 makes).
//
//   todo_open_loop --port N --seed FILE --rate R --seconds S [--connections C] [--scenario mix]
//
// The seed file is bench/run.py's: one "<access token> <task id>" per line. Scenarios: mix (80 %
// reads: 30 % lists of 50, 50 % single tasks; 20 % creates, as wrk's mix) and health. Prints one
// JSON object: requests due, answered, failed (connection errors and non-2xx), the rate achieved
// and latency percentiles in ms.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

struct SeedRow {
  std::string token;
  std::string task_id;
};

struct Options {
  unsigned short port = 0;
  std::string seed;
  double rate = 0;
  double seconds = 0;
  int connections = 64;
  std::string scenario = "mix";
};

struct Totals {
  std::vector<double> latencies_ms;
  std::int64_t failed = 0;
};

const std::string kCreateBody =
    R"({"title":"Benchmark task","priority":"high","tags":["bench","load"],)"
    R"("due_date":"2030-01-01T09:00:00Z","reminders":[15]})";

http::request<http::string_body> make_request(const Options& options,
                                              const std::vector<SeedRow>& rows, std::int64_t i) {
  http::request<http::string_body> req;
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(true);
  if (options.scenario == "health" || rows.empty()) {
    req.method(http::verb::get);
    req.target("/health");
    return req;
  }
  const SeedRow& row = rows[static_cast<std::size_t>(i) % rows.size()];
  req.set(http::field::authorization, "Bearer " + row.token);
  const auto pick = i % 10;
  if (pick < 2) {
    req.method(http::verb::post);
    req.target("/api/tasks");
    req.set(http::field::content_type, "application/json");
    req.body() = kCreateBody;
  } else if (pick < 5) {
    req.method(http::verb::get);
    req.target("/api/tasks?limit=50");
  } else {
    req.method(http::verb::get);
    req.target("/api/tasks/" + row.task_id);
  }
  req.prepare_payload();
  return req;
}

// One connection: requests first, first + stride, … while they are due before `end`.
asio::awaitable<void> connection(const Options& options, const std::vector<SeedRow>& rows,
                                 Clock::time_point start, std::int64_t first, std::int64_t total,
                                 Totals& totals) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  asio::steady_timer timer(executor);
  beast::flat_buffer buffer;
  bool connected = false;
  const auto interval = std::chrono::duration<double>(1.0 / options.rate);
  for (std::int64_t i = first; i < total; i += options.connections) {
    const auto due =
        start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
    timer.expires_at(due);
    co_await timer.async_wait(kUseAwaitable);  // returns at once when already late
    if (!connected) {
      auto [ec] = co_await stream.async_connect(
          tcp::endpoint(asio::ip::make_address("127.0.0.1"), options.port), kUseAwaitable);
      if (ec) {
        ++totals.failed;
        continue;
      }
      stream.socket().set_option(tcp::no_delay(true));
      connected = true;
    }
    auto req = make_request(options, rows, i);
    stream.expires_after(std::chrono::seconds(30));  // a server that stops answering fails it
    auto [write_ec, written] = co_await http::async_write(stream, req, kUseAwaitable);
    http::response<http::string_body> res;
    boost::system::error_code read_ec;
    if (!write_ec) std::tie(read_ec, std::ignore) = co_await http::async_read(stream, buffer, res,
                                                                              kUseAwaitable);
    const auto done = Clock::now();
    if (write_ec || read_ec) {
      ++totals.failed;
      boost::system::error_code ignored;
      stream.socket().close(ignored);
      buffer.clear();
      connected = false;
      continue;
    }
    if (res.result_int() >= 300) ++totals.failed;
    totals.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - due).count());
    if (!res.keep_alive()) {
      boost::system::error_code ignored;
      stream.socket().close(ignored);
      connected = false;
    }
  }
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, index)];
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--port") {
      o.port = static_cast<unsigned short>(std::atoi(value));
    } else if (flag == "--seed") {
      o.seed = value;
    } else if (flag == "--rate") {
      o.rate = std::atof(value);
    } else if (flag == "--seconds") {
      o.seconds = std::atof(value);
    } else if (flag == "--connections") {
      o.connections = std::atoi(value);
    } else if (flag == "--scenario") {
      o.scenario = value;
    } else {
      return false;
    }
  }
  return o.port != 0 && o.rate > 0 && o.seconds > 0 && o.connections > 0 &&
         (o.scenario == "mix" || o.scenario == "health") && (o.scenario == "health" || !o.seed.empty());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::cerr << "usage: todo_open_loop --port N --seed FILE --rate R --seconds S "
                 "[--connections C] [--scenario mix|health]\n";
    return 2;
  }
  std::vector<SeedRow> rows;
  if (!options.seed.empty()) {
    std::ifstream in(options.seed);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      SeedRow row;
      if (fields >> row.token >> row.task_id) rows.push_back(std::move(row));
    }
    if (rows.empty()) {
      std::cerr << "todo_open_loop: no rows in " << options.seed << "\n";
      return 2;
    }
  }
  const auto total = static_cast<std::int64_t>(options.rate * options.seconds);
  asio::io_context io(1);
  Totals totals;
  totals.latencies_ms.reserve(static_cast<std::size_t>(total));
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  for (int c = 0; c < options.connections; ++c) {
    asio::co_spawn(io, connection(options, rows, start, c, total, totals), asio::detached);
  }
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto& l = totals.latencies_ms;
  std::sort(l.begin(), l.end());
  std::printf(
      "{\"due\":%lld,\"answered\":%zu,\"failed\":%lld,\"rate_asked\":%.1f,\"rate_achieved\":%.1f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
      static_cast<long long>(total), l.size(), static_cast<long long>(totals.failed), options.rate,
      static_cast<double>(l.size()) / elapsed, percentile(l, 0.50), percentile(l, 0.99),
      percentile(l, 0.999), l.empty() ? 0.0 : l.back());
  return 0;
}

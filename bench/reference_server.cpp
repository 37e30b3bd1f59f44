// make bench's reference (issue 17): the least a Boost.Beast server can do per request on this
// machine, so each of Todo's figures is also a ratio to what this stack allows. It shapes its
// threads as `todo serve` does — one single-threaded io_context per thread, connections handed
// to them in turn by one acceptor — and answers every request on a kept-alive connection with
// 200 and the 2-byte body "ok", parsing each request fully (headers and body) with Beast. No
// routing, no logging, no metrics, no limits: the figure is the ceiling, not a product.
//
//   todo_reference_server [--port N] [--threads N]
// prints {"port":N} on stdout once listening, and runs until SIGINT or SIGTERM.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> session(tcp::socket socket) {
  beast::flat_buffer buffer;
  socket.set_option(tcp::no_delay(true));
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain");
  res.body() = "ok";
  res.prepare_payload();
  for (;;) {
    http::request<http::string_body> req;
    auto [read_ec, read_bytes] = co_await http::async_read(socket, buffer, req, kUseAwaitable);
    if (read_ec) break;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    auto [write_ec, written] = co_await http::async_write(socket, res, kUseAwaitable);
    if (write_ec || !req.keep_alive()) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                  std::vector<std::unique_ptr<asio::io_context>>& contexts) {
  std::size_t next = 0;
  for (;;) {
    auto& target = *contexts[next++ % contexts.size()];
    auto [ec, socket] = co_await acceptor.async_accept(target, kUseAwaitable);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(target, session(std::move(socket)), asio::detached);
  }
}

int parse_flag(int argc, char** argv, std::string_view name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int port = parse_flag(argc, argv, "--port", 0);
  const int threads =
      parse_flag(argc, argv, "--threads", static_cast<int>(std::thread::hardware_concurrency()));
  if (port < 0 || port > 65535 || threads < 1 || threads > 256) {
    std::cerr << "usage: todo_reference_server [--port 0..65535] [--threads 1..256]\n";
    return 2;
  }
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    work.push_back(asio::make_work_guard(*contexts.back()));
  }
  auto& first = *contexts.front();
  tcp::acceptor acceptor(first);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::signal_set signals(first, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& c : contexts) c->stop();
  });
  asio::co_spawn(first, accept_loop(acceptor, contexts), asio::detached);
  std::cout << "{\"port\":" << acceptor.local_endpoint().port() << "}" << std::endl;
  std::vector<std::thread> runners;
  for (int i = 1; i < threads; ++i) runners.emplace_back([&, i] { contexts[i]->run(); });
  first.run();
  for (auto& t : runners) t.join();
  return 0;
}

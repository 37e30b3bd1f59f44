// `todo serve` and `todo migrate`.
#include "app/commands.h"

#include "app/application.h"
#include "http/server.h"
#include "log/log.h"
#include "services/api/operations_routes.h"
#include "app/core.h"
#include "store/open_database.h"

#include <chrono>
#include <optional>
#include <thread>

namespace todo::app {

int run_migrate(const Config& config) {
  const auto options = database_options(config);
  auto database = store::open_database(options);  // applies pending migrations
  if (options.dialect == store::Dialect::kPostgres) {
    log::info("database is current", {{"url", store::redact_database_url(options.url)}});
  } else {
    log::info("database is current", {{"path", options.path.string()}});
  }
  return 0;
}

namespace {

// A database that cannot be reached (PostgreSQL down or restarting), or a write that kept losing to
// other processes' conflicting writes, is a 503 the client may retry,
// not a 500: nothing of the request was committed, or at least nobody was told it was.
std::optional<domain::Error> classify_exception(const std::exception& e) {
  if (dynamic_cast<const store::DatabaseUnavailable*>(&e) != nullptr) {
    return domain::make_error(domain::ErrorCode::kUnavailable,
                              "The database cannot take the request now (unreachable, or too many "
                              "conflicting writes); try again shortly.");
  }
  return std::nullopt;
}

// /metrics on its own listener (--metrics-address): a small server with one route, run on its own
// thread until the main server stops.
class MetricsListener {
 public:
  MetricsListener(const Config& config, http::Metrics& metrics) {
    services::api::add_metrics_route(router_, metrics, config.metrics_token);
    http::ServerOptions options;
    options.address = config.metrics_address->first;
    options.port = config.metrics_address->second;
    options.io_threads = 1;
    options.read_threads = 1;
    options.write_threads = 1;
    options.cpu_threads = 1;
    options.max_connections = 64;
    options.max_connections_per_client = 16;
    options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
    options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
    server_.emplace(options, router_, metrics);
    server_->listen();
    log::info("metrics listening", {{"address", config.metrics_address->first},
                                    {"port", static_cast<int>(server_->port())}});
    thread_ = std::thread([this] { server_->run(); });
  }
  ~MetricsListener() {
    server_->stop();
    thread_.join();
  }
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

 private:
  http::Router router_;
  std::optional<http::Server> server_;
  std::thread thread_;
};

}  // namespace

int run_serve(const Config& config) {
  auto started = std::chrono::steady_clock::now();
  // `todo serve` runs every component; a role (`todo api`, `todo audit`, ...) its own (ADR 0022).
  Application app(config, components_of(config.command));

  http::ServerOptions options;
  options.address = config.address;
  options.port = config.port;
  options.io_threads = config.threads;
  options.cors_origins = config.cors_origins;
  options.trusted_proxies = config.trusted_proxies;
  options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
  options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  options.max_body_bytes_in_flight =
      static_cast<std::size_t>(config.max_body_in_flight_mib) * 1024 * 1024;
  options.max_connections = static_cast<std::size_t>(config.max_connections);
  options.max_connections_per_client = static_cast<std::size_t>(config.max_connections_per_client);
  std::optional<MetricsListener> metrics_listener;
  if (config.metrics_address) metrics_listener.emplace(config, app.metrics());
  options.websocket_ping_interval = std::chrono::seconds(config.ws_ping_interval_seconds);
  options.websocket_message_limit = static_cast<std::size_t>(config.ws_max_message_bytes);
  options.websocket_send_queue_limit = static_cast<std::size_t>(config.ws_send_queue_frames);
  options.websocket_send_queue_bytes = static_cast<std::size_t>(config.ws_send_queue_kib) * 1024;
  options.classify_exception = classify_exception;
  http::Server server(options, app.router(), app.metrics());
  server.listen();
  auto startup_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              started).count();
  log::info("listening", {{"command", config.command},
                          {"address", config.address},
                          {"port", static_cast<int>(server.port())},
                          {"data_dir", config.data_dir.string()},
                          {"database", config.database_url.empty()
                                           ? std::string("sqlite")
                                           : store::redact_database_url(config.database_url)},
                          {"startup_ms", startup_ms}});
  server.run();
  log::info("stopped");
  return 0;
}

}  // namespace todo::app

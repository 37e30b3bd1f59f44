// `todo serve` and `todo migrate`.
#include "app/commands.h"

#include "app/application.h"
#include "http/server.h"
#include "log/log.h"
#include "store/open_database.h"

#include <chrono>

namespace todo::app {

int run_migrate(const Config& config) {
  store::DatabaseOptions options;
  options.path = config.data_dir / "todo.db";
  options.durability = config.durability;
  auto database = store::open_database(options);  // applies pending migrations
  log::info("database is current", {{"path", options.path.string()}});
  return 0;
}

int run_serve(const Config& config) {
  auto started = std::chrono::steady_clock::now();
  Application app(config, every_component());

  http::ServerOptions options;
  options.address = config.address;
  options.port = config.port;
  options.io_threads = config.threads;
  options.cors_origins = config.cors_origins;
  options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
  options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  options.max_body_bytes_in_flight =
      static_cast<std::size_t>(config.max_body_in_flight_mib) * 1024 * 1024;
  options.max_connections = static_cast<std::size_t>(config.max_connections);
  options.max_connections_per_client = static_cast<std::size_t>(config.max_connections_per_client);
  options.websocket_ping_interval = std::chrono::seconds(config.ws_ping_interval_seconds);
  options.websocket_message_limit = static_cast<std::size_t>(config.ws_max_message_bytes);
  options.websocket_send_queue_limit = static_cast<std::size_t>(config.ws_send_queue_frames);
  options.websocket_send_queue_bytes = static_cast<std::size_t>(config.ws_send_queue_kib) * 1024;
  http::Server server(options, app.router(), app.metrics());
  server.listen();
  auto startup_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              started).count();
  log::info("listening", {{"address", config.address},
                          {"port", static_cast<int>(server.port())},
                          {"data_dir", config.data_dir.string()},
                          {"startup_ms", startup_ms}});
  server.run();
  log::info("stopped");
  return 0;
}

}  // namespace todo::app

// The core's parts, built from the configuration in one place; the backends come from the
// factories (store::open_database, bus::open_bus), so nothing here names one.
#include "app/core.h"

#include <chrono>
#include <memory>
#include <utility>

#include "app/secret.h"
#include "domain/task_events.h"
#include "services/notify/http_client.h"
#include "store/open_database.h"

namespace todo::app {
namespace {

bus::BusOptions bus_options(const Config& config) {
  bus::BusOptions options;
  options.retry = config.bus_retry;
  options.kind = config.bus;
  options.kafka = config.kafka;
  options.dapr = config.dapr;
  if (config.bus == bus::BusKind::kDapr) {
    // The sidecar is local and chosen by the operator: no SSRF guard, plain http.
    auto client = std::make_shared<notify::CurlHttpClient>();
    options.dapr_publisher = [client](const bus::DaprPublishRequest& r) {
      notify::HttpRequest request;
      request.method = "POST";
      request.url = r.url;
      request.headers = r.headers;
      request.body = r.body;
      request.timeout = r.timeout;
      const auto response = client->send(request);
      if (!response.ok()) return bus::DaprPublishResult{0, response.error};
      // The sidecar's error text, for the relay's log line: its start is enough.
      return bus::DaprPublishResult{
          response.status, response.status == 204 ? std::string() : response.body.substr(0, 300)};
    };
  }
  // The API role publishes: it (or `todo serve`) ships the outbox to Kafka or through the Dapr
  // sidecar; the others only read.
  options.relay = config.command == "serve" || config.command == "api";
  // On PostgreSQL other processes may consume the same groups: they share the partitions.
  options.share_partitions = !config.database_url.empty();
  for (auto [topic, partitions] :
       {std::pair{domain::kTaskEventsTopic, domain::kTaskEventsPartitions},
        std::pair{domain::kTaskUpdatesTopic, domain::kTaskUpdatesPartitions},
        std::pair{domain::kRemindersTopic, domain::kRemindersPartitions}}) {
    options.partitions[std::string(topic)] = partitions;
    options.partitions[bus::dead_letter_topic(topic)] = 1;
  }
  return options;
}

std::string jwt_secret_of(const Config& config, domain::RandomSource& random) {
  return config.jwt_secret ? *config.jwt_secret : load_or_create_secret(config.data_dir, random);
}

}  // namespace

store::DatabaseOptions database_options(const Config& config) {
  store::DatabaseOptions options;
  options.path = config.data_dir / "todo.db";
  options.durability = config.durability;
  if (!config.database_url.empty()) {
    options.dialect = store::Dialect::kPostgres;
    options.url = config.database_url;
  }
  return options;
}

Core::Core(const Config& config_in)
    : config(config_in),
      database(store::open_database(database_options(config))),
      jwt_secret(jwt_secret_of(config, random)),
      jwt(auth::JwtSettings{.secret = jwt_secret,
                            .lifetime = std::chrono::seconds(config.access_token_ttl_seconds)},
          clock, random),
      bus(bus::open_bus(*database, clock, random, bus_options(config))) {
  metrics.add_collector([this] { return bus->prometheus_text(); });
  // Consumed events leave the log after their retention period.
  housekeeping.add("events",
                   [this, retention = std::chrono::hours(24) * config.event_retention_days] {
                     bus->purge(retention);
                   });
}

Core::~Core() { stop(); }

void Core::start() {
  bus->start();
  housekeeping.start();
}

void Core::stop() {
  housekeeping.stop();
  bus->stop();
}

}  // namespace todo::app

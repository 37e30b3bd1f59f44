#include "app/sync_component.h"

#include <unistd.h>

#include <climits>

#include "domain/task_events.h"
#include "log/log.h"

namespace todo::app {
namespace {

services::sync::SyncOptions sync_options(const Config& config) {
  services::sync::SyncOptions options;
  options.allowed_origins = config.cors_origins;
  options.limits.max_connections = static_cast<std::size_t>(config.ws_max_connections);
  options.limits.max_connections_per_user =
      static_cast<std::size_t>(config.ws_max_connections_per_user);
  options.max_replay_frames = static_cast<std::size_t>(config.ws_send_queue_frames);
  return options;
}

}  // namespace

std::string sync_instance_id(const Config& config) {
  if (!config.sync_instance_id.empty()) return config.sync_instance_id;
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "%s", "host");
  }
  return std::string(host) + "-" + std::to_string(::getpid());
}

SyncComponent::SyncComponent(Core& core)
    : sync_(*core.database, core.jwt, core.clock, sync_options(core.config)) {
  const std::string group = services::sync::consumer_group(sync_instance_id(core.config));
  core.router.add_websocket(std::string(services::sync::kRoute), sync_.handler());
  core.bus->subscribe_ephemeral({std::string(domain::kTaskUpdatesTopic), group,
                                 [this](const bus::Event& event) { sync_.handle(event); }});
  core.metrics.add_collector([this] { return sync_.prometheus_text(); });
  // The worker and the expiry timers idle until a client connects; sessions need them at once.
  sync_.start();
  log::info("live sync ready", {{"route", std::string(services::sync::kRoute)}, {"group", group}});
}

SyncComponent::~SyncComponent() { sync_.stop(); }

std::unique_ptr<Component> make_sync_component(Core& core) {
  return std::make_unique<SyncComponent>(core);
}

}  // namespace todo::app

#include "app/operations_component.h"

#include "app/dapr_routes.h"
#include "services/api/operations_routes.h"

namespace todo::app {

OperationsComponent::OperationsComponent(Core& core) {
  services::api::add_operations_routes(core.router, *core.database, *core.bus);
  // --bus dapr: the sidecar subscribes and delivers through these, in every role.
  if (auto* push = core.bus->push_delivery()) add_dapr_routes(core.router, *push);
  // With --metrics-address, /metrics is served on its own listener (commands.cpp), not here.
  if (!core.config.metrics_address) {
    services::api::add_metrics_route(core.router, core.metrics, core.config.metrics_token);
  }
}

std::unique_ptr<Component> make_operations_component(Core& core) {
  return std::make_unique<OperationsComponent>(core);
}

}  // namespace todo::app

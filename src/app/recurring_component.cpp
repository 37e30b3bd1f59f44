#include "app/recurring_component.h"



namespace todo::app {

RecurringComponent::RecurringComponent(Core& core)
    : tasks_({*core.database, core.zones, core.clock, core.random}, core.config.quotas),
      recurring_(tasks_, core.zones, core.clock) {
  core.bus->subscribe(recurring_.subscription(*core.database));
  // Rendered only while the server runs, which stops before any component goes away.
  core.metrics.add_collector([this] { return recurring_.prometheus_text(); });
}

std::unique_ptr<Component> make_recurring_component(Core& core) {
  return std::make_unique<RecurringComponent>(core);
}

}  // namespace todo::app

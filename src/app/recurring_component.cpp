#include "app/recurring_component.h"



namespace todo::app {

RecurringComponent::RecurringComponent(Core& core)
    : tasks_({*core.database, core.zones, core.clock, core.random}),
      recurring_(tasks_, core.zones, core.clock) {
  core.bus->subscribe(recurring_.subscription(*core.database));
}

std::unique_ptr<Component> make_recurring_component(Core& core) {
  return std::make_unique<RecurringComponent>(core);
}

}  // namespace todo::app

#include "app/recurring_component.h"

#include <string>

#include "domain/task_events.h"

namespace todo::app {

RecurringComponent::RecurringComponent(Core& core)
    : tasks_({*core.database, core.zones, core.clock, core.random}),
      recurring_(tasks_, core.zones, core.clock) {
  core.bus->subscribe(
      {std::string(domain::kTaskEventsTopic), std::string(services::recurring::kConsumerGroup),
       [this](const bus::Event& event, store::Transaction& tx) { recurring_.handle(event, tx); }});
}

std::unique_ptr<Component> make_recurring_component(Core& core) {
  return std::make_unique<RecurringComponent>(core);
}

}  // namespace todo::app

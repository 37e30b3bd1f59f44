#include "app/application.h"

namespace todo::app {

Application::Application(const Config& config, std::span<const ComponentFactory> components)
    : core_(config) {
  for (auto make : components) components_.push_back(make(core_));
  core_.start();
}

Application::~Application() {
  core_.stop();
  // Components go in reverse order of construction, then the core (a member declared first).
  while (!components_.empty()) components_.pop_back();
}

std::span<const ComponentFactory> every_component() {
  static constexpr ComponentFactory kEvery[] = {make_api_component, make_audit_component,
                                                make_recurring_component, make_sync_component,
                                                make_notify_component, make_web_component};
  return kEvery;
}

}  // namespace todo::app

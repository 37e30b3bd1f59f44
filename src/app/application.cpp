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
  static constexpr ComponentFactory kEvery[] = {make_operations_component, make_api_component,
                                                make_audit_component,      make_recurring_component,
                                                make_sync_component,       make_notify_component,
                                                make_web_component};
  return kEvery;
}

std::span<const ComponentFactory> components_of(std::string_view command) {
  static constexpr ComponentFactory kApi[] = {make_operations_component, make_api_component,
                                              make_web_component};
  static constexpr ComponentFactory kRecurring[] = {make_operations_component,
                                                    make_recurring_component};
  static constexpr ComponentFactory kNotify[] = {make_operations_component, make_notify_component};
  static constexpr ComponentFactory kSync[] = {make_operations_component, make_sync_component};
  static constexpr ComponentFactory kAudit[] = {make_operations_component, make_audit_component};
  if (command == "serve") return every_component();
  if (command == "api") return kApi;
  if (command == "recurring") return kRecurring;
  if (command == "notify") return kNotify;
  if (command == "sync") return kSync;
  if (command == "audit") return kAudit;
  return {};
}

}  // namespace todo::app

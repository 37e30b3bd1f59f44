// A component: one service's part of a process. It is built from the core's parts, adds its
// routes, bus subscriptions and housekeeping steps in its constructor, and holds the service
// objects they call. It runs nothing itself: the core starts the bus and housekeeping after every
// component is built, and stops them before any component is destroyed.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>

namespace todo::app {

class Core;

class Component {
 public:
  virtual ~Component() = default;
};

// Thrown by a component's constructor when the configuration cannot work (a key or credentials
// file that is given but unusable): `todo serve` prints the message and exits with 2, like a
// ConfigError.
struct StartupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How a process names the components it runs: `todo serve` runs every_component(); a distributed
// role runs one, e.g. `todo audit` = Application(config, kAuditOnly) with
// `constexpr ComponentFactory kAuditOnly[] = {make_audit_component};`.
using ComponentFactory = std::unique_ptr<Component> (*)(Core& core);

std::unique_ptr<Component> make_api_component(Core& core);        // app/api_component.h
std::unique_ptr<Component> make_audit_component(Core& core);      // app/audit_component.h
std::unique_ptr<Component> make_recurring_component(Core& core);  // app/recurring_component.h
std::unique_ptr<Component> make_sync_component(Core& core);       // app/sync_component.h
std::unique_ptr<Component> make_notify_component(Core& core);     // app/notify_component.h
// The web app's files at "/"; the router's fallback, so it may come in any order.
std::unique_ptr<Component> make_web_component(Core& core);  // app/web_component.h

// api, audit, recurring, sync, notify, web: the routes are added in this order.
std::span<const ComponentFactory> every_component();

}  // namespace todo::app

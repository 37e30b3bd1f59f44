// A component: one service's part of a process. It is built from the core's parts, adds its
// routes, bus subscriptions and housekeeping steps in its constructor, and holds the service
// objects they call. It runs nothing itself: the core starts the bus and housekeeping after every
// component is built, and stops them before any component is destroyed.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>

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
// role runs the operations component and its service's, e.g. `todo audit` =
// Application(config, components_of("audit")).
using ComponentFactory = std::unique_ptr<Component> (*)(Core& core);

// /health, /ready, /openapi.json, /metrics: every process runs it, first.
std::unique_ptr<Component> make_operations_component(Core& core);  // app/operations_component.h

std::unique_ptr<Component> make_api_component(Core& core);        // app/api_component.h
std::unique_ptr<Component> make_audit_component(Core& core);      // app/audit_component.h
std::unique_ptr<Component> make_recurring_component(Core& core);  // app/recurring_component.h
std::unique_ptr<Component> make_sync_component(Core& core);       // app/sync_component.h
std::unique_ptr<Component> make_notify_component(Core& core);     // app/notify_component.h
// The web app's files at "/"; the router's fallback, so it may come in any order.
std::unique_ptr<Component> make_web_component(Core& core);  // app/web_component.h

// operations, api, audit, recurring, sync, notify, web: the routes are added in this order.
std::span<const ComponentFactory> every_component();

// The components of a command (ADR 0022): serve → every_component(); api → operations, api, web;
// recurring, notify, sync, audit → operations and that service. Empty for any other command.
std::span<const ComponentFactory> components_of(std::string_view command);

}  // namespace todo::app

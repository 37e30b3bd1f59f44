// One process: the core and the components it was asked to run, wired explicitly in that order.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "app/component.h"
#include "app/config.h"
#include "app/core.h"
#include "http/metrics.h"
#include "http/router.h"

namespace todo::app {

class Application {
 public:
  // Builds the core, then each component in order, then starts the bus and housekeeping.
  Application(const Config& config, std::span<const ComponentFactory> components);
  // Stops the bus and housekeeping before the components they call go away.
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  const http::Router& router() const { return core_.router; }
  http::Metrics& metrics() { return core_.metrics; }

 private:
  Core core_;
  std::vector<std::unique_ptr<Component>> components_;
};

}  // namespace todo::app

// Everything `todo serve` runs in one process, built from the configuration in one place.
#pragma once

#include "app/config.h"
#include "http/metrics.h"
#include "http/router.h"

#include <memory>

namespace todo::app {

class EmbeddedApp {
 public:
  explicit EmbeddedApp(const Config& config);
  ~EmbeddedApp();
  EmbeddedApp(const EmbeddedApp&) = delete;
  EmbeddedApp& operator=(const EmbeddedApp&) = delete;

  const http::Router& router() const;
  http::Metrics& metrics();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace todo::app

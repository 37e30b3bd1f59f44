// The commands of the `todo` binary, each wiring what it needs explicitly.
#pragma once

#include "app/config.h"

namespace todo::app {

// Each returns the process exit code.
// `todo serve` and the roles (`todo api`, ...): the components of config.command on one port.
int run_serve(const Config& config);
int run_migrate(const Config& config);

}  // namespace todo::app

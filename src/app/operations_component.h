// The operations routes every process serves, whichever services it runs: /health, /ready (the
// database answers and the bus delivers), /openapi.json and, unless --metrics-address moves it to
// its own listener, /metrics.
#pragma once

#include "app/component.h"
#include "app/core.h"

namespace todo::app {

class OperationsComponent final : public Component {
 public:
  explicit OperationsComponent(Core& core);
};

}  // namespace todo::app

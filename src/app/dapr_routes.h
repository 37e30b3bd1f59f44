// The routes a Dapr sidecar calls on the application (ADR 0024): GET /dapr/subscribe and the
// deliveries POST /dapr/events/{topic} and POST /dapr/fanout/{topic}, over the bus's PushDelivery.
#pragma once

#include "bus/push_delivery.h"
#include "http/router.h"

namespace todo::app {

// `push` must outlive the router's use of it (the core owns both).
void add_dapr_routes(http::Router& router, bus::PushDelivery& push);

}  // namespace todo::app

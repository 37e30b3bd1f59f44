// Operations routes: /health, /ready, /metrics, /openapi.json.
#pragma once

#include "bus/bus.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/database.h"

#include <string_view>

namespace todo::services::api {

// The OpenAPI 3.1 document of every route (docs/api/openapi.json, compiled in).
std::string_view openapi_document();

// /ready answers 200 when the database answers and the bus is delivering, else 503.
void add_operations_routes(http::Router& router, store::Database& database, const bus::Bus& bus,
                           http::Metrics& metrics);

}  // namespace todo::services::api

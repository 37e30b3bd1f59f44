// Operations routes: /health, /ready, /metrics, /openapi.json.
#pragma once

#include "bus/bus.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/database.h"

#include <optional>
#include <string>
#include <string_view>

namespace todo::services::api {

// The OpenAPI 3.1 document of every route (docs/api/openapi.json, compiled in).
std::string_view openapi_document();

// /health, /ready (200 when the database answers and the bus is delivering, else 503) and
// /openapi.json. /metrics is added apart (add_metrics_route), on this router or its own listener.
void add_operations_routes(http::Router& router, store::Database& database, const bus::Bus& bus);

// GET /metrics, Prometheus text. With a token, only for `Authorization: Bearer <token>` (compared
// in constant time): without the header 401 token-missing, with another token 401 token-invalid.
void add_metrics_route(http::Router& router, http::Metrics& metrics,
                       std::optional<std::string> token);

}  // namespace todo::services::api

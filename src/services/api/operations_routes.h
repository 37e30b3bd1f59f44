// Operations routes: /health, /ready, /metrics, /openapi.json.
#pragma once

#include "http/metrics.h"
#include "http/router.h"
#include "store/database.h"

#include <string_view>

namespace todo::services::api {

// The OpenAPI 3.1 document of every route (docs/api/openapi.json, compiled in).
std::string_view openapi_document();

void add_operations_routes(http::Router& router, store::Database& database, http::Metrics& metrics);

}  // namespace todo::services::api

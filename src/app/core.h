// The core every process runs, whichever components it hosts: configuration, clock and randomness,
// time zones, the database, the bus, the token codec, the HTTP router and metrics, housekeeping.
// Components are built from its parts and add their routes, subscriptions and housekeeping steps;
// then start() sets the bus and housekeeping going.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "app/housekeeping.h"
#include "app/system_zones.h"
#include "auth/jwt.h"
#include "auth/tokens.h"
#include "bus/open_bus.h"
#include "domain/clock.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/database.h"
#include "store/open_database.h"

namespace todo::app {

// The database the configuration names: PostgreSQL at --database-url, else SQLite in --data-dir.
store::DatabaseOptions database_options(const Config& config);

class Core {
 public:
  explicit Core(const Config& config);
  ~Core();  // stops
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // After every component added its routes, subscriptions and housekeeping steps.
  void start();
  // Housekeeping, then the bus (consumers finish their handler and commit). Idempotent; call it
  // before the components whose handlers and steps they run go away.
  void stop();

  // Members are declared in dependency order: each is built from the ones above it.
  const Config config;
  domain::SystemClock clock;
  auth::SodiumRandom random;
  SystemZoneCatalog zones;
  std::unique_ptr<store::Database> database;
  std::string jwt_secret;  // also the key material of the cursor codecs
  auth::JwtCodec jwt;
  std::unique_ptr<bus::BusBackend> bus;
  http::Metrics metrics;
  http::Router router;
  Housekeeping housekeeping{clock};
};

}  // namespace todo::app

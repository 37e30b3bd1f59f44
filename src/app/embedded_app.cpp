// Wiring of the embedded mode: clock, randomness, SQLite, auth, services and their routes.
#include "app/embedded_app.h"

#include "app/secret.h"
#include "app/system_zones.h"
#include "auth/admission.h"
#include "auth/jwt.h"
#include "auth/login_guard.h"
#include "auth/password.h"
#include "auth/rate_limiter.h"
#include "auth/tokens.h"
#include "bus/log_bus.h"
#include "domain/task_events.h"
#include "log/log.h"
#include "scheduler/scheduler.h"
#include "services/api/account_routes.h"
#include "services/api/account_service.h"
#include "services/api/authenticator.h"
#include "services/api/list_cursor.h"
#include "services/api/operations_routes.h"
#include "services/api/recurrence_routes.h"
#include "services/api/task_routes.h"
#include "tasks/task_service.h"
#include "services/audit/audit_cursor.h"
#include "services/audit/audit_routes.h"
#include "services/audit/audit_service.h"
#include "services/recurring/recurring_service.h"
#include "store/sqlite/sqlite_database.h"

namespace todo::app {
namespace {

store::SqliteOptions sqlite_options(const Config& config) {
  store::SqliteOptions options;
  options.path = config.data_dir / "todo.db";
  options.durability = config.durability;
  return options;
}

bus::LogBusOptions bus_options(const Config& config) {
  bus::LogBusOptions options;
  options.retry = config.bus_retry;
  for (auto [topic, partitions] : {std::pair{domain::kTaskEventsTopic, domain::kTaskEventsPartitions},
                                   std::pair{domain::kTaskUpdatesTopic, domain::kTaskUpdatesPartitions},
                                   std::pair{domain::kRemindersTopic, domain::kRemindersPartitions}}) {
    options.partitions[std::string(topic)] = partitions;
    options.partitions[bus::dead_letter_topic(topic)] = 1;
  }
  return options;
}

// The audit routes know the caller by user id only.
services::audit::Authenticate audit_authenticate(
    const services::api::Authenticator& authenticator) {
  return [&authenticator](const http::Request& req) -> domain::Result<std::string> {
    auto claims = authenticator.authenticate(req);
    if (!claims) return claims.error();
    return std::move(claims->sub);
  };
}

auth::LoginPolicy login_policy(const Config& config) {
  auth::LoginPolicy policy;
  policy.attempts_per_address = config.login_limit_address;
  policy.failures_per_account_address = config.login_limit_account;
  policy.failures_per_account = config.login_limit_account_total;
  return policy;
}

std::string jwt_secret_of(const Config& config, domain::RandomSource& random) {
  return config.jwt_secret ? *config.jwt_secret : load_or_create_secret(config.data_dir, random);
}

}  // namespace

// Members are declared in dependency order: each is built from the ones above it.
struct EmbeddedApp::Parts {
  explicit Parts(const Config& config)
      : database(store::open_sqlite(sqlite_options(config))),
        jwt_secret(jwt_secret_of(config, random)),
        jwt(auth::JwtSettings{jwt_secret}, clock, random),
        login_guard(login_policy(config), clock),
        register_per_address({config.register_limit_address, std::chrono::hours(1)}, clock),
        register_hashing(config.register_concurrency),
        accounts({*database, jwt, hasher, auth::PasswordPolicy::shipped(), zones, login_guard,
                  register_per_address, register_hashing, clock, random}),
        authenticator(jwt),
        tasks({*database, zones, clock, random}),
        cursors(auth::hmac_sha256(jwt_secret, "todo list cursor v1")),
        recurring(tasks, zones, clock),
        audit(*database, clock),
        audit_cursors(auth::hmac_sha256(jwt_secret, "todo audit cursor v1")),
        audit_retention(std::chrono::days(config.audit_retention_days)),
        bus(*database, clock, random, bus_options(config)),
        event_retention(std::chrono::hours(24) * config.event_retention_days) {
    services::api::add_operations_routes(router, *database, bus, metrics);
    services::api::add_account_routes(router, accounts, authenticator);
    services::api::add_task_routes(router, {tasks, accounts, authenticator, cursors, zones, clock});
    services::api::add_recurrence_routes(router, {tasks, accounts, authenticator, zones, clock});
    services::audit::add_audit_routes(router,
                                      {audit, audit_authenticate(authenticator), audit_cursors});
    bus.subscribe(
        {std::string(domain::kTaskEventsTopic), std::string(services::audit::kConsumerGroup),
         [this](const bus::Event& event, store::Transaction& tx) { audit.handle(event, tx); }});
    bus.subscribe(recurring.subscription(*database));
    metrics.add_collector([this] { return bus::prometheus_text(bus.stats()); });
    bus.start();
    timers.every("housekeeping", std::chrono::hours(1), [this] { purge_old_rows(); });
    timers.start();
  }

  ~Parts() {
    timers.stop();  // a housekeeping run in progress finishes first
    // Consumers finish their handler and commit before the services they call go away.
    bus.stop();
  }

  // Housekeeping: tombstones after 30 days, idempotency keys after a day, expired refresh tokens,
  // consumed events and audit entries after their retention periods.
  void purge_old_rows() {
    tasks.purge(std::chrono::hours(24 * 30));
    bus.purge(event_retention);
    if (const auto purged = audit.purge(audit_retention); purged > 0) {
      log::info("audit entries purged", {{"count", purged}});
    }
    auto now = clock.now();
    database->write([&](store::Transaction& s) { store::RefreshTokenRepository{}.purge_expired(s, now); });
  }

  domain::SystemClock clock;
  auth::SodiumRandom random;
  SystemZoneCatalog zones;
  std::unique_ptr<store::Database> database;
  std::string jwt_secret;
  auth::JwtCodec jwt;
  auth::PasswordHasher hasher;
  auth::LoginGuard login_guard;
  auth::RateLimiter register_per_address;
  auth::Admission register_hashing;
  services::api::AccountService accounts;
  services::api::Authenticator authenticator;
  tasks::TaskService tasks;
  services::api::ListCursorCodec cursors;
  services::recurring::RecurringService recurring;
  services::audit::AuditService audit;
  services::audit::AuditCursorCodec audit_cursors;
  std::chrono::days audit_retention;
  bus::LogBus bus;
  std::chrono::microseconds event_retention;
  http::Metrics metrics;
  http::Router router;
  scheduler::Scheduler timers{clock};  // last: stopped before anything its jobs use
};

EmbeddedApp::EmbeddedApp(const Config& config) : parts_(std::make_unique<Parts>(config)) {}
EmbeddedApp::~EmbeddedApp() = default;

const http::Router& EmbeddedApp::router() const { return parts_->router; }
http::Metrics& EmbeddedApp::metrics() { return parts_->metrics; }

}  // namespace todo::app

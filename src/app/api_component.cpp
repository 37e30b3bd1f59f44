#include "app/api_component.h"

#include <chrono>

#include "auth/tokens.h"
#include "services/api/account_routes.h"
#include "services/api/recurrence_routes.h"
#include "services/api/task_routes.h"
#include "store/user_repository.h"

namespace todo::app {
namespace {

auth::LoginPolicy login_policy(const Config& config) {
  auth::LoginPolicy policy;
  policy.attempts_per_address = config.login_limit_address;
  policy.failures_per_account_address = config.login_limit_account;
  policy.failures_per_account = config.login_limit_account_total;
  return policy;
}

}  // namespace

ApiComponent::ApiComponent(Core& core)
    : login_guard_(login_policy(core.config), core.clock),
      register_per_address_({core.config.register_limit_address, std::chrono::hours(1)},
                            core.clock),
      register_hashing_(core.config.register_concurrency),
      accounts_({*core.database, core.jwt, hasher_, auth::PasswordPolicy::shipped(), core.zones,
                 login_guard_, register_per_address_, register_hashing_, core.clock,
                 core.random}),
      authenticator_(core.jwt),
      tasks_({*core.database, core.zones, core.clock, core.random}, core.config.quotas),
      cursors_(auth::hmac_sha256(core.jwt_secret, "todo list cursor v1")) {
  services::api::add_account_routes(core.router, accounts_, authenticator_);
  services::api::add_task_routes(
      core.router, {tasks_, accounts_, authenticator_, cursors_, core.zones, core.clock});
  services::api::add_recurrence_routes(core.router,
                                       {tasks_, accounts_, authenticator_, core.zones, core.clock});
  core.housekeeping.add("api", [this, &core] { purge_old_rows(core); });
}

// Tombstones after 30 days (and idempotency keys after a day), expired refresh tokens.
void ApiComponent::purge_old_rows(Core& core) {
  tasks_.purge(std::chrono::hours(24 * 30));
  auto now = core.clock.now();
  core.database->write(
      [&](store::Transaction& tx) { store::RefreshTokenRepository{}.purge_expired(tx, now); });
}

std::unique_ptr<Component> make_api_component(Core& core) {
  return std::make_unique<ApiComponent>(core);
}

}  // namespace todo::app

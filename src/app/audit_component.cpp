#include "app/audit_component.h"

#include <string>

#include "auth/tokens.h"
#include "domain/task_events.h"
#include "log/log.h"
#include "services/audit/audit_routes.h"

namespace todo::app {
namespace {

// The audit routes know the caller by user id only.
services::audit::Authenticate audit_authenticate(
    const services::api::Authenticator& authenticator) {
  return [&authenticator](const http::Request& req) -> domain::Result<std::string> {
    auto claims = authenticator.authenticate(req);
    if (!claims) return claims.error();
    return std::move(claims->sub);
  };
}

}  // namespace

AuditComponent::AuditComponent(Core& core)
    : authenticator_(core.jwt),
      audit_(*core.database, core.clock),
      cursors_(auth::hmac_sha256(core.jwt_secret, "todo audit cursor v1")),
      retention_(core.config.audit_retention_days) {
  services::audit::add_audit_routes(core.router,
                                    {audit_, audit_authenticate(authenticator_), cursors_});
  core.bus->subscribe(
      {std::string(domain::kTaskEventsTopic), std::string(services::audit::kConsumerGroup),
       [this](const bus::Event& event, store::Transaction& tx) { audit_.handle(event, tx); }});
  core.housekeeping.add("audit", [this] { purge_old_entries(); });
}

void AuditComponent::purge_old_entries() {
  if (const auto purged = audit_.purge(retention_); purged > 0) {
    log::info("audit entries purged", {{"count", purged}});
  }
}

std::unique_ptr<Component> make_audit_component(Core& core) {
  return std::make_unique<AuditComponent>(core);
}

}  // namespace todo::app

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
  // Two phases: the event is parsed and its canonical bytes written on the consumer thread; the
  // writer thread only reads the chain's head, hashes and appends.
  bus::Subscription subscription;
  subscription.topic = std::string(domain::kTaskEventsTopic);
  subscription.group = std::string(services::audit::kConsumerGroup);
  subscription.prepare = [](const bus::Event& event) -> std::any {
    return services::audit::prepare_entry(event);
  };
  subscription.apply = [this](const bus::Event&, std::any& prepared, store::Transaction& tx) {
    audit_.apply(std::any_cast<services::audit::PreparedEntry&>(prepared), tx);
  };
  core.bus->subscribe(std::move(subscription));
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

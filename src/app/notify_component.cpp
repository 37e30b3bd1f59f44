#include "app/notify_component.h"

#include <string>

#include "domain/task_events.h"
#include "services/notify/notify_routes.h"

namespace todo::app {
namespace {

notify::SmtpOptions smtp_options(const Config& config) {
  notify::SmtpOptions options;
  options.url = config.smtp_url;
  options.user = config.smtp_user;
  options.password = config.smtp_password;
  options.mail_from = config.mail_from;
  return options;
}

notify::NotifyOptions notify_options(const Config& config) {
  notify::NotifyOptions options;
  options.grace = config.reminder_grace;
  options.retry_backoff = config.notify_retry_backoff;
  options.workers = config.notify_workers;
  options.public_url = config.public_url;
  return options;
}

}  // namespace

NotifyComponent::NotifyComponent(Core& core)
    : authenticator_(core.jwt),
      email_(smtp_options(core.config), core.clock),
      // SEAM (notify-channels): "push" (Web Push and FCM) and "webhook" join this map, and "email"
      // becomes the SendGrid channel when SMTP is not configured but a SendGrid key is.
      service_(*core.database, core.clock, core.random, core.zones, {{"email", &email_}},
               notify_options(core.config)) {
  notify::add_notify_routes(
      core.router,
      {*core.database,
       core.clock,
       core.random,
       [this](const http::Request& req) -> domain::Result<std::string> {
         auto claims = authenticator_.authenticate(req);
         if (!claims) return claims.error();
         return std::move(claims->sub);
       },
       core.config.allow_private_webhooks,
       // SEAM (notify-channels): their SSRF check (DNS resolution included) and VAPID key.
       {},
       {},
       core.config.quotas});
  core.bus->subscribe(service_.subscription());
  core.metrics.add_collector([this] { return service_.metrics().prometheus_text(); });
  // Components have no start hook (ADR 0011): the core starts the bus after every component is
  // built. The timer and the delivery pool depend on nothing but the database and the channels,
  // so they start here and stop in the destructor, after the core stopped the bus.
  service_.start();
}

NotifyComponent::~NotifyComponent() { service_.stop(); }

std::unique_ptr<Component> make_notify_component(Core& core) {
  return std::make_unique<NotifyComponent>(core);
}

}  // namespace todo::app

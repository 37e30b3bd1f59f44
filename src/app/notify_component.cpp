#include "app/notify_component.h"

#include <string>

#include "domain/task_events.h"
#include "services/notify/notify_routes.h"
#include "services/notify/ssrf_guard.h"
#include "services/notify/web_push.h"

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

// --mail-from is "Name <address>" or "address"; SendGrid takes the two apart.
notify::SendGridOptions sendgrid_options(const Config& config) {
  notify::SendGridOptions options;
  options.api_key = config.sendgrid_api_key;
  options.base_url = config.sendgrid_base_url;
  options.from = notify::mailbox_address(config.mail_from);
  if (auto lt = config.mail_from.find('<'); lt != std::string::npos) {
    std::string name = config.mail_from.substr(0, lt);
    while (!name.empty() && (name.back() == ' ' || name.back() == '"')) name.pop_back();
    while (!name.empty() && (name.front() == ' ' || name.front() == '"')) name.erase(0, 1);
    if (!name.empty()) options.from_name = name;
  }
  return options;
}

std::unique_ptr<notify::PushChannel> push_channel(notify::HttpClient& http,
                                                  const domain::Clock& clock,
                                                  const Config& config) {
  notify::PushChannelConfig push;
  push.data_dir = config.data_dir;
  push.vapid_private_key = config.vapid_private_key;
  push.vapid_public_key = config.vapid_public_key;
  push.vapid_subject = config.vapid_subject;
  // The VAPID subject's default is mailto:<the bare address>, not the display form.
  push.mail_from = notify::mailbox_address(config.mail_from);
  push.fcm_credentials = config.fcm_credentials;
  push.fcm_base_url = config.fcm_base_url;
  notify::BuiltPushChannel built = notify::make_push_channel(http, clock, push);
  if (!built.channel) throw StartupError("push notifications: " + built.error);
  return std::move(built.channel);
}

notify::NotifyOptions notify_options(const Config& config) {
  notify::NotifyOptions options;
  options.grace = config.reminder_grace;
  options.retry_backoff = config.notify_retry_backoff;
  options.workers = config.notify_workers;
  options.public_url = config.public_url;
  // On PostgreSQL other processes share the schedule: look for what they left every 2 s.
  if (!config.database_url.empty()) options.shared_rescan = std::chrono::seconds(2);
  return options;
}

// Before any thread uses libcurl: the component is built on the main thread, before the bus,
// the timer and the delivery pool start.
notify::CurlHttpClientOptions http_options(const Config& config) {
  notify::init_libcurl();
  return {.allow_private = config.allow_private_webhooks};
}

}  // namespace

NotifyComponent::NotifyComponent(Core& core)
    : authenticator_(core.jwt),
      http_(http_options(core.config)),
      smtp_(smtp_options(core.config), core.clock),
      sendgrid_(http_, sendgrid_options(core.config)),
      push_(push_channel(http_, core.clock, core.config)),
      webhook_(http_, core.clock),
      // "email" is SMTP when --smtp-url is set, else SendGrid when --sendgrid-api-key is, else
      // the unconfigured SMTP channel (its deliveries are recorded as not-configured).
      service_(*core.database, core.clock, core.random, core.zones,
               {{"email", !core.config.smtp_url.empty() || core.config.sendgrid_api_key.empty()
                              ? static_cast<notify::Channel*>(&smtp_)
                              : &sendgrid_},
                {"push", push_.get()},
                {"webhook", &webhook_}},
               notify_options(core.config)) {
  const bool allow_private = core.config.allow_private_webhooks;
  notify::add_notify_routes(
      core.router,
      {*core.database, core.clock, core.random,
       [this](const http::Request& req) -> domain::Result<std::string> {
         auto claims = authenticator_.authenticate(req);
         if (!claims) return claims.error();
         return std::move(claims->sub);
       },
       allow_private,
       // The full SSRF guard (DNS resolution included) after the routes' literal check; the
       // webhook channel's HTTP client runs it again at each delivery and pins what it vetted.
       [allow_private](std::string_view url) {
         return notify::check_webhook_url(url, allow_private);
       },
       [allow_private](std::string_view subscription_json) {
         return notify::check_push_subscription(subscription_json, allow_private);
       },
       [this]() -> std::optional<std::string> {
         const notify::Vapid* vapid = push_->vapid();
         if (!vapid) return std::nullopt;
         return vapid->public_key();
       },
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

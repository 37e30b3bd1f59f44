// The notification service's component: consumes `reminders` into its schedule, fires reminders
// on one timer, delivers them on its pool through the channels — e-mail (SMTP, or SendGrid when
// only a SendGrid key is given), push (Web Push and FCM) and webhook, all sharing one HTTP client
// with the SSRF guard — serves the notification routes and adds its metrics.
#pragma once

#include <memory>

#include "app/component.h"
#include "app/core.h"
#include "services/api/authenticator.h"
#include "services/notify/email_channel.h"
#include "services/notify/http_client.h"
#include "services/notify/notify_service.h"
#include "services/notify/push_channel.h"
#include "services/notify/sendgrid_channel.h"
#include "services/notify/webhook_channel.h"

namespace todo::app {

class NotifyComponent final : public Component {
 public:
  // Throws StartupError when a push key or the FCM credentials file is given but unusable.
  explicit NotifyComponent(Core& core);
  ~NotifyComponent() override;

 private:
  services::api::Authenticator authenticator_;
  notify::CurlHttpClient http_;
  notify::SmtpEmailChannel smtp_;
  notify::SendGridChannel sendgrid_;
  std::unique_ptr<notify::PushChannel> push_;
  notify::WebhookChannel webhook_;
  notify::NotifyService service_;
};

}  // namespace todo::app

// The notification service's component: consumes `reminders` into its schedule, fires reminders
// on one timer, delivers them on its pool through the channels (e-mail over SMTP here; push,
// webhook and SendGrid join from the notify-channels work), serves the notification routes and
// adds its metrics.
#pragma once

#include "app/component.h"
#include "app/core.h"
#include "services/api/authenticator.h"
#include "services/notify/email_channel.h"
#include "services/notify/notify_service.h"

namespace todo::app {

class NotifyComponent final : public Component {
 public:
  explicit NotifyComponent(Core& core);
  ~NotifyComponent() override;

 private:
  services::api::Authenticator authenticator_;
  notify::SmtpEmailChannel email_;
  notify::NotifyService service_;
};

}  // namespace todo::app

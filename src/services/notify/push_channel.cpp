// Dispatch by target kind.
#include "services/notify/push_channel.h"

namespace todo::notify {

bool PushChannel::configured_for(std::string_view kind) const {
  if (kind == "webpush") return web_push_ != nullptr;
  if (kind == "fcm") return fcm_ != nullptr;
  return false;
}

Result PushChannel::send(const Reminder& reminder, const Target& target) {
  if (target.kind == "webpush") {
    if (!web_push_) return {Outcome::kNotConfigured, "", "Web Push has no VAPID keys or subject"};
    return web_push_->send(reminder, target);
  }
  if (target.kind == "fcm") {
    if (!fcm_) return {Outcome::kNotConfigured, "", "FCM has no --fcm-credentials"};
    return fcm_->send(reminder, target);
  }
  return {Outcome::kFailed, "", "the push channel cannot send to a " + target.kind + " target"};
}

}  // namespace todo::notify

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

BuiltPushChannel make_push_channel(HttpClient& http, const domain::Clock& clock,
                                   const PushChannelConfig& config) {
  if (config.vapid_private_key.empty() && !config.vapid_public_key.empty()) {
    return {nullptr, "--vapid-public-key needs --vapid-private-key"};
  }
  LoadedVapid vapid = config.vapid_private_key.empty()
                          ? Vapid::load_or_create(config.data_dir)
                          : Vapid::from_keys(config.vapid_private_key, config.vapid_public_key);
  if (!vapid.vapid) return {nullptr, vapid.error};
  std::string subject = config.vapid_subject;
  if (subject.empty() && !config.mail_from.empty()) subject = "mailto:" + config.mail_from;
  if (!subject.empty() && !subject.starts_with("mailto:") && !subject.starts_with("https://")) {
    return {nullptr, "--vapid-subject must be a mailto: or https: URL"};
  }
  std::unique_ptr<WebPushSender> web_push;
  if (!subject.empty()) {
    web_push = std::make_unique<WebPushSender>(http, clock, std::move(*vapid.vapid),
                                               WebPushOptions{.subject = subject});
  }
  std::unique_ptr<FcmSender> fcm;
  if (!config.fcm_credentials.empty()) {
    LoadedFcmCredentials credentials = load_fcm_credentials(config.fcm_credentials);
    if (!credentials.credentials) return {nullptr, "--fcm-credentials: " + credentials.error};
    fcm = std::make_unique<FcmSender>(http, clock, std::move(*credentials.credentials),
                                      FcmOptions{.base_url = config.fcm_base_url});
  }
  return {std::make_unique<PushChannel>(std::move(web_push), std::move(fcm)), ""};
}

}  // namespace todo::notify

// The "push" channel: Web Push for webpush targets, FCM for fcm targets; each side reports
// not-configured when its keys are missing.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "services/notify/channel.h"
#include "services/notify/fcm_channel.h"
#include "services/notify/web_push.h"

namespace todo::notify {

class PushChannel final : public Channel {
 public:
  // Either may be null: that kind of target is then not configured.
  PushChannel(std::unique_ptr<WebPushSender> web_push, std::unique_ptr<FcmSender> fcm)
      : web_push_(std::move(web_push)), fcm_(std::move(fcm)) {}
  std::string_view name() const override { return "push"; }
  bool configured() const override { return web_push_ || fcm_; }
  bool configured_for(std::string_view kind) const;
  Result send(const Reminder& reminder, const Target& target) override;
  // For GET /api/notification-targets/vapid-public-key; null without Web Push.
  const Vapid* vapid() const { return web_push_ ? &web_push_->vapid() : nullptr; }

 private:
  std::unique_ptr<WebPushSender> web_push_;
  std::unique_ptr<FcmSender> fcm_;
};

// What `todo serve` knows about push (src/app/config.h).
struct PushChannelConfig {
  std::filesystem::path data_dir;           // where a generated VAPID key is kept
  std::string vapid_private_key{};          // --vapid-private-key; empty: generated into data_dir
  std::string vapid_public_key{};           // --vapid-public-key; checked against the private key
  std::string vapid_subject{};              // --vapid-subject; empty: "mailto:" + mail_from
  std::string mail_from{};                  // --mail-from
  std::filesystem::path fcm_credentials{};  // --fcm-credentials; empty: no FCM
  std::string fcm_base_url = "https://fcm.googleapis.com";  // --fcm-base-url
};
struct BuiltPushChannel {
  std::unique_ptr<PushChannel> channel;  // null when error is set
  std::string error;  // a key or credentials file that is given but unusable: refuse to start
};
// Web Push is configured when a VAPID key pair and a subject are known (the key pair is always
// known: given, or generated once); FCM when a credentials file is given.
BuiltPushChannel make_push_channel(HttpClient& http, const domain::Clock& clock,
                                   const PushChannelConfig& config);

}  // namespace todo::notify

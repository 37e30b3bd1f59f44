// The "push" channel: Web Push for webpush targets, FCM for fcm targets; each side reports
// not-configured when its keys are missing.
#pragma once

#include <memory>

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

}  // namespace todo::notify

// src/services/notify/channel.h — one delivery channel. send() is blocking, runs on the
// notification service's delivery pool, never inside a database transaction, never on the writer.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
namespace todo::notify {
struct Reminder {            // what one notification says
  std::string delivery_id;   // unique per (reminder, channel, target): idempotency key for receivers
  std::string user_id, task_id, title;
  std::string due_at_utc;    // RFC 3339, "Z"; empty when the task has no due date
  std::string due_local;     // the due time formatted in the user's time zone, e.g. "Mon 7 Dec 2026, 09:00 (Europe/Berlin)"
  std::string fire_at_utc;   // the reminder's instant, RFC 3339
  bool late = false;         // sent after its instant, within the grace period
  std::string task_url;      // link to the task in the web app (base URL from config)
};
struct Target {              // one row of notification_targets
  std::string id, kind;      // kind: email | webpush | fcm | webhook
  std::string address;       // email address | PushSubscription JSON | FCM registration token | webhook URL
  std::string secret;        // webhook signing secret (whsec_…); empty for other kinds
};
enum class Outcome { kDelivered, kRetry, kFailed, kNotConfigured, kTargetGone };
struct Result {
  Outcome outcome;
  std::string provider_id;   // message id from the provider, if any
  std::string error;         // human-readable reason for anything but kDelivered
};
class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::string_view name() const = 0;   // "email" | "push" | "webhook"
  virtual bool configured() const = 0;        // false → deliveries are recorded as not-configured
  virtual Result send(const Reminder& reminder, const Target& target) = 0;
};
}  // namespace todo::notify

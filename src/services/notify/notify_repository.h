// The notification service's tables (migration 0010): reminders, deliveries, their attempts and
// the users' notification targets. SQL lives in named constants beside the code that runs it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "store/database.h"

namespace todo::notify {

// The status values of reminders.status and deliveries.status.
namespace reminder_status {
inline constexpr std::string_view kScheduled = "scheduled";
inline constexpr std::string_view kSent = "sent";
inline constexpr std::string_view kCancelled = "cancelled";
inline constexpr std::string_view kMissed = "missed";
}  // namespace reminder_status

namespace delivery_status {
inline constexpr std::string_view kPending = "pending";
inline constexpr std::string_view kSending = "sending";
inline constexpr std::string_view kDelivered = "delivered";
inline constexpr std::string_view kFailed = "failed";
inline constexpr std::string_view kNotConfigured = "not-configured";
inline constexpr std::string_view kTargetGone = "target-gone";
}  // namespace delivery_status

// The pseudo target ids of deliveries that have no notification_targets row.
inline constexpr std::string_view kAccountTarget = "account";  // the account's reminder e-mail
inline constexpr std::string_view kInAppTarget = "in-app";

struct StoredTarget {
  std::string id, user_id, kind, address, secret;
  domain::Timestamp created_at{};
};

struct StoredReminder {
  std::string id, task_id, user_id;
  domain::Timestamp fire_at{};
  std::optional<std::int64_t> offset_minutes;
  std::string status;
  bool late = false;
  std::optional<domain::Timestamp> fired_at;
};

struct StoredDelivery {
  std::string id, reminder_id, channel, target, target_kind, target_address, status;
  std::int64_t attempts = 0;
  std::optional<domain::Timestamp> next_attempt_at;
  std::optional<std::string> last_error, provider_id;
  domain::Timestamp created_at{}, updated_at{};
};

// A new reminder instant of a task (ids are made before the write transaction).
struct NewReminder {
  std::string id;
  domain::Timestamp fire_at{};
  std::optional<std::int64_t> offset_minutes;
};

struct NewDelivery {
  std::string id, channel, target, target_kind, target_address, status;
  std::int64_t attempts = 0;
  std::optional<domain::Timestamp> next_attempt_at;
  std::optional<std::string> last_error, provider_id;
};

// What one attempt ended with, as recorded.
struct AttemptRecord {
  std::string delivery_id;
  std::string status;  // the delivery's new status
  std::optional<domain::Timestamp> next_attempt_at;
  std::string outcome;  // delivered | retry | failed | not-configured | target-gone
  std::optional<std::string> error, provider_id;
  domain::Timestamp started_at{}, finished_at{};
};

class NotifyRepository {
 public:
  // ---- the schedule (the consumer's transaction) ----
  // Replaces the task's scheduled instants by `instants`: scheduled rows not among them are
  // deleted, new ones inserted, cancelled ones among them scheduled again; rows that fired or
  // were missed stay as they are. Returns how many instants were (re)scheduled.
  std::int64_t replace_schedule(store::Transaction& s, std::string_view task_id,
                                std::string_view user_id, const std::vector<NewReminder>& instants,
                                domain::Timestamp now) const;
  // Marks the task's scheduled reminders cancelled; returns how many.
  std::int64_t cancel_schedule(store::Transaction& s, std::string_view task_id,
                               domain::Timestamp now) const;

  // ---- firing ----
  // Scheduled reminders due by `until` (and after `after`), earliest first, at most `limit`.
  std::vector<StoredReminder> due_reminders(store::Transaction& s,
                                            std::optional<domain::Timestamp> after,
                                            domain::Timestamp until, int limit) const;
  // The earliest instant anything waits for: a scheduled reminder or a pending delivery.
  std::optional<domain::Timestamp> next_reminder(store::Transaction& s) const;
  // The earliest scheduled reminder strictly after `after`.
  std::optional<domain::Timestamp> next_reminder_after(store::Transaction& s,
                                                       domain::Timestamp after) const;
  std::optional<domain::Timestamp> next_retry(store::Transaction& s) const;
  // Moves a scheduled reminder to `status`; false when it was no longer scheduled.
  bool finish_reminder(store::Transaction& s, std::string_view id, std::string_view status,
                       bool late, domain::Timestamp at) const;
  void insert_delivery(store::Transaction& s, std::string_view reminder_id, const NewDelivery& d,
                       domain::Timestamp now) const;

  // ---- delivering ----
  // Pending deliveries due at `now` move to `sending`; returns their ids (at most limit).
  std::vector<std::string> claim_due_deliveries(store::Transaction& s, domain::Timestamp now,
                                                int limit) const;
  // Deliveries left in `sending` since `claimed_before` or earlier (the process that claimed them
  // died during the send) become due at `now`.
  std::int64_t release_sending(store::Transaction& s, domain::Timestamp now,
                               domain::Timestamp claimed_before) const;
  // Deliveries this process claimed and did not start (a stop) become due at `now`.
  void release_claimed(store::Transaction& s, const std::vector<std::string>& ids,
                       domain::Timestamp now) const;
  std::optional<StoredDelivery> find_delivery(store::Transaction& s, std::string_view id) const;
  std::optional<StoredReminder> find_reminder(store::Transaction& s, std::string_view id) const;
  // Records one finished attempt; false when the delivery was not in `sending`.
  bool record_attempt(store::Transaction& s, const AttemptRecord& attempt) const;

  // ---- targets ----
  std::vector<StoredTarget> targets_of(store::Transaction& s, std::string_view user_id) const;
  std::optional<StoredTarget> find_target(store::Transaction& s, std::string_view id) const;
  // Throws store::ConstraintViolation when the user already has this (kind, address).
  void insert_target(store::Transaction& s, const StoredTarget& target) const;
  // The user's target only; false when there is none with this id.
  bool delete_target(store::Transaction& s, std::string_view user_id, std::string_view id) const;
  std::int64_t count_targets(store::Transaction& s, std::string_view user_id) const;
  // Any user's target (a provider said it is gone).
  void remove_target(store::Transaction& s, std::string_view id) const;

  // ---- the delivery log ----
  std::vector<StoredReminder> reminders_of_task(store::Transaction& s, std::string_view task_id,
                                                std::string_view user_id) const;
  std::vector<StoredDelivery> deliveries_of(store::Transaction& s,
                                            std::string_view reminder_id) const;
};

}  // namespace todo::notify

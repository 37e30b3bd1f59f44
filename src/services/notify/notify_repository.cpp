// SQL of the notification service's tables.
#include "services/notify/notify_repository.h"

#include <algorithm>

#include "domain/time_format.h"
#include "store/sql_values.h"

namespace todo::notify {
namespace {

using store::Row;
using store::Transaction;
using store::Value;

namespace sql = store::sql;
using sql::micros;
using sql::optional_time;
using sql::text;

constexpr std::string_view kScheduledOfTask =
    "SELECT fire_at FROM reminders WHERE task_id = $1 AND status = 'scheduled'";
constexpr std::string_view kDeleteScheduled =
    "DELETE FROM reminders WHERE task_id = $1 AND fire_at = $2 AND status = 'scheduled'";
// A cancelled instant that is wanted again is scheduled again; one that fired or was missed is
// history and stays (a reminder is never sent twice).
constexpr std::string_view kUpsertReminder =
    "INSERT INTO reminders (id, task_id, user_id, fire_at, offset_minutes, status, late, "
    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'scheduled', 0, $6, $6) "
    "ON CONFLICT (task_id, fire_at) DO UPDATE SET status = 'scheduled', "
    "user_id = excluded.user_id, offset_minutes = excluded.offset_minutes, "
    "updated_at = excluded.updated_at WHERE reminders.status = 'cancelled'";
constexpr std::string_view kCancelScheduled =
    "UPDATE reminders SET status = 'cancelled', updated_at = $2 "
    "WHERE task_id = $1 AND status = 'scheduled'";

constexpr std::string_view kDueReminders =
    "SELECT id, task_id, user_id, fire_at, offset_minutes, status, late, fired_at FROM reminders "
    "WHERE status = 'scheduled' AND fire_at <= $1 ORDER BY fire_at, id LIMIT $2";
constexpr std::string_view kDueRemindersAfter =
    "SELECT id, task_id, user_id, fire_at, offset_minutes, status, late, fired_at FROM reminders "
    "WHERE status = 'scheduled' AND fire_at > $1 AND fire_at <= $2 ORDER BY fire_at, id LIMIT $3";
constexpr std::string_view kNextReminder =
    "SELECT MIN(fire_at) FROM reminders WHERE status = 'scheduled'";
constexpr std::string_view kNextReminderAfter =
    "SELECT MIN(fire_at) FROM reminders WHERE status = 'scheduled' AND fire_at > $1";
constexpr std::string_view kNextRetry =
    "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'";
constexpr std::string_view kFinishReminder =
    "UPDATE reminders SET status = $2, late = $3, fired_at = $4, updated_at = $4 "
    "WHERE id = $1 AND status = 'scheduled'";
constexpr std::string_view kInsertDelivery =
    "INSERT INTO deliveries (id, reminder_id, channel, target, target_kind, target_address, "
    "status, attempts, next_attempt_at, last_error, provider_id, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) "
    "ON CONFLICT (reminder_id, channel, target) DO NOTHING";

constexpr std::string_view kDueDeliveries =
    "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 "
    "ORDER BY next_attempt_at, id LIMIT $2";
constexpr std::string_view kClaimDelivery =
    "UPDATE deliveries SET status = 'sending', updated_at = $2 WHERE id = $1 AND status = "
    "'pending'";
constexpr std::string_view kReleaseSending =
    "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $1 "
    "WHERE status = 'sending' AND updated_at <= $2";
constexpr std::string_view kReleaseOne =
    "UPDATE deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2 "
    "WHERE id = $1 AND status = 'sending'";
constexpr std::string_view kFindDelivery =
    "SELECT id, reminder_id, channel, target, target_kind, target_address, status, attempts, "
    "next_attempt_at, last_error, provider_id, created_at, updated_at FROM deliveries WHERE id = "
    "$1";
constexpr std::string_view kDeliveriesOf =
    "SELECT id, reminder_id, channel, target, target_kind, target_address, status, attempts, "
    "next_attempt_at, last_error, provider_id, created_at, updated_at FROM deliveries "
    "WHERE reminder_id = $1 ORDER BY channel, target";
constexpr std::string_view kFindReminder =
    "SELECT id, task_id, user_id, fire_at, offset_minutes, status, late, fired_at FROM reminders "
    "WHERE id = $1";
constexpr std::string_view kRemindersOfTask =
    "SELECT id, task_id, user_id, fire_at, offset_minutes, status, late, fired_at FROM reminders "
    "WHERE task_id = $1 AND user_id = $2 ORDER BY fire_at";
constexpr std::string_view kRecordAttempt =
    "UPDATE deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, "
    "last_error = $4, provider_id = COALESCE($5, provider_id), updated_at = $6 "
    "WHERE id = $1 AND status = 'sending'";
constexpr std::string_view kInsertAttempt =
    "INSERT INTO notification_attempts (delivery_id, attempt, started_at, finished_at, outcome, "
    "error) SELECT id, attempts, $2, $3, $4, $5 FROM deliveries WHERE id = $1";

constexpr std::string_view kTargetsOf =
    "SELECT id, user_id, kind, address, secret, created_at FROM notification_targets "
    "WHERE user_id = $1 ORDER BY created_at, id";
constexpr std::string_view kFindTarget =
    "SELECT id, user_id, kind, address, secret, created_at FROM notification_targets WHERE id = $1";
constexpr std::string_view kInsertTarget =
    "INSERT INTO notification_targets (id, user_id, kind, address, secret, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
constexpr std::string_view kDeleteTarget =
    "DELETE FROM notification_targets WHERE id = $1 AND user_id = $2";
constexpr std::string_view kRemoveTarget = "DELETE FROM notification_targets WHERE id = $1";
constexpr std::string_view kCountTargets =
    "SELECT COUNT(*) FROM notification_targets WHERE user_id = $1";

StoredReminder reminder_of(const Row& r) {
  return StoredReminder{r.text(0),
                        r.text(1),
                        r.text(2),
                        domain::from_micros(r.integer(3)),
                        r.optional_integer(4),
                        r.text(5),
                        r.integer(6) != 0,
                        optional_time(r, 7)};
}

StoredDelivery delivery_of(const Row& r) {
  return StoredDelivery{r.text(0),
                        r.text(1),
                        r.text(2),
                        r.text(3),
                        r.text(4),
                        r.text(5),
                        r.text(6),
                        r.integer(7),
                        optional_time(r, 8),
                        r.optional_text(9),
                        r.optional_text(10),
                        domain::from_micros(r.integer(11)),
                        domain::from_micros(r.integer(12))};
}

StoredTarget target_of(const Row& r) {
  return StoredTarget{r.text(0), r.text(1), r.text(2),
                      r.text(3), r.text(4), domain::from_micros(r.integer(5))};
}

}  // namespace

std::int64_t NotifyRepository::replace_schedule(Transaction& s, std::string_view task_id,
                                                std::string_view user_id,
                                                const std::vector<NewReminder>& instants,
                                                domain::Timestamp now) const {
  for (const Row& row : s.query(kScheduledOfTask, {text(task_id)})) {
    const auto fire_at = domain::from_micros(row.integer(0));
    const bool wanted = std::any_of(instants.begin(), instants.end(),
                                    [&](const NewReminder& r) { return r.fire_at == fire_at; });
    if (!wanted) s.execute(kDeleteScheduled, {text(task_id), micros(fire_at)});
  }
  std::int64_t scheduled = 0;
  for (const NewReminder& r : instants) {
    scheduled += s.execute(kUpsertReminder, {r.id, text(task_id), text(user_id), micros(r.fire_at),
                                             sql::optional_value(r.offset_minutes, [](auto m) { return Value(m); }), micros(now)});
  }
  return scheduled;
}

std::int64_t NotifyRepository::cancel_schedule(Transaction& s, std::string_view task_id,
                                               domain::Timestamp now) const {
  return s.execute(kCancelScheduled, {text(task_id), micros(now)});
}

std::vector<StoredReminder> NotifyRepository::due_reminders(
    Transaction& s, std::optional<domain::Timestamp> after, domain::Timestamp until,
    int limit) const {
  std::vector<StoredReminder> out;
  const auto rows =
      after ? s.query(kDueRemindersAfter, {micros(*after), micros(until), std::int64_t{limit}})
            : s.query(kDueReminders, {micros(until), std::int64_t{limit}});
  for (const Row& r : rows) out.push_back(reminder_of(r));
  return out;
}

std::optional<domain::Timestamp> NotifyRepository::next_reminder(Transaction& s) const {
  return optional_time(*s.query_one(kNextReminder), 0);
}

std::optional<domain::Timestamp> NotifyRepository::next_reminder_after(
    Transaction& s, domain::Timestamp after) const {
  return optional_time(*s.query_one(kNextReminderAfter, {micros(after)}), 0);
}

std::optional<domain::Timestamp> NotifyRepository::next_retry(Transaction& s) const {
  return optional_time(*s.query_one(kNextRetry), 0);
}

bool NotifyRepository::finish_reminder(Transaction& s, std::string_view id, std::string_view status,
                                       bool late, domain::Timestamp at) const {
  return s.execute(kFinishReminder,
                   {text(id), text(status), std::int64_t{late ? 1 : 0}, micros(at)}) == 1;
}

void NotifyRepository::insert_delivery(Transaction& s, std::string_view reminder_id,
                                       const NewDelivery& d, domain::Timestamp now) const {
  s.execute(kInsertDelivery,
            {d.id, text(reminder_id), d.channel, d.target, d.target_kind, d.target_address,
             d.status, d.attempts, sql::optional_value(d.next_attempt_at, micros), sql::optional_value(d.last_error, text),
             sql::optional_value(d.provider_id, text), micros(now)});
}

std::vector<std::string> NotifyRepository::claim_due_deliveries(Transaction& s,
                                                                domain::Timestamp now,
                                                                int limit) const {
  std::vector<std::string> claimed;
  for (const Row& r : s.query(kDueDeliveries, {micros(now), std::int64_t{limit}})) {
    if (s.execute(kClaimDelivery, {r.text(0), micros(now)}) == 1) claimed.push_back(r.text(0));
  }
  return claimed;
}

std::int64_t NotifyRepository::release_sending(Transaction& s, domain::Timestamp now,
                                               domain::Timestamp claimed_before) const {
  return s.execute(kReleaseSending, {micros(now), micros(claimed_before)});
}

void NotifyRepository::release_claimed(Transaction& s, const std::vector<std::string>& ids,
                                       domain::Timestamp now) const {
  for (const auto& id : ids) s.execute(kReleaseOne, {text(id), micros(now)});
}

std::optional<StoredDelivery> NotifyRepository::find_delivery(Transaction& s,
                                                              std::string_view id) const {
  auto row = s.query_one(kFindDelivery, {text(id)});
  if (!row) return std::nullopt;
  return delivery_of(*row);
}

std::optional<StoredReminder> NotifyRepository::find_reminder(Transaction& s,
                                                              std::string_view id) const {
  auto row = s.query_one(kFindReminder, {text(id)});
  if (!row) return std::nullopt;
  return reminder_of(*row);
}

bool NotifyRepository::record_attempt(Transaction& s, const AttemptRecord& a) const {
  const auto changed =
      s.execute(kRecordAttempt,
                {a.delivery_id, a.status, sql::optional_value(a.next_attempt_at, micros),
                 sql::optional_value(a.error, text), sql::optional_value(a.provider_id, text), micros(a.finished_at)});
  if (changed != 1) return false;
  s.execute(kInsertAttempt, {a.delivery_id, micros(a.started_at), micros(a.finished_at), a.outcome,
                             sql::optional_value(a.error, text)});
  return true;
}

std::vector<StoredTarget> NotifyRepository::targets_of(Transaction& s,
                                                       std::string_view user_id) const {
  std::vector<StoredTarget> out;
  for (const Row& r : s.query(kTargetsOf, {text(user_id)})) out.push_back(target_of(r));
  return out;
}

std::optional<StoredTarget> NotifyRepository::find_target(Transaction& s,
                                                          std::string_view id) const {
  auto row = s.query_one(kFindTarget, {text(id)});
  if (!row) return std::nullopt;
  return target_of(*row);
}

void NotifyRepository::insert_target(Transaction& s, const StoredTarget& t) const {
  s.execute(kInsertTarget, {t.id, t.user_id, t.kind, t.address, t.secret, micros(t.created_at)});
}

bool NotifyRepository::delete_target(Transaction& s, std::string_view user_id,
                                     std::string_view id) const {
  return s.execute(kDeleteTarget, {text(id), text(user_id)}) == 1;
}

std::int64_t NotifyRepository::count_targets(Transaction& s, std::string_view user_id) const {
  return s.query_one(kCountTargets, {text(user_id)})->integer(0);
}

void NotifyRepository::remove_target(Transaction& s, std::string_view id) const {
  s.execute(kRemoveTarget, {text(id)});
}

std::vector<StoredReminder> NotifyRepository::reminders_of_task(Transaction& s,
                                                                std::string_view task_id,
                                                                std::string_view user_id) const {
  std::vector<StoredReminder> out;
  for (const Row& r : s.query(kRemindersOfTask, {text(task_id), text(user_id)})) {
    out.push_back(reminder_of(r));
  }
  return out;
}

std::vector<StoredDelivery> NotifyRepository::deliveries_of(Transaction& s,
                                                            std::string_view reminder_id) const {
  std::vector<StoredDelivery> out;
  for (const Row& r : s.query(kDeliveriesOf, {text(reminder_id)})) out.push_back(delivery_of(r));
  return out;
}

}  // namespace todo::notify

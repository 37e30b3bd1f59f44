#include "services/notify/notify_metrics.h"

#include <sstream>

namespace todo::notify {

void NotifyMetrics::scheduled(std::int64_t n) {
  std::lock_guard lock(mutex_);
  scheduled_ += n;
}

void NotifyMetrics::cancelled(std::int64_t n) {
  std::lock_guard lock(mutex_);
  cancelled_ += n;
}

void NotifyMetrics::fired(double lateness_seconds, bool late) {
  std::lock_guard lock(mutex_);
  ++fired_;
  if (late) ++late_;
  lateness_sum_ += lateness_seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (lateness_seconds <= kBuckets[i]) {
      ++buckets_[i];
      break;
    }
  }
}

void NotifyMetrics::missed() {
  std::lock_guard lock(mutex_);
  ++missed_;
}

void NotifyMetrics::delivery(std::string_view channel, std::string_view status) {
  std::lock_guard lock(mutex_);
  ++deliveries_[{std::string(channel), std::string(status)}];
}

std::int64_t NotifyMetrics::fired_count() const {
  std::lock_guard lock(mutex_);
  return fired_;
}

std::int64_t NotifyMetrics::deliveries(std::string_view channel, std::string_view status) const {
  std::lock_guard lock(mutex_);
  auto it = deliveries_.find(std::pair{std::string(channel), std::string(status)});
  return it == deliveries_.end() ? 0 : it->second;
}

std::string NotifyMetrics::prometheus_text() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  const auto counter = [&out](std::string_view name, std::string_view help, std::int64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n"
        << name << ' ' << value << '\n';
  };
  counter("todo_reminders_scheduled_total", "Reminder instants scheduled.", scheduled_);
  counter("todo_reminders_cancelled_total", "Scheduled reminders cancelled.", cancelled_);
  counter("todo_reminders_fired_total", "Reminders fired (late ones included).", fired_);
  counter("todo_reminders_late_total", "Reminders fired late, within the grace period.", late_);
  counter("todo_reminders_missed_total", "Reminders missed by more than the grace period.",
          missed_);
  out << "# HELP todo_notification_deliveries_total Finished delivery attempts by channel and "
         "resulting status.\n# TYPE todo_notification_deliveries_total counter\n";
  for (const auto& [key, value] : deliveries_) {
    out << "todo_notification_deliveries_total{channel=\"" << key.first << "\",status=\""
        << key.second << "\"} " << value << '\n';
  }
  out << "# HELP todo_reminder_lateness_seconds Fire time minus the reminder's instant.\n"
         "# TYPE todo_reminder_lateness_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out << "todo_reminder_lateness_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << cumulative
        << '\n';
  }
  out << "todo_reminder_lateness_seconds_bucket{le=\"+Inf\"} " << fired_ << '\n'
      << "todo_reminder_lateness_seconds_sum " << lateness_sum_ << '\n'
      << "todo_reminder_lateness_seconds_count " << fired_ << '\n';
  return out.str();
}

}  // namespace todo::notify

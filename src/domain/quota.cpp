// Quota rules: stored bytes of a task, the usage a change moves, the quota it would exceed.
#include "domain/quota.h"

#include <algorithm>

namespace todo::domain {
namespace {

bool live(const Task* task) { return task != nullptr && !task->deleted_at; }

// The tags of `a` that `b` does not have, in `a`'s order.
std::vector<std::string> missing_from(const std::vector<std::string>& a,
                                      const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& tag : a) {
    if (std::find(b.begin(), b.end(), tag) == b.end()) out.push_back(tag);
  }
  return out;
}

std::string_view unit_of(Quota quota) {
  switch (quota) {
    case Quota::kTasks:
      return " tasks";
    case Quota::kTags:
      return " distinct tags";
    case Quota::kBytes:
      return " bytes of task text";
    case Quota::kNotificationTargets:
      return " notification targets";
  }
  return "";
}

}  // namespace

std::string_view quota_name(Quota quota) {
  switch (quota) {
    case Quota::kTasks:
      return "tasks";
    case Quota::kTags:
      return "tags";
    case Quota::kBytes:
      return "bytes";
    case Quota::kNotificationTargets:
      return "notification_targets";
  }
  return "unknown";
}

std::int64_t stored_bytes(const Task& task) {
  std::size_t n = task.title.size() + task.description.value_or("").size() +
                  task.recurrence.value_or("").size();
  for (const auto& tag : task.tags) n += tag.size();
  return static_cast<std::int64_t>(n);
}

UsageChange usage_change(const Task* before, const Task* after) {
  static const std::vector<std::string> kNone;
  const bool was = live(before);
  const bool is = live(after);
  UsageChange change;
  change.tasks = (is ? 1 : 0) - (was ? 1 : 0);
  change.bytes = (is ? stored_bytes(*after) : 0) - (was ? stored_bytes(*before) : 0);
  const auto& old_tags = was ? before->tags : kNone;
  const auto& new_tags = is ? after->tags : kNone;
  change.added_tags = missing_from(new_tags, old_tags);
  change.removed_tags = missing_from(old_tags, new_tags);
  return change;
}

std::int64_t limit_of(const QuotaLimits& limits, Quota quota) {
  switch (quota) {
    case Quota::kTasks:
      return limits.tasks;
    case Quota::kTags:
      return limits.tags;
    case Quota::kBytes:
      return limits.bytes;
    case Quota::kNotificationTargets:
      return limits.notification_targets;
  }
  return 0;
}

std::optional<Quota> exceeded_quota(const QuotaLimits& limits, const Usage& usage,
                                    std::int64_t tasks_delta, std::int64_t tags_delta,
                                    std::int64_t bytes_delta) {
  const auto beyond = [](std::int64_t limit, std::int64_t used, std::int64_t delta) {
    return limit > 0 && delta > 0 && used + delta > limit;
  };
  if (beyond(limits.tasks, usage.tasks, tasks_delta)) return Quota::kTasks;
  if (beyond(limits.tags, usage.tags, tags_delta)) return Quota::kTags;
  if (beyond(limits.bytes, usage.bytes, bytes_delta)) return Quota::kBytes;
  return std::nullopt;
}

Error quota_exceeded(Quota quota, std::int64_t limit, std::int64_t usage) {
  Error e = make_error(ErrorCode::kQuotaExceeded,
                       "This account has reached its quota of " + std::to_string(limit) +
                           std::string(unit_of(quota)) + " (it uses " + std::to_string(usage) +
                           "); delete or shorten some to make room.");
  e.extensions.emplace_back("quota", "\"" + std::string(quota_name(quota)) + "\"");
  e.extensions.emplace_back("limit", std::to_string(limit));
  e.extensions.emplace_back("usage", std::to_string(usage));
  return e;
}

Result<void> check_notification_targets(const QuotaLimits& limits, std::int64_t current,
                                        std::int64_t adding) {
  const std::int64_t limit = limits.notification_targets;
  if (limit > 0 && adding > 0 && current + adding > limit) {
    return quota_exceeded(Quota::kNotificationTargets, limit, current);
  }
  return {};
}

}  // namespace todo::domain

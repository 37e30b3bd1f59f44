// Per-account quotas (docs/adr/0013-quotas.md): what counts against each one, how a change moves
// the usage, and the refusal a client sees. Pure rules; the store keeps the usage and compares it
// with the limits in the same statement that changes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/task.h"

namespace todo::domain {

// Limits per account; 0 means no limit.
struct QuotaLimits {
  std::int64_t tasks = 100000;              // live tasks (tombstones do not count)
  std::int64_t tags = 1000;                 // distinct tags over the live tasks
  std::int64_t bytes = 64LL * 1024 * 1024;  // stored user text of the live tasks
  std::int64_t notification_targets = 50;   // rows of notification_targets
};

enum class Quota { kTasks, kTags, kBytes, kNotificationTargets };

// "tasks", "tags", "bytes", "notification_targets": the `quota` member of the problem.
std::string_view quota_name(Quota quota);

// What one account uses of the task quotas.
struct Usage {
  std::int64_t tasks = 0;
  std::int64_t tags = 0;
  std::int64_t bytes = 0;
};

// The user text a task stores, in bytes of UTF-8: title, description, tags and recurrence rule.
// The other columns are bounded and small (ids, times, a zone name, reminder offsets).
std::int64_t stored_bytes(const Task& task);

// How a change of one task moves its owner's usage. Only a live task (not a tombstone) counts.
// The distinct-tag count depends on the owner's other tasks, so it is left to the store, which
// keeps a count of tasks per tag: the change names the tags it adds to and removes from this task.
struct UsageChange {
  std::int64_t tasks = 0;
  std::int64_t bytes = 0;
  std::vector<std::string> added_tags;
  std::vector<std::string> removed_tags;
};

// `before`/`after`: the task as stored before and after the change (nullptr: none, e.g. before an
// insert).
UsageChange usage_change(const Task* before, const Task* after);

// The first quota that `usage` plus the deltas goes beyond, among those the change grows (a change
// that shrinks or keeps a quantity never fails on it, so an account over a lowered limit can still
// delete and edit).
std::optional<Quota> exceeded_quota(const QuotaLimits& limits, const Usage& usage,
                                    std::int64_t tasks_delta, std::int64_t tags_delta,
                                    std::int64_t bytes_delta);

std::int64_t limit_of(const QuotaLimits& limits, Quota quota);

// 409 quota-exceeded naming the quota, its limit and the account's current usage.
Error quota_exceeded(Quota quota, std::int64_t limit, std::int64_t usage);

// For the notification targets: adding `adding` targets to an account that has `current`. Call it
// in the write closure with `current` counted by SQL in the same transaction (the single writer,
// or a row lock on the account in PostgreSQL, makes the count and the insert atomic).
Result<void> check_notification_targets(const QuotaLimits& limits, std::int64_t current,
                                        std::int64_t adding = 1);

}  // namespace todo::domain

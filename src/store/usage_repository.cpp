// Account usage: one conditional UPDATE both checks the quotas and moves the counters; the tag
// counts say how many distinct tags a change adds or drops.
#include "store/usage_repository.h"

#include "store/sql_values.h"

namespace todo::store {
namespace {

using sql::text;

constexpr std::string_view kEnsureUsage =
    "INSERT INTO user_usage (user_id, tasks, tags, bytes) VALUES ($1, 0, 0, 0) "
    "ON CONFLICT (user_id) DO NOTHING";
// $2..$4 the deltas, $5..$7 the limits (0: none). A quantity that does not grow is never refused.
constexpr std::string_view kMoveUsage =
    "UPDATE user_usage SET tasks = tasks + $2, tags = tags + $3, bytes = bytes + $4 "
    "WHERE user_id = $1 "
    "AND ($2 <= 0 OR $5 <= 0 OR tasks + $2 <= $5) "
    "AND ($3 <= 0 OR $6 <= 0 OR tags + $3 <= $6) "
    "AND ($4 <= 0 OR $7 <= 0 OR bytes + $4 <= $7)";
constexpr std::string_view kFindUsage =
    "SELECT tasks, tags, bytes FROM user_usage WHERE user_id = $1";
constexpr std::string_view kTagTasks =
    "SELECT tasks FROM user_tags WHERE user_id = $1 AND tag = $2";
constexpr std::string_view kAddTag =
    "INSERT INTO user_tags (user_id, tag, tasks) VALUES ($1, $2, 1) "
    "ON CONFLICT (user_id, tag) DO UPDATE SET tasks = user_tags.tasks + 1";
constexpr std::string_view kReleaseTag =
    "UPDATE user_tags SET tasks = tasks - 1 WHERE user_id = $1 AND tag = $2 AND tasks > 1";
constexpr std::string_view kDropTag = "DELETE FROM user_tags WHERE user_id = $1 AND tag = $2";

// How many live tasks carry `tag` (0: none).
std::int64_t tag_tasks(Transaction& s, std::string_view user_id, const std::string& tag) {
  auto row = s.query_one(kTagTasks, {text(user_id), text(tag)});
  return row ? row->integer(0) : 0;
}

}  // namespace

domain::Result<void> UsageRepository::apply(Transaction& s, std::string_view user_id,
                                            const domain::UsageChange& change,
                                            const domain::QuotaLimits& limits) const {
  if (change.tasks == 0 && change.bytes == 0 && change.added_tags.empty() &&
      change.removed_tags.empty()) {
    return {};
  }
  std::int64_t tags_delta = 0;
  for (const auto& tag : change.added_tags) {
    if (tag_tasks(s, user_id, tag) == 0) ++tags_delta;
  }
  for (const auto& tag : change.removed_tags) {
    if (tag_tasks(s, user_id, tag) == 1) --tags_delta;
  }
  s.execute(kEnsureUsage, {text(user_id)});
  const std::int64_t moved =
      s.execute(kMoveUsage, {text(user_id), change.tasks, tags_delta, change.bytes, limits.tasks,
                             limits.tags, limits.bytes});
  if (moved != 1) {
    const domain::Usage usage = find(s, user_id);
    const auto quota =
        domain::exceeded_quota(limits, usage, change.tasks, tags_delta, change.bytes);
    if (!quota) throw DatabaseError("user_usage refused a change that no quota refuses");
    const std::int64_t used = *quota == domain::Quota::kTasks  ? usage.tasks
                              : *quota == domain::Quota::kTags ? usage.tags
                                                               : usage.bytes;
    return domain::quota_exceeded(*quota, domain::limit_of(limits, *quota), used);
  }
  for (const auto& tag : change.added_tags) s.execute(kAddTag, {text(user_id), text(tag)});
  for (const auto& tag : change.removed_tags) {
    if (s.execute(kReleaseTag, {text(user_id), text(tag)}) == 0) {
      s.execute(kDropTag, {text(user_id), text(tag)});
    }
  }
  return {};
}

domain::Usage UsageRepository::find(Transaction& s, std::string_view user_id) const {
  domain::Usage usage;
  if (auto row = s.query_one(kFindUsage, {text(user_id)})) {
    usage.tasks = row->integer(0);
    usage.tags = row->integer(1);
    usage.bytes = row->integer(2);
  }
  return usage;
}

}  // namespace todo::store

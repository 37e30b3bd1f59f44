// Account usage: one conditional UPDATE both checks the quotas and moves the counters; the tag
// counts say how many distinct tags a change adds or drops (read in one statement, added in one).
#include "store/usage_repository.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

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
// The tags of a change are read in one statement and added in one: their placeholders, $2..$n
// after the user id, are the only part of the text that varies (by count, never by content).
std::string placeholders(std::size_t count, std::string_view each_before,
                         std::string_view each_after) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += ", ";
    out += each_before;
    out += '$';
    out += std::to_string(i + 2);
    out += each_after;
  }
  return out;
}
constexpr std::string_view kReleaseTag =
    "UPDATE user_tags SET tasks = tasks - 1 WHERE user_id = $1 AND tag = $2 AND tasks > 1";
constexpr std::string_view kDropTag = "DELETE FROM user_tags WHERE user_id = $1 AND tag = $2";

// $1 the user id, $2..$n the tags.
std::vector<Value> user_and_tags(std::string_view user_id, const std::vector<std::string>& tags) {
  std::vector<Value> params{text(user_id)};
  for (const auto& tag : tags) params.push_back(text(tag));
  return params;
}

// How many live tasks carry each of `tags` (absent: none), in one statement.
std::map<std::string, std::int64_t, std::less<>> tag_tasks(Transaction& s, std::string_view user_id,
                                                           const std::vector<std::string>& tags) {
  std::map<std::string, std::int64_t, std::less<>> out;
  if (tags.empty()) return out;
  const std::string sql = "SELECT tag, tasks FROM user_tags WHERE user_id = $1 AND tag IN (" +
                          placeholders(tags.size(), "", "") + ")";
  for (const auto& row : s.query(sql, user_and_tags(user_id, tags))) out.emplace(row.text(0), row.integer(1));
  return out;
}

void add_tags(Transaction& s, std::string_view user_id, const std::vector<std::string>& tags) {
  if (tags.empty()) return;
  s.execute_unread("INSERT INTO user_tags (user_id, tag, tasks) VALUES " +
                       placeholders(tags.size(), "($1, ", ", 1)") +
                       " ON CONFLICT (user_id, tag) DO UPDATE SET tasks = user_tags.tasks + 1",
                   user_and_tags(user_id, tags));
}

std::vector<std::string> distinct(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

}  // namespace

domain::Result<void> UsageRepository::apply(Transaction& s, std::string_view user_id,
                                            const domain::UsageChange& change,
                                            const domain::QuotaLimits& limits) const {
  if (change.tasks == 0 && change.bytes == 0 && change.added_tags.empty() &&
      change.removed_tags.empty()) {
    return {};
  }
  const auto added = distinct(change.added_tags);
  const auto removed = distinct(change.removed_tags);
  std::vector<std::string> both = added;
  both.insert(both.end(), removed.begin(), removed.end());
  const auto carried = tag_tasks(s, user_id, both);
  const auto tasks_with = [&](const std::string& tag) {
    const auto it = carried.find(tag);
    return it == carried.end() ? 0 : it->second;
  };
  std::int64_t tags_delta = 0;
  for (const auto& tag : added) {
    if (tasks_with(tag) == 0) ++tags_delta;
  }
  for (const auto& tag : removed) {
    if (tasks_with(tag) == 1) --tags_delta;
  }
  s.execute_unread(kEnsureUsage, {text(user_id)});
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
  add_tags(s, user_id, added);
  for (const auto& tag : removed) {
    if (s.execute(kReleaseTag, {text(user_id), text(tag)}) == 0) {
      s.execute_unread(kDropTag, {text(user_id), text(tag)});
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

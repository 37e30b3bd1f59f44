// Quota rules: stored bytes, how a change moves the usage (tombstones do not count), which quota a
// change exceeds, the refusal's problem members, and the notification-target check.
#include "domain/quota.h"

#include <gtest/gtest.h>

namespace todo::domain {
namespace {

Task sample() {
  Task t;
  t.title = "Pay rent";                // 8
  t.description = "before the 3rd ✓";  // 18 bytes (✓ is 3)
  t.tags = {"home", "money"};          // 4 + 5
  t.recurrence = "monthly";            // 7
  return t;
}

std::string extension(const Error& e, std::string_view name) {
  for (const auto& [n, json] : e.extensions) {
    if (n == name) return json;
  }
  return "<absent>";
}

TEST(Quota, StoredBytesCountTitleDescriptionTagsAndRuleInUtf8Bytes) {
  EXPECT_EQ(stored_bytes(sample()), 8 + 18 + 9 + 7);
  Task bare;
  bare.title = "x";
  EXPECT_EQ(stored_bytes(bare), 1);
}

TEST(Quota, AnInsertAddsATaskItsBytesAndItsTags) {
  const Task t = sample();
  const UsageChange c = usage_change(nullptr, &t);
  EXPECT_EQ(c.tasks, 1);
  EXPECT_EQ(c.bytes, stored_bytes(t));
  EXPECT_EQ(c.added_tags, (std::vector<std::string>{"home", "money"}));
  EXPECT_TRUE(c.removed_tags.empty());
}

TEST(Quota, AnUpdateMovesOnlyTheDifference) {
  const Task before = sample();
  Task after = before;
  after.title = "Pay the rent";  // +4
  after.tags = {"money", "bills"};
  const UsageChange c = usage_change(&before, &after);
  EXPECT_EQ(c.tasks, 0);
  EXPECT_EQ(c.bytes, 4 + 5 - 4);
  EXPECT_EQ(c.added_tags, (std::vector<std::string>{"bills"}));
  EXPECT_EQ(c.removed_tags, (std::vector<std::string>{"home"}));
}

TEST(Quota, ADeletionGivesEverythingBackAndATombstoneCountsForNothing) {
  const Task before = sample();
  Task tombstone = before;
  tombstone.deleted_at = Timestamp{} + std::chrono::hours(1);
  const UsageChange c = usage_change(&before, &tombstone);
  EXPECT_EQ(c.tasks, -1);
  EXPECT_EQ(c.bytes, -stored_bytes(before));
  EXPECT_TRUE(c.added_tags.empty());
  EXPECT_EQ(c.removed_tags, (std::vector<std::string>{"home", "money"}));
  const UsageChange none = usage_change(&tombstone, &tombstone);
  EXPECT_EQ(none.tasks, 0);
  EXPECT_EQ(none.bytes, 0);
  EXPECT_TRUE(none.added_tags.empty());
  EXPECT_TRUE(none.removed_tags.empty());
}

TEST(Quota, OnlyAQuantityThatGrowsBeyondItsLimitIsExceeded) {
  QuotaLimits limits;
  limits.tasks = 10;
  limits.tags = 5;
  limits.bytes = 100;
  const Usage full{10, 5, 100};
  EXPECT_EQ(exceeded_quota(limits, full, 1, 0, 0), Quota::kTasks);
  EXPECT_EQ(exceeded_quota(limits, full, 0, 1, 0), Quota::kTags);
  EXPECT_EQ(exceeded_quota(limits, full, 0, 0, 1), Quota::kBytes);
  EXPECT_EQ(exceeded_quota(limits, full, 0, 0, 0), std::nullopt);
  EXPECT_EQ(exceeded_quota(limits, full, -1, -1, -50), std::nullopt);
  // Over a lowered limit, shrinking and keeping are still allowed.
  EXPECT_EQ(exceeded_quota(limits, Usage{20, 9, 500}, 0, -1, -10), std::nullopt);
  // Up to the limit exactly is allowed.
  EXPECT_EQ(exceeded_quota(limits, Usage{9, 4, 90}, 1, 1, 10), std::nullopt);
  EXPECT_EQ(exceeded_quota(limits, Usage{9, 4, 90}, 1, 1, 11), Quota::kBytes);
}

TEST(Quota, ZeroMeansNoLimit) {
  QuotaLimits unlimited{0, 0, 0, 0};
  EXPECT_EQ(exceeded_quota(unlimited, Usage{1000000, 1000000, 1LL << 40}, 1, 1, 1 << 20),
            std::nullopt);
  EXPECT_TRUE(check_notification_targets(unlimited, 1000000));
}

TEST(Quota, TheRefusalNamesTheQuotaItsLimitAndTheUsage) {
  const Error e = quota_exceeded(Quota::kTags, 1000, 1000);
  EXPECT_EQ(e.code, ErrorCode::kQuotaExceeded);
  EXPECT_EQ(extension(e, "quota"), "\"tags\"");
  EXPECT_EQ(extension(e, "limit"), "1000");
  EXPECT_EQ(extension(e, "usage"), "1000");
  EXPECT_NE(e.detail.find("1000 distinct tags"), std::string::npos) << e.detail;
}

TEST(Quota, NotificationTargetsAreCheckedBeforeAdding) {
  QuotaLimits limits;
  limits.notification_targets = 3;
  EXPECT_TRUE(check_notification_targets(limits, 0));
  EXPECT_TRUE(check_notification_targets(limits, 2));
  auto refused = check_notification_targets(limits, 3);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kQuotaExceeded);
  EXPECT_EQ(extension(refused.error(), "quota"), "\"notification_targets\"");
  EXPECT_EQ(extension(refused.error(), "limit"), "3");
  EXPECT_EQ(extension(refused.error(), "usage"), "3");
  EXPECT_FALSE(check_notification_targets(limits, 2, 2));  // two at once do not fit
  EXPECT_EQ(QuotaLimits{}.notification_targets, 50);
}

}  // namespace
}  // namespace todo::domain

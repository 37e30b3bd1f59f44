// Registration hashing slots: never more tickets than slots, a released slot is reusable.
#include "auth/admission.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace todo::auth {
namespace {

TEST(Admission, GivesAsManyTicketsAsSlotsThenRefuses) {
  Admission admission(2);
  auto a = admission.try_enter();
  auto b = admission.try_enter();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(admission.in_use(), 2);
  EXPECT_FALSE(admission.try_enter()) << "a full house refuses at once instead of waiting";
}

TEST(Admission, ADestroyedTicketFreesItsSlot) {
  Admission admission(1);
  {
    auto ticket = admission.try_enter();
    ASSERT_TRUE(ticket);
    EXPECT_FALSE(admission.try_enter());
  }
  EXPECT_EQ(admission.in_use(), 0);
  EXPECT_TRUE(admission.try_enter());
}

TEST(Admission, ResettingTheOptionalReleasesAndMovingDoesNotReleaseTwice) {
  Admission admission(1);
  auto ticket = admission.try_enter();
  ASSERT_TRUE(ticket);
  std::optional<Admission::Ticket> moved = std::move(ticket);
  ticket.reset();  // the moved-from ticket owns nothing
  EXPECT_EQ(admission.in_use(), 1);
  moved.reset();
  EXPECT_EQ(admission.in_use(), 0);
}

TEST(Admission, AtLeastOneSlot) {
  Admission admission(0);
  EXPECT_EQ(admission.slots(), 1);
  EXPECT_TRUE(admission.try_enter());
}

TEST(Admission, ConcurrentEntrantsNeverExceedTheSlots) {
  Admission admission(3);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto ticket = admission.try_enter();
        if (!ticket) continue;
        admitted.fetch_add(1);
        int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_EQ(admission.in_use(), 0);
}

}  // namespace
}  // namespace todo::auth

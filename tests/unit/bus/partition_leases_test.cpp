// Several processes sharing one database's consumer groups (LogBusOptions::share_partitions):
// buses with different members on one database stand for the processes, driven by poll_once()
// and a manual clock. Each partition is consumed by one member at a time, the partitions spread
// over the live members, a member that stops renewing loses them after the lease time, a clean
// stop hands them over at once, and every event has its effect exactly once throughout.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bus/log_bus.h"
#include "domain/time_format.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;

const domain::Timestamp kStart = domain::parse_rfc3339("2026-03-01T12:00:00Z").value();
constexpr auto kTtl = 6000ms;

class PartitionLeaseTest : public store::testing::BackendTest {
 protected:
  PartitionLeaseTest() : db_(open_database()) {
    db_->write([](Transaction& s) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL PRIMARY KEY, "
          "member TEXT NOT NULL)");
    });
  }

  // A bus standing for one process: member `name`, consuming "orders" (3 partitions) as g1.
  LogBus& start_member(const std::string& name) {
    LogBusOptions options;
    options.partitions = {{"orders", 3}};
    options.share_partitions = true;
    options.member = name;
    options.lease_ttl = kTtl;
    auto& bus = buses_[name];
    bus = std::make_unique<LogBus>(*db_, clock_, monotonic_, random_, options);
    bus->subscribe({"orders", "g1", [this, name](const Event& e, Transaction& tx) {
                      {
                        std::lock_guard lock(mutex_);
                        handled_by_[name].insert(e.partition);
                      }
                      tx.execute("INSERT INTO effects (event_id, member) VALUES ($1, $2)",
                                 {e.id, name});
                    }});
    return *bus;
  }

  // Members a and b after two rounds: a took every partition alone, then kept its part (0, 1)
  // and gave 2 back, which b took.
  std::pair<LogBus&, LogBus&> split_between_two() {
    auto& a = start_member("a");
    auto& b = start_member("b");
    a.poll_once();
    b.poll_once();
    advance(kTtl / 3);
    a.poll_once();
    b.poll_once();
    return {a, b};
  }

  void advance(std::chrono::microseconds by) {
    clock_.advance(by);
    monotonic_.advance(by);
  }

  // One event on each partition.
  void publish_round() {
    for (int p = 0; p < 3; ++p) {
      const std::string id = "ev-" + std::to_string(++published_);
      db_->write([&](Transaction& s) {
        store::OutboxRepository{}.append(
            s, {"orders", p, "k", id, R"({"id":")" + id + R"(","type":"t"})"}, clock_.now());
      });
    }
  }

  // partition -> holder, for the leases that run at the clock's time.
  std::map<int, std::string> holders() {
    return store::read_value(*db_, [&](Transaction& s) {
      std::map<int, std::string> out;
      for (const auto& lease : store::PartitionLeaseRepository{}.leases(s, "g1", "orders")) {
        if (lease.expires_at > clock_.now()) out[lease.partition] = lease.holder;
      }
      return out;
    });
  }

  std::set<int> handled_by(const std::string& member) {
    std::lock_guard lock(mutex_);
    auto found = handled_by_.find(member);
    return found == handled_by_.end() ? std::set<int>{} : found->second;
  }

  void forget_handled() {
    std::lock_guard lock(mutex_);
    handled_by_.clear();
  }

  std::int64_t count(const std::string& sql) {
    return store::read_value(*db_, [&](Transaction& s) { return s.query_one(sql)->integer(0); });
  }

  // Every published event has exactly one effect: the primary key refuses a second, which would
  // fail its handler until the event is dead-lettered.
  void expect_each_event_once() {
    EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), published_);
    EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
  }

  domain::ManualClock clock_{kStart};
  ManualMonotonicClock monotonic_;
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> db_;
  std::map<std::string, std::unique_ptr<LogBus>> buses_;
  int published_ = 0;
  std::mutex mutex_;
  std::map<std::string, std::set<int>> handled_by_;
};

TEST_P(PartitionLeaseTest, AMemberAloneConsumesEveryPartition) {
  auto& a = start_member("a");
  publish_round();
  EXPECT_EQ(a.poll_once(), 3);
  EXPECT_EQ(holders(), (std::map<int, std::string>{{0, "a"}, {1, "a"}, {2, "a"}}));
  EXPECT_EQ(handled_by("a"), (std::set<int>{0, 1, 2}));
  expect_each_event_once();
}

TEST_P(PartitionLeaseTest, ASecondMemberGetsItsShareAndEachPartitionHasOneConsumer) {
  auto& a = start_member("a");
  publish_round();
  EXPECT_EQ(a.poll_once(), 3);

  // b joins: every partition is leased to a, so b consumes nothing yet.
  auto& b = start_member("b");
  publish_round();
  EXPECT_EQ(b.poll_once(), 0);
  EXPECT_TRUE(handled_by("b").empty());

  // a's next round: two members, so a keeps two partitions (3 / 2, rounded up) and gives one back;
  // b's next round takes it.
  advance(kTtl / 3);
  a.poll_once();
  b.poll_once();
  EXPECT_EQ(holders(), (std::map<int, std::string>{{0, "a"}, {1, "a"}, {2, "b"}}));

  // From now on each partition's events go to its holder only.
  forget_handled();
  for (int round = 0; round < 4; ++round) {
    publish_round();
    a.poll_once();
    b.poll_once();
    advance(kTtl / 3);
  }
  EXPECT_EQ(handled_by("a"), (std::set<int>{0, 1}));
  EXPECT_EQ(handled_by("b"), (std::set<int>{2}));
  EXPECT_EQ(holders(), (std::map<int, std::string>{{0, "a"}, {1, "a"}, {2, "b"}}));
  expect_each_event_once();
}

TEST_P(PartitionLeaseTest, AMemberThatStopsRenewingLosesItsPartitionsAfterTheLeaseTime) {
  auto [a, b] = split_between_two();
  ASSERT_EQ(holders(), (std::map<int, std::string>{{0, "a"}, {1, "a"}, {2, "b"}}));

  // a stops polling (its process hangs or died without a word); events keep coming.
  publish_round();
  b.poll_once();
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 1);  // partition 2's, by b

  // Before a's leases expire b does not touch a's partitions...
  advance(kTtl - kTtl / 3 - 1ms);
  b.poll_once();
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 1);
  // ... after, b is the only live member and takes all of them over, from the committed offsets.
  advance(kTtl / 3 + 2ms);
  b.poll_once();
  EXPECT_EQ(holders(), (std::map<int, std::string>{{0, "b"}, {1, "b"}, {2, "b"}}));
  expect_each_event_once();

  // a wakes up: its first round finds that it lost the partitions, so it delivers nothing.
  forget_handled();
  publish_round();
  EXPECT_EQ(a.poll_once(), 0);
  EXPECT_TRUE(handled_by("a").empty());
  b.poll_once();
  expect_each_event_once();
}

TEST_P(PartitionLeaseTest, ACleanStopHandsThePartitionsOverAtTheNextRound) {
  auto [a, b] = split_between_two();
  publish_round();
  a.poll_once();
  b.poll_once();

  a.stop();  // gives its leases back and leaves the group
  EXPECT_EQ(holders(), (std::map<int, std::string>{{2, "b"}}));
  publish_round();
  advance(kTtl / 3);  // b's next round, well before a's leases would have expired
  b.poll_once();
  EXPECT_EQ(holders(), (std::map<int, std::string>{{0, "b"}, {1, "b"}, {2, "b"}}));
  expect_each_event_once();
}

// A commit wakes a member only for the partitions it holds a lease on — any before its first
// round, since it may take any then — and every member for what another process appended.
TEST_P(PartitionLeaseTest, AnAppendWakesOnlyTheMemberHoldingItsPartition) {
  auto& c = start_member("c");
  store::LogAppends to_2;
  to_2.add("orders", 2);
  c.notify(to_2);
  EXPECT_EQ(c.wake_ups("g1", "orders"), 1u);  // no round yet
  buses_.clear();

  auto [a, b] = split_between_two();
  ASSERT_EQ(holders(), (std::map<int, std::string>{{0, "a"}, {1, "a"}, {2, "b"}}));
  a.notify(to_2);
  b.notify(to_2);
  EXPECT_EQ(a.wake_ups("g1", "orders"), 0u);
  EXPECT_EQ(b.wake_ups("g1", "orders"), 1u);

  store::LogAppends to_0_and_elsewhere;
  to_0_and_elsewhere.add("orders", 0);
  to_0_and_elsewhere.add("audit", 2);
  a.notify(to_0_and_elsewhere);
  b.notify(to_0_and_elsewhere);
  EXPECT_EQ(a.wake_ups("g1", "orders"), 1u);
  EXPECT_EQ(b.wake_ups("g1", "orders"), 1u);

  a.notify(store::LogAppends::anything());
  b.notify(store::LogAppends::anything());
  EXPECT_EQ(a.wake_ups("g1", "orders"), 2u);
  EXPECT_EQ(b.wake_ups("g1", "orders"), 2u);
}

TEST_P(PartitionLeaseTest, ACommittedOffsetNeverMovesBack) {
  // What a member that lost its lease in the middle of a batch can still do: commit the batch it
  // was handling after the new holder moved on. Its dedupe rows keep the effects once; the
  // offset must not go back, or the new holder's next start would read those events again.
  publish_round();
  publish_round();
  const store::ConsumerOffsetRepository offsets;
  db_->write([&](Transaction& s) { offsets.commit(s, "g1", "orders", 0, 2, clock_.now()); });
  db_->write([&](Transaction& s) { offsets.commit(s, "g1", "orders", 0, 1, clock_.now()); });
  const auto committed = store::read_value(
      *db_, [&](Transaction& s) { return offsets.committed(s, "g1", "orders"); });
  EXPECT_EQ(committed.at(0), 2);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(PartitionLeaseTest);

}  // namespace
}  // namespace todo::bus

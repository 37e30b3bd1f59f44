// The log bus and the consumer runtime on a real SQLite file, driven by poll_once() and a manual
// clock: ordering, offsets, independent groups, exactly-once effects, retry/backoff, dead letters,
// replay, wake-up on commit, retention.
#include "bus/log_bus.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "domain/time_format.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;
using store::testing::TempDir;

const domain::Timestamp kStart = domain::parse_rfc3339("2026-03-01T12:00:00Z").value();

// Runs a consumer whose handler writes its effect and then the process dies, before the commit.
void die_inside_the_transaction(const std::filesystem::path& path, const domain::Clock& clock,
                                domain::RandomSource& random) {
  store::SqliteOptions options;
  options.path = path;
  auto db = store::open_sqlite(options);
  LogBusOptions bus_options;
  bus_options.partitions = {{"orders", 3}};
  LogBus b(*db, clock, random, bus_options);
  b.subscribe({"orders", "g1", [](const Event& e, Transaction& tx) {
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                 ::_exit(7);
               }});
  b.poll_once();
}

class LogBusTest : public ::testing::Test {
 protected:
  LogBusTest() { reopen(); }

  void reopen() {
    bus_.reset();
    db_.reset();
    store::SqliteOptions options;
    options.path = dir_.path() / "todo.db";
    db_ = store::open_sqlite(options);
    db_->write([](Transaction& s) {
      s.execute("CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL, grp TEXT NOT NULL)");
    });
  }

  LogBus& bus(std::chrono::milliseconds poll_interval = 1000ms, int batch_size = 256) {
    LogBusOptions options;
    options.partitions = {{"orders", 3}, {"audit", 1}};
    options.poll_interval = poll_interval;
    options.batch_size = batch_size;
    bus_ = std::make_unique<LogBus>(*db_, clock_, random_, options);
    return *bus_;
  }

  // Appends one event in its own transaction and returns its id.
  std::string publish(const std::string& topic, int partition, const std::string& key) {
    const std::string id = "ev-" + std::to_string(++published_);
    db_->write([&](Transaction& s) {
      store::OutboxRepository{}.append(
          s, {topic, partition, key, id, R"({"id":")" + id + R"(","type":"t"})"}, clock_.now());
    });
    return id;
  }

  std::int64_t count(const std::string& sql) {
    return store::read_value(*db_, [&](Transaction& s) { return s.query_one(sql)->integer(0); });
  }

  std::map<int, std::int64_t> committed(const std::string& group, const std::string& topic) {
    return store::read_value(*db_, [&](Transaction& s) {
      return store::ConsumerOffsetRepository{}.committed(s, group, topic);
    });
  }

  // A handler that records what it saw and writes one effect row per event through tx.
  EventHandler recording(const std::string& group) {
    return [this, group](const Event& e, Transaction& tx) {
      {
        std::lock_guard lock(seen_mutex_);
        seen_[group].push_back(e);
      }
      tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, $2)", {e.id, group});
    };
  }

  std::vector<Event> seen(const std::string& group) {
    std::lock_guard lock(seen_mutex_);
    return seen_[group];
  }

  TempDir dir_;
  domain::ManualClock clock_{kStart};
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<LogBus> bus_;
  int published_ = 0;
  std::mutex seen_mutex_;
  std::map<std::string, std::vector<Event>> seen_;
};

TEST_F(LogBusTest, DeliversEachPartitionInOffsetOrderAndCommitsOffsets) {
  std::map<int, std::vector<std::string>> expected;
  for (int i = 0; i < 20; ++i) {
    const int p = (i * 7) % 3;
    expected[p].push_back(publish("orders", p, "k" + std::to_string(p)));
  }
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 20);

  std::map<int, std::vector<std::string>> got;
  std::map<int, std::int64_t> last_offset;
  for (const auto& e : seen("g1")) {
    EXPECT_EQ(e.topic, "orders");
    if (last_offset.count(e.partition)) {
      EXPECT_EQ(e.offset, last_offset[e.partition] + 1);
    }
    last_offset[e.partition] = e.offset;
    got[e.partition].push_back(e.id);
    EXPECT_EQ(e.published_at, kStart);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(committed("g1", "orders"),
            (std::map<int, std::int64_t>{{0, 7}, {1, 7}, {2, 6}}));
  EXPECT_EQ(b.poll_once(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 20);
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_events WHERE consumer = 'g1'"), 20);
}

TEST_F(LogBusTest, GroupsAreIndependentAndResumeFromTheirOffsetsAfterARestart) {
  for (int i = 0; i < 5; ++i) publish("orders", 0, "k");
  {
    auto& b = bus();
    b.subscribe({"orders", "g1", recording("g1")});
    EXPECT_EQ(b.poll_once(), 5);
  }
  for (int i = 0; i < 3; ++i) publish("orders", 0, "k");
  reopen();
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  b.subscribe({"orders", "g2", recording("g2")});
  EXPECT_EQ(b.poll_once(), 3 + 8);
  EXPECT_EQ(seen("g1").size(), 8u);  // 5 before the restart, the 3 new ones after: none twice
  EXPECT_EQ(seen("g1")[5].offset, 5);
  EXPECT_EQ(seen("g2").size(), 8u);  // a new group starts at the beginning of the log
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE grp = 'g1'"), 8);
}

TEST_F(LogBusTest, AnEventAlreadyProcessedByTheGroupIsSkippedButConsumed) {
  const auto id = publish("orders", 1, "k");
  db_->write([&](Transaction& s) { store::ProcessedEventRepository{}.record(s, "g1", id, kStart); });
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 1);
  EXPECT_TRUE(seen("g1").empty());
  EXPECT_EQ(committed("g1", "orders").at(1), 1);
}

TEST_F(LogBusTest, AHandlerThatFailsAfterWritingLeavesNoEffectAndIsRetriedAfterOneSecond) {
  const auto first = publish("orders", 0, "k");
  const auto second = publish("orders", 0, "k");
  int calls = 0;
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                 if (e.id == first && ++calls == 1) throw std::runtime_error("flaky");
               }});
  EXPECT_EQ(b.poll_once(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 0);  // the failed attempt's write is gone
  EXPECT_FALSE(committed("g1", "orders").contains(0));

  clock_.advance(999ms);
  EXPECT_EQ(b.poll_once(), 0);  // not due yet; the second event waits behind the first (key order)
  EXPECT_EQ(calls, 1);

  clock_.advance(1ms);
  EXPECT_EQ(b.poll_once(), 2);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + first + "'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + second + "'"), 1);
  auto stats = b.stats();
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].retried, 1);
  EXPECT_EQ(stats[0].handled, 2);
  EXPECT_EQ(stats[0].lag(), 0);
}

TEST_F(LogBusTest, BacksOffOneFiveAndTwentyFiveSecondsThenDeadLettersAndMovesOn) {
  const auto poison = publish("orders", 2, "k-poison");
  const auto next = publish("orders", 2, "k-next");
  const auto other = publish("orders", 0, "k-other");
  std::vector<domain::Timestamp> attempts;
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 if (e.id == poison) {
                   attempts.push_back(clock_.now());
                   throw std::runtime_error("cannot parse this");
                 }
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
               }});
  EXPECT_EQ(b.poll_once(), 1);  // the other partition is not held up
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + other + "'"), 1);

  const std::vector<std::chrono::seconds> waits = {1s, 5s, 25s};
  for (auto wait : waits) {
    clock_.advance(wait - 1ms);
    b.poll_once();
    clock_.advance(1ms);
    b.poll_once();
  }
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[1] - attempts[0], 1s);
  EXPECT_EQ(attempts[2] - attempts[1], 5s);
  EXPECT_EQ(attempts[3] - attempts[2], 25s);

  // Dead-lettered with the error, in dead_letters and on orders.dlq; the partition moved on.
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + next + "'"), 1);
  auto letters = store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].event_id, poison);
  EXPECT_EQ(letters[0].group, "g1");
  EXPECT_EQ(letters[0].partition, 2);
  EXPECT_EQ(letters[0].offset, 0);
  EXPECT_EQ(letters[0].attempts, 4);
  EXPECT_EQ(letters[0].error, "cannot parse this");
  auto dlq = store::read_value(*db_, [](Transaction& s) {
    return store::OutboxRepository{}.read(s, "orders.dlq", 0, 0, 10);
  });
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].event_id, letters[0].id);
  EXPECT_EQ(dlq[0].key, "k-poison");
  EXPECT_NE(dlq[0].payload.find(R"("error":"cannot parse this")"), std::string::npos);
  EXPECT_NE(dlq[0].payload.find(R"("event":{"id":")" + poison), std::string::npos);
  EXPECT_EQ(committed("g1", "orders").at(2), 2);
  auto stats = b.stats();
  EXPECT_EQ(stats[2].dead_lettered, 1);
  EXPECT_EQ(stats[2].retried, 3);
  EXPECT_NE(prometheus_text(stats).find(
                "todo_bus_events_dead_lettered_total{group=\"g1\",topic=\"orders\",partition=\"2\"} 1"),
            std::string::npos);
}

TEST_F(LogBusTest, AReplayedDeadLetterIsHandledOnceAndMarkedReplayed) {
  const auto poison = publish("audit", 0, "k");
  bool broken = true;
  auto& b = bus();
  b.subscribe({"audit", "g1", [&](const Event& e, Transaction& tx) {
                 if (broken) throw std::runtime_error("downstream is down");
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
               }});
  b.poll_once();
  for (auto wait : {1s, 5s, 25s}) {
    clock_.advance(wait);
    b.poll_once();
  }
  auto letters = store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);

  // Still failing: the replay puts it back to dead with one more attempt.
  db_->write([&](Transaction& s) { store::DeadLetterRepository{}.request_replay(s, letters[0].id, clock_.now()); });
  EXPECT_EQ(b.poll_once(), 1);
  auto again = store::read_value(*db_, [&](Transaction& s) { return store::DeadLetterRepository{}.find(s, letters[0].id); });
  EXPECT_EQ(again->status, store::DeadLetterStatus::kDead);
  EXPECT_EQ(again->attempts, 5);

  broken = false;
  db_->write([&](Transaction& s) { store::DeadLetterRepository{}.request_replay(s, "", clock_.now()); });
  EXPECT_EQ(b.poll_once(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + poison + "'"), 1);
  auto done = store::read_value(*db_, [&](Transaction& s) { return store::DeadLetterRepository{}.find(s, letters[0].id); });
  EXPECT_EQ(done->status, store::DeadLetterStatus::kReplayed);
  EXPECT_EQ(b.poll_once(), 0);  // nothing left to replay
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 1);
}

TEST_F(LogBusTest, ACommitWakesTheConsumerWithoutWaitingForThePoll) {
  domain::SystemClock real;
  LogBusOptions options;
  options.partitions = {{"orders", 3}};
  options.poll_interval = std::chrono::hours(1);  // only the wake-up can deliver in time
  LogBus b(*db_, real, random_, options);
  std::atomic<int> handled = 0;
  b.subscribe({"orders", "g1", [&](const Event&, Transaction&) { ++handled; }});
  db_->set_commit_listener([&] { b.notify(); });
  b.start();
  ASSERT_TRUE(store::testing::eventually([&] { return !b.stats().empty(); }));  // first poll done
  publish("orders", 1, "k");
  EXPECT_TRUE(store::testing::eventually([&] { return handled.load() == 1; }));
  db_->set_commit_listener({});
  b.stop();
}

TEST_F(LogBusTest, AProcessKilledBetweenHandlingAndCommittingLeavesNoEffectAndRedelivers) {
  const auto id = publish("orders", 0, "k");
  db_.reset();  // the child opens the file itself
  // The child re-executes this binary and runs only this test, so no other thread is forked.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(die_inside_the_transaction(dir_.path() / "todo.db", clock_, random_),
              ::testing::ExitedWithCode(7), "");
  reopen();
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 0);
  EXPECT_TRUE(committed("g1", "orders").empty());
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + id + "'"), 1);
}

TEST_F(LogBusTest, RetentionDeletesOnlyOldEventsEveryGroupHasConsumed) {
  for (int i = 0; i < 4; ++i) publish("orders", 0, "k");
  clock_.advance(std::chrono::hours(24 * 8));
  publish("orders", 0, "k");  // recent
  {
    auto& b = bus();
    b.subscribe({"orders", "fast", recording("fast")});
    EXPECT_EQ(b.poll_once(), 5);
  }
  // "slow" has read two of the four old events.
  db_->write([&](Transaction& s) {
    store::ConsumerOffsetRepository{}.commit(s, "slow", "orders", 0, 2, clock_.now());
  });
  auto& b = bus();
  EXPECT_EQ(b.purge(std::chrono::hours(24 * 7)), 2);
  EXPECT_EQ(count("SELECT MIN(\"offset\") FROM outbox WHERE topic = 'orders'"), 2);

  db_->write([&](Transaction& s) {
    store::ConsumerOffsetRepository{}.commit(s, "slow", "orders", 0, 5, clock_.now());
  });
  EXPECT_EQ(b.purge(std::chrono::hours(24 * 7)), 2);  // the recent one stays
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE topic = 'orders'"), 1);
  // Offsets keep counting after a purge.
  publish("orders", 0, "k");
  EXPECT_EQ(count("SELECT MAX(\"offset\") FROM outbox WHERE topic = 'orders'"), 5);
}

TEST_F(LogBusTest, RetentionKeepsWhatALocalConsumerHasNotPolledYet) {
  publish("orders", 0, "k");
  clock_.advance(std::chrono::hours(24 * 8));
  auto& b = bus();
  b.subscribe({"orders", "new-group", recording("new-group")});
  EXPECT_EQ(b.purge(std::chrono::hours(24 * 7)), 0);
  EXPECT_EQ(b.poll_once(), 1);
}

TEST_F(LogBusTest, RefusesUnknownTopicsDuplicateGroupsAndLateSubscriptions) {
  auto& b = bus();
  EXPECT_THROW(b.subscribe({"nope", "g", recording("g")}), std::invalid_argument);
  b.subscribe({"orders", "g", recording("g")});
  EXPECT_THROW(b.subscribe({"orders", "g", recording("g")}), std::invalid_argument);
  b.start();
  EXPECT_THROW(b.subscribe({"audit", "g", recording("g")}), std::logic_error);
  b.stop();
  b.stop();  // idempotent
}

}  // namespace
}  // namespace todo::bus

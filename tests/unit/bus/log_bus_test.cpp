// The log bus and the consumer runtime on every backend (a real SQLite file, a real PostgreSQL
// server), driven by poll_once() and a manual clock: ordering, offsets, independent groups,
// exactly-once effects, retry/backoff, dead letters, replay, wake-up on commit, retention; on
// PostgreSQL also appenders and consumers in separate Database objects (separate processes, as
// far as the server can tell).
#include "bus/log_bus.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/time_format.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"
#include "bus_test_support.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;

const domain::Timestamp kStart = domain::parse_rfc3339("2026-03-01T12:00:00Z").value();

// The database a test works on, as another process finds it: a SQLite file's path, or a
// PostgreSQL URL (of the schema the test server made for the test, on the parent's server).
std::unique_ptr<store::Database> open_at(const std::string& location) {
  if (store::is_postgres_url(location)) {
    store::DatabaseOptions options;
    options.dialect = store::Dialect::kPostgres;
    options.url = location;
    return store::open_database(options);
  }
  store::SqliteOptions options;
  options.path = location;
  return store::open_sqlite(options);
}

// Runs a consumer whose handler writes its effect and then the process dies, before the commit.
void die_inside_the_transaction(const std::string& location, const domain::Clock& clock,
                                domain::RandomSource& random) {
  auto db = open_at(location);
  LogBusOptions bus_options;
  bus_options.partitions = {{"orders", 3}};
  LogBus b(*db, clock, random, bus_options);
  b.subscribe({"orders", "g1", [](const Event& e, Transaction& tx) {
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                 ::_exit(7);
               }});
  b.poll_once();
}

// A death-test child (threadsafe style: fork, then exec of this binary) runs the test body again
// in a fixture of its own; the database it must work on is the parent's, whose location it finds
// in the environment (the first call, in the parent, sets it; the child inherits it). On
// PostgreSQL the child also joins the parent's server (postgres_test_server.cpp).
std::string parent_database(const std::string& mine) {
  ::setenv("TODO_BUS_TEST_DB", mine.c_str(), /*overwrite=*/0);
  return ::getenv("TODO_BUS_TEST_DB");
}

// Runs a consumer of "orders" (3 attempts: 1 s, 5 s) that handles every event but `poison`,
// which kills the process with SIGKILL inside the handler.
void run_killed_by(const std::string& location, const std::string& poison,
                   const domain::Clock& clock, domain::RandomSource& random) {
  auto db = open_at(location);
  LogBusOptions bus_options;
  bus_options.partitions = {{"orders", 3}};
  bus_options.retry.backoff = {std::chrono::seconds(1), std::chrono::seconds(5)};
  LogBus b(*db, clock, random, bus_options);
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 if (e.id == poison) ::kill(::getpid(), SIGKILL);
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
               }});
  b.poll_once();
}

// Runs the replays requested for group g1 of "audit" with a handler that SIGKILLs the process.
void replay_killed(const std::string& location, const domain::Clock& clock,
                   domain::RandomSource& random) {
  auto db = open_at(location);
  LogBusOptions bus_options;
  bus_options.partitions = {{"audit", 1}};
  LogBus b(*db, clock, random, bus_options);
  b.subscribe({"audit", "g1", [](const Event&, Transaction&) { ::kill(::getpid(), SIGKILL); }});
  b.poll_once();
}

// A Database that counts the write() calls made through it, whatever the backend does inside
// them, so a test can say how many transactions the bus spends on a batch.
class CountingDatabase final : public store::Database {
 public:
  explicit CountingDatabase(std::unique_ptr<store::Database> inner) : inner_(std::move(inner)) {}
  store::Dialect dialect() const override { return inner_->dialect(); }
  void read(const std::function<void(Transaction&)>& work) override { inner_->read(work); }
  void write(const std::function<void(Transaction&)>& work) override {
    ++writes_;
    inner_->write(work);
  }
  store::CommitListenerId add_commit_listener(store::CommitListener listener) override {
    return inner_->add_commit_listener(std::move(listener));
  }
  void remove_commit_listener(store::CommitListenerId id) override {
    inner_->remove_commit_listener(id);
  }
  std::int64_t writes() const { return writes_.load(); }
  store::Database& inner() { return *inner_; }

 private:
  std::unique_ptr<store::Database> inner_;
  std::atomic<std::int64_t> writes_{0};
};

class LogBusTest : public store::testing::BackendTest {
 protected:
  LogBusTest() { reopen(); }
  ~LogBusTest() override { ::unsetenv("TODO_BUS_TEST_DB"); }

  void reopen() {
    bus_.reset();
    db_.reset();
    db_ = std::make_unique<CountingDatabase>(open_database());
    testing::create_effects_table(*db_);
  }

  LogBus& bus(std::chrono::milliseconds poll_interval = 1000ms, int batch_size = 256) {
    LogBusOptions options;
    options.partitions = {{"orders", 3}, {"audit", 1}};
    options.poll_interval = poll_interval;
    options.batch_size = batch_size;
    options.retry = retry_;
    bus_ = std::make_unique<LogBus>(*db_, clock_, monotonic_, random_, options);
    return *bus_;
  }

  // Time passes on both clocks: the wall clock (timestamps, ages) and the monotonic one (retries).
  void advance(std::chrono::microseconds by) {
    clock_.advance(by);
    monotonic_.advance(by);
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
    return testing::committed(*db_, group, topic);
  }

  // A handler that records what it saw and writes one effect row per event through tx.
  EventHandler recording(const std::string& group) { return recorder_.handler(group); }

  // Where another process finds this test's database (open_at).
  std::string location() const {
    const auto options = database_options();
    if (backend().dialect == store::Dialect::kSqlite) return options.path.string();
    return store::testing::PostgresTestServer::instance().url_for(options.path.string());
  }

  std::vector<Event> seen(const std::string& group) { return recorder_.seen(group); }

  domain::ManualClock clock_{kStart};
  ManualMonotonicClock monotonic_;
  RetryPolicy retry_;
  todo::testing::SeededRandom random_;
  std::unique_ptr<CountingDatabase> db_;
  std::unique_ptr<LogBus> bus_;
  int published_ = 0;
  testing::Recorder recorder_;
};

TEST_P(LogBusTest, DeliversEachPartitionInOffsetOrderAndCommitsOffsets) {
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
  EXPECT_EQ(committed("g1", "orders"), (std::map<int, std::int64_t>{{0, 7}, {1, 7}, {2, 6}}));
  EXPECT_EQ(b.poll_once(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 20);
  // The log holds each event id once and the offset commits with the effects: no dedupe rows.
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_events"), 0);
}

TEST_P(LogBusTest, GroupsAreIndependentAndResumeFromTheirOffsetsAfterARestart) {
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

// Without dedupe rows, what keeps an event from taking effect twice when two processes hold one
// partition (a lease that lapsed while its holder was still busy) is the offset's compare-and-set:
// here another process consumed offset 1 meanwhile, so this consumer's batch [1, 2] commits
// nothing, and it goes on from the stored offset 2.
TEST_P(LogBusTest, ABatchWhoseOffsetAnotherProcessMovedKeepsNothingAndGoesOnFromThere) {
  const auto first = publish("orders", 0, "k");
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 1);
  const auto second = publish("orders", 0, "k");
  const auto third = publish("orders", 0, "k");
  db_->write([](Transaction& s) {
    s.execute("UPDATE consumer_offsets SET \"offset\" = 2 WHERE \"group\" = 'g1'");
  });
  EXPECT_EQ(b.poll_once(), 0);  // the batch [1, 2] rolled back
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 1);
  EXPECT_EQ(b.poll_once(), 1);  // [2]
  EXPECT_EQ(committed("g1", "orders").at(0), 3);
  std::vector<std::string> ids;
  for (const auto& e : seen("g1")) ids.push_back(e.id);
  // The handler saw `second` and `third` in the batch that rolled back, then `third` again; only
  // `first` and `third` took effect here.
  EXPECT_EQ(ids, (std::vector<std::string>{first, second, third, third}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + second + "'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
}

TEST_P(LogBusTest, AHandlerThatFailsAfterWritingLeavesNoEffectAndIsRetriedAfterOneSecond) {
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

  advance(999ms);
  EXPECT_EQ(b.poll_once(), 0);  // not due yet; the second event waits behind the first (key order)
  EXPECT_EQ(calls, 1);

  advance(1ms);
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

// A batch runs without a savepoint per event until a handler fails; then it is rolled back whole
// and runs again with one per event: the events before the failure take effect once, the failed
// one's write is gone, and nothing behind it runs.
TEST_P(LogBusTest, AFailureInsideABatchKeepsTheEventsBeforeItOnceAndNothingOfItself) {
  std::map<std::string, int> calls;
  std::string bad;
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                 if (e.id == bad && ++calls[e.id] <= 2) throw std::runtime_error("flaky");
                 if (e.id != bad) ++calls[e.id];
               }});
  // Published after the first poll: events found at start may have been in flight in an earlier
  // process and go one at a time (each with its attempt recorded), not as a batch.
  EXPECT_EQ(b.poll_once(), 0);
  const auto ok1 = publish("orders", 0, "k");
  const auto ok2 = publish("orders", 0, "k");
  bad = publish("orders", 0, "k");
  const auto ok3 = publish("orders", 0, "k");
  EXPECT_EQ(b.poll_once(), 2);
  EXPECT_EQ(calls[ok1], 2);  // the fast path, then the run with savepoints
  EXPECT_EQ(calls[ok3], 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id IN ('" + ok1 + "', '" + ok2 + "')"),
            2);
  EXPECT_EQ(committed("g1", "orders").at(0), 2);

  advance(1s);
  EXPECT_EQ(b.poll_once(), 2);  // the retry goes with savepoints at once: a third call succeeds
  EXPECT_EQ(calls[bad], 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 4);
  EXPECT_EQ(committed("g1", "orders").at(0), 4);
  EXPECT_EQ(b.stats()[0].retried, 1);
}

TEST_P(LogBusTest, BacksOffOneFiveAndTwentyFiveSecondsThenDeadLettersAndMovesOn) {
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
    advance(wait - 1ms);
    b.poll_once();
    advance(1ms);
    b.poll_once();
  }
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[1] - attempts[0], 1s);
  EXPECT_EQ(attempts[2] - attempts[1], 5s);
  EXPECT_EQ(attempts[3] - attempts[2], 25s);

  // Dead-lettered with the error, in dead_letters and on orders.dlq; the partition moved on.
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + next + "'"), 1);
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
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
  EXPECT_NE(
      prometheus_text(stats).find(
          "todo_bus_events_dead_lettered_total{group=\"g1\",topic=\"orders\",partition=\"2\"} 1"),
      std::string::npos);
}

TEST_P(LogBusTest, AReplayedDeadLetterIsHandledOnceAndMarkedReplayed) {
  const auto poison = publish("audit", 0, "k");
  bool broken = true;
  auto& b = bus();
  b.subscribe({"audit", "g1", [&](const Event& e, Transaction& tx) {
                 if (broken) throw std::runtime_error("downstream is down");
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
               }});
  b.poll_once();
  for (auto wait : {1s, 5s, 25s}) {
    advance(wait);
    b.poll_once();
  }
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);

  // Still failing: the replay puts it back to dead with one more attempt.
  db_->write([&](Transaction& s) {
    store::DeadLetterRepository{}.request_replay(s, letters[0].id, clock_.now());
  });
  EXPECT_EQ(b.poll_once(), 1);
  auto again = store::read_value(
      *db_, [&](Transaction& s) { return store::DeadLetterRepository{}.find(s, letters[0].id); });
  EXPECT_EQ(again->status, store::DeadLetterStatus::kDead);
  EXPECT_EQ(again->attempts, 5);

  broken = false;
  db_->write(
      [&](Transaction& s) { store::DeadLetterRepository{}.request_replay(s, "", clock_.now()); });
  EXPECT_EQ(b.poll_once(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + poison + "'"), 1);
  auto done = store::read_value(
      *db_, [&](Transaction& s) { return store::DeadLetterRepository{}.find(s, letters[0].id); });
  EXPECT_EQ(done->status, store::DeadLetterStatus::kReplayed);
  EXPECT_EQ(b.poll_once(), 0);  // nothing left to replay
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 1);
}

TEST_P(LogBusTest, ACommitWakesTheConsumerWithoutWaitingForThePoll) {
  domain::SystemClock real;
  LogBusOptions options;
  options.partitions = {{"orders", 3}};
  options.poll_interval = std::chrono::hours(1);  // only the wake-up can deliver in time
  LogBus b(*db_, real, random_, options);
  std::atomic<int> handled = 0;
  b.subscribe({"orders", "g1", [&](const Event&, Transaction&) { ++handled; }});
  b.start();  // adds its own commit listener
  ASSERT_TRUE(store::testing::eventually([&] { return !b.stats().empty(); }));  // first poll done
  publish("orders", 1, "k");
  EXPECT_TRUE(store::testing::eventually([&] { return handled.load() == 1; }));
  b.stop();
}

// A commit wakes the consumer threads of the partitions it appended to, and no other: the
// counters say a thread was not woken without waiting to see. On a database that hears only its
// own commits (on PostgreSQL the LISTEN connection would add "anything" for each append).
TEST_P(LogBusTest, ACommitWakesOnlyTheConsumersOfThePartitionsItAppendedTo) {
  auto options = database_options();
  options.hear_other_processes = false;
  auto db = open_database(options);
  domain::SystemClock real;
  LogBusOptions bus_options;
  bus_options.partitions = {{"orders", 3}, {"audit", 1}};
  bus_options.poll_interval = std::chrono::hours(1);  // only a wake-up delivers in time
  LogBus b(*db, real, random_, bus_options);
  std::atomic<int> orders = 0;
  std::atomic<int> audit = 0;
  std::atomic<int> fanned = 0;
  b.subscribe({"orders", "g1", [&](const Event&, Transaction&) { ++orders; }});
  b.subscribe({"audit", "g1", [&](const Event&, Transaction&) { ++audit; }});
  b.subscribe_ephemeral({"audit", "fan", [&](const Event&) { ++fanned; }});
  b.start();
  // Every thread's first poll is done (3 + 1 + 1 partitions published).
  ASSERT_TRUE(store::testing::eventually([&] { return b.stats().size() == 5u; }));
  const auto append = [&](const std::string& topic, int partition) {
    const std::string id = "ev-" + std::to_string(++published_);
    db->write([&](Transaction& s) {
      store::OutboxRepository{}.append(
          s, {topic, partition, "k", id, R"({"id":")" + id + R"(","type":"t"})"}, real.now());
    });
  };

  // The listener runs before write() returns, and no other commit appends (the consumers' own
  // commits append nothing, and wake nobody): the counters are final here.
  append("orders", 1);
  EXPECT_EQ(b.wake_ups("g1", "orders"), 1u);
  EXPECT_EQ(b.wake_ups("g1", "audit"), 0u);
  EXPECT_EQ(b.wake_ups("fan", "audit"), 0u);
  EXPECT_TRUE(store::testing::eventually([&] { return orders.load() == 1; }));

  append("audit", 0);
  EXPECT_EQ(b.wake_ups("g1", "orders"), 1u);
  EXPECT_EQ(b.wake_ups("g1", "audit"), 1u);
  EXPECT_EQ(b.wake_ups("fan", "audit"), 1u);
  EXPECT_TRUE(store::testing::eventually([&] { return audit.load() == 1 && fanned.load() == 1; }));

  // A dead letter marked for replay is no append: every consumer looks.
  db->write([&](Transaction& s) { s.announce_log_change(); });
  EXPECT_EQ(b.wake_ups("g1", "orders"), 2u);
  EXPECT_EQ(b.wake_ups("g1", "audit"), 2u);
  EXPECT_EQ(b.wake_ups("fan", "audit"), 2u);
  EXPECT_EQ(b.wake_ups("g2", "orders"), std::nullopt);
  b.stop();
  EXPECT_EQ(orders.load(), 1);
}

TEST_P(LogBusTest, AProcessKilledBetweenHandlingAndCommittingLeavesNoEffectAndRedelivers) {
  const auto id = publish("orders", 0, "k");
  db_.reset();  // the child opens the database itself
  const auto path = parent_database(location());
  // The child re-executes this binary and runs only this test, so no other thread is forked.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(die_inside_the_transaction(path, clock_, random_), ::testing::ExitedWithCode(7), "");
  reopen();
  // The child did start on this event in this very database: its attempt is recorded here.
  const auto attempts = store::read_value(*db_, [](Transaction& s) {
    return store::DeliveryAttemptRepository{}.of(s, "g1", "orders");
  });
  ASSERT_TRUE(attempts.contains(0));
  EXPECT_EQ(attempts.at(0).offset, 0);
  EXPECT_EQ(attempts.at(0).attempts, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 0);
  EXPECT_TRUE(committed("g1", "orders").empty());
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + id + "'"), 1);
}

TEST_P(LogBusTest, RetentionDeletesOnlyOldEventsEveryGroupHasConsumed) {
  for (int i = 0; i < 4; ++i) publish("orders", 0, "k");
  advance(std::chrono::hours(24 * 8));
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

TEST_P(LogBusTest, RetentionKeepsWhatALocalConsumerHasNotPolledYet) {
  publish("orders", 0, "k");
  advance(std::chrono::hours(24 * 8));
  auto& b = bus();
  b.subscribe({"orders", "new-group", recording("new-group")});
  EXPECT_EQ(b.purge(std::chrono::hours(24 * 7)), 0);
  EXPECT_EQ(b.poll_once(), 1);
}

TEST_P(LogBusTest, AnEventThatKillsTheProcessIsDeadLetteredAfterTheConfiguredAttempts) {
  const auto before = publish("orders", 0, "k");
  const auto poison = publish("orders", 0, "k");
  const auto after = publish("orders", 0, "k");
  db_.reset();
  const auto path = parent_database(location());
  auto attempts_on_poison = [&] {
    auto db = open_at(path);
    auto recorded = store::read_value(*db, [](Transaction& s) {
      return store::DeliveryAttemptRepository{}.of(s, "g1", "orders");
    });
    return recorded.contains(0) && recorded.at(0).offset == 1 ? recorded.at(0).attempts : 0;
  };
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The schedule has three attempts: each one kills the process (a crash loop, unprotected).
  for (int run = 1; run <= 3; ++run) {
    EXPECT_EXIT(run_killed_by(path, poison, clock_, random_), ::testing::KilledBySignal(SIGKILL),
                "");
    EXPECT_EQ(attempts_on_poison(), run);  // counted across processes
  }
  reopen();
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + before + "'"), 1);
  EXPECT_EQ(committed("g1", "orders").at(0), 1);

  // The next process dead-letters it without running the handler again, and moves on.
  retry_.backoff = {1s, 5s};
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 2);
  ASSERT_EQ(seen("g1").size(), 1u);
  EXPECT_EQ(seen("g1")[0].id, after);
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].event_id, poison);
  EXPECT_EQ(letters[0].attempts, 3);
  EXPECT_NE(letters[0].error.find("stopped while handling"), std::string::npos) << letters[0].error;
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_attempts"), 0);
  EXPECT_EQ(committed("g1", "orders").at(0), 3);
  EXPECT_EQ(b.stats()[0].dead_lettered, 1);
}

TEST_P(LogBusTest, TheAttemptCountOfAFailingEventSurvivesARestart) {
  const auto poison = publish("audit", 0, "k");
  auto failing = [](const Event&, Transaction&) { throw std::runtime_error("still broken"); };
  {
    auto& b = bus();
    b.subscribe({"audit", "g1", failing});
    b.poll_once();  // attempt 1
    advance(1s);
    b.poll_once();  // attempt 2
  }
  reopen();  // a restart: 2 attempts are on record
  auto& b = bus();
  b.subscribe({"audit", "g1", failing});
  b.poll_once();  // attempt 3, at once after the restart
  advance(25s);
  b.poll_once();  // attempt 4: the last
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].event_id, poison);
  EXPECT_EQ(letters[0].attempts, 4);
  EXPECT_EQ(letters[0].error, "still broken");
}

TEST_P(LogBusTest, APermanentFailureAndAPayloadThatIsNotJsonAreDeadLetteredWithoutRetries) {
  const auto permanent = publish("orders", 0, "k");
  std::string not_json_id = "ev-not-json";
  db_->write([&](Transaction& s) {
    store::OutboxRepository{}.append(s, {"orders", 0, "k", not_json_id, "{truncated"},
                                     clock_.now());
  });
  const auto fine = publish("orders", 0, "k");
  int calls = 0;
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 ++calls;
                 if (e.id == permanent) {
                   tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                   throw PermanentFailure("names a task that can never exist");
                 }
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
               }});
  EXPECT_EQ(b.poll_once(), 3);  // no waiting: all three consumed in one pass
  EXPECT_EQ(calls, 2);          // the handler never saw the payload that is not JSON
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 2u);
  std::sort(letters.begin(), letters.end(),
            [](const auto& x, const auto& y) { return x.offset < y.offset; });
  EXPECT_EQ(letters[0].event_id, permanent);
  EXPECT_EQ(letters[0].attempts, 1);
  EXPECT_EQ(letters[0].error, "names a task that can never exist");
  EXPECT_EQ(letters[1].event_id, not_json_id);
  EXPECT_EQ(letters[1].attempts, 1);
  EXPECT_NE(letters[1].error.find("not JSON"), std::string::npos) << letters[1].error;
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + permanent + "'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE event_id = '" + fine + "'"), 1);
  EXPECT_EQ(b.stats()[0].retried, 0);
  EXPECT_EQ(b.stats()[0].dead_lettered, 2);
  EXPECT_EQ(b.stats()[0].handled, 1);
}

TEST_P(LogBusTest, TheRetryScheduleIsConfigurable) {
  const auto poison = publish("audit", 0, "k");
  retry_.backoff = {200ms, 2s};
  std::vector<std::chrono::steady_clock::time_point> attempts;
  auto& b = bus();
  b.subscribe({"audit", "g1", [&](const Event&, Transaction&) {
                 attempts.push_back(monotonic_.now());
                 throw std::runtime_error("down");
               }});
  b.poll_once();
  advance(199ms);
  b.poll_once();
  advance(1ms);
  b.poll_once();
  advance(2s);
  b.poll_once();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[1] - attempts[0], 200ms);
  EXPECT_EQ(attempts[2] - attempts[1], 2s);
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].event_id, poison);
  EXPECT_EQ(letters[0].attempts, 3);
}

TEST_P(LogBusTest, BackoffsRunOnTheMonotonicClockNotTheWallClock) {
  publish("audit", 0, "k");
  int calls = 0;
  auto& b = bus();
  b.subscribe({"audit", "g1", [&](const Event&, Transaction&) {
                 if (++calls < 3) throw std::runtime_error("down");
               }});
  b.poll_once();
  clock_.advance(std::chrono::hours(2));  // the wall clock jumps forward: no earlier retry
  b.poll_once();
  EXPECT_EQ(calls, 1);
  monotonic_.advance(1s);
  b.poll_once();
  EXPECT_EQ(calls, 2);
  clock_.set(kStart - std::chrono::hours(24));  // and back: the 5 s wait is not stretched
  monotonic_.advance(5s);
  EXPECT_EQ(b.poll_once(), 1);
  EXPECT_EQ(calls, 3);
}

TEST_P(LogBusTest, TheSteadyPathWritesOneTransactionPerBatchAndNothingElse) {
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 0);  // opened on an empty log: nothing can have been in flight
  for (int i = 0; i < 10; ++i) publish("orders", 1, "k");
  const auto writes = db_->writes();
  EXPECT_EQ(b.poll_once(), 10);
  EXPECT_EQ(db_->writes() - writes, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_attempts"), 0);
}

TEST_P(LogBusTest, AfterARestartTheEventsPossiblyInFlightGoOneAtATimeThenBatchesResume) {
  for (int i = 0; i < 5; ++i) publish("orders", 1, "k");
  const auto writes = db_->writes();
  auto& b = bus(1000ms, /*batch_size=*/3);
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 3);
  EXPECT_EQ(b.poll_once(), 2);
  // Offsets 0..2 (the most a batch could hold) each with its attempt recorded first; then 3..4
  // in one transaction.
  EXPECT_EQ(db_->writes() - writes, 3 * 2 + 1);
  EXPECT_EQ(seen("g1").size(), 5u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_attempts"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects"), 5);
}

TEST_P(LogBusTest, AnEphemeralSubscriptionStartsAtTheHeadAndKeepsNothingInTheDatabase) {
  publish("orders", 0, "k");  // before start: not seen
  std::mutex mutex;
  std::vector<Event> got;
  auto& b = bus();
  b.subscribe_ephemeral({"orders", "sync-test", [&](const Event& e) {
                           std::lock_guard lock(mutex);
                           got.push_back(e);
                         }});
  b.start();  // placed at the head; woken by commits
  const auto first = publish("orders", 2, "k2");
  const auto second = publish("orders", 2, "k2");
  ASSERT_TRUE(store::testing::eventually([&] {
    std::lock_guard lock(mutex);
    return got.size() == 2;
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(got[0].id, first);
    EXPECT_EQ(got[1].id, second);
    EXPECT_EQ(got[1].offset, 1);
  }
  b.stop();
  EXPECT_EQ(count("SELECT COUNT(*) FROM consumer_offsets"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_events"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_attempts"), 0);
}

TEST_P(LogBusTest,
       AnEphemeralSubscriptionNeverWritesSkipsWhatItsHandlerRefusesAndHoldsNoRetention) {
  auto& b = bus();
  std::vector<std::string> got;
  b.subscribe_ephemeral({"orders", "sync-test", [&](const Event& e) {
                           if (e.key == "bad") throw std::runtime_error("client gone");
                           got.push_back(e.id);
                         }});
  b.subscribe({"orders", "g1", recording("g1")});
  EXPECT_EQ(b.poll_once(), 0);  // both placed: the log is empty
  publish("orders", 0, "bad");
  const auto good = publish("orders", 0, "good");
  EXPECT_EQ(b.poll_once(), 2 + 2);
  EXPECT_EQ(got, std::vector<std::string>{good});
  const auto stats = b.stats();
  ASSERT_EQ(stats.size(), 6u);  // 3 partitions of g1, then 3 of the ephemeral one
  EXPECT_EQ(stats[3].group, "sync-test");
  EXPECT_EQ(stats[3].handled, 1);
  EXPECT_EQ(stats[3].skipped, 1);
  EXPECT_EQ(stats[3].lag(), 0);

  // Without the writer: more events reach only the ephemeral subscription here.
  publish("orders", 1, "k");
  const auto writes = db_->writes();
  LogBusOptions options;
  options.partitions = {{"orders", 3}};
  LogBus only_ephemeral(*db_, clock_, monotonic_, random_, options);
  int seen_here = 0;
  only_ephemeral.subscribe_ephemeral({"orders", "sync-2", [&](const Event&) { ++seen_here; }});
  EXPECT_EQ(only_ephemeral.poll_once(), 0);  // at the head
  publish("orders", 1, "k");
  publish("orders", 2, "k");
  const auto published = db_->writes();
  EXPECT_EQ(only_ephemeral.poll_once(), 2);
  EXPECT_EQ(seen_here, 2);
  EXPECT_EQ(db_->writes(), published);
  EXPECT_EQ(published - writes, 2);

  // Retention ignores it: g1 consumed everything, so old events go though sync-2 is behind.
  publish("orders", 0, "k");
  b.poll_once();
  advance(std::chrono::hours(24 * 8));
  EXPECT_EQ(b.purge(std::chrono::hours(24 * 7)), 6);
  EXPECT_EQ(only_ephemeral.poll_once(), 0);           // a gap, reported and skipped
  EXPECT_EQ(only_ephemeral.stats()[0].committed, 3);  // at the head of partition 0 now
}

TEST_P(LogBusTest, RunningIsFalseOnceAConsumerThreadHasStopped) {
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  b.subscribe_ephemeral(
      {"orders", "broken", [](const Event&) { throw 42; }});  // not a std::exception
  EXPECT_FALSE(b.running());
  b.start();
  EXPECT_TRUE(b.running());
  publish("orders", 0, "k");
  EXPECT_TRUE(store::testing::eventually([&] { return !b.running(); }));
  EXPECT_TRUE(
      store::testing::eventually([&] { return seen("g1").size() == 1u; }));  // the rest goes on
  b.stop();
  EXPECT_FALSE(b.running());
}

TEST_P(LogBusTest, ATwoPhaseHandlerPreparesOutsideTheWriterAndAppliesInTheTransaction) {
  db_->write([](Transaction& s) {
    s.execute("CREATE TABLE prices (sku TEXT NOT NULL, cents INTEGER NOT NULL)");
    s.execute("INSERT INTO prices VALUES ('a', 250)");
  });
  const auto first = publish("orders", 0, "k");
  const auto second = publish("orders", 0, "k");
  int prepared = 0;
  auto& b = bus();
  Subscription two_phase{"orders", "g1", {}};
  two_phase.prepare = [&](const Event& e) -> std::any {
    ++prepared;
    if (e.id == second && prepared == 2) throw std::runtime_error("snapshot unavailable");
    // Outside the writer: a write of its own would fail as nested if this ran inside one.
    db_->write([](Transaction& s) { s.execute("UPDATE prices SET cents = cents + 1"); });
    return store::read_value(
        *db_, [](Transaction& s) { return s.query_one("SELECT cents FROM prices")->integer(0); });
  };
  two_phase.apply = [&](const Event& e, std::any& value, Transaction& tx) {
    tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, $2)",
               {e.id, std::to_string(std::any_cast<std::int64_t>(value))});
  };
  b.subscribe(std::move(two_phase));
  EXPECT_EQ(b.poll_once(), 1);  // the first; the second's prepare failed: a failed attempt
  EXPECT_EQ(b.stats()[0].retried, 1);
  advance(1s);
  EXPECT_EQ(b.poll_once(), 1);
  // Each value is what prepare read from its snapshot.
  EXPECT_EQ(count("SELECT CAST(grp AS INTEGER) FROM effects WHERE event_id = '" + first + "'"),
            251);
  EXPECT_EQ(count("SELECT CAST(grp AS INTEGER) FROM effects WHERE event_id = '" + second + "'"),
            252);
  EXPECT_EQ(prepared, 3);  // the first, the second's failed attempt, its retry

  EXPECT_THROW(b.subscribe({"audit", "g2", {}}), std::invalid_argument);  // neither
  Subscription half{"audit", "g3", {}};
  half.apply = [](const Event&, std::any&, Transaction&) {};
  EXPECT_THROW(b.subscribe(std::move(half)), std::invalid_argument);
}

TEST_P(LogBusTest, AReplayThatKillsTheProcessIsNotRepeatedAtTheNextStart) {
  publish("audit", 0, "k");
  {
    auto& b = bus();
    b.subscribe({"audit", "g1", [](const Event&, Transaction&) { throw PermanentFailure("no"); }});
    b.poll_once();
  }
  auto letters =
      store::read_value(*db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
  ASSERT_EQ(letters.size(), 1u);
  db_->write([&](Transaction& s) {
    store::DeadLetterRepository{}.request_replay(s, letters[0].id, clock_.now());
  });
  bus_.reset();
  db_.reset();
  const auto path = parent_database(location());
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(replay_killed(path, clock_, random_), ::testing::KilledBySignal(SIGKILL), "");

  reopen();
  auto letter = store::read_value(
      *db_, [&](Transaction& s) { return store::DeadLetterRepository{}.find(s, letters[0].id); });
  EXPECT_EQ(letter->status, store::DeadLetterStatus::kDead);
  EXPECT_NE(letter->error.find("stopped while replaying"), std::string::npos) << letter->error;
  int calls = 0;
  auto& b = bus();
  b.subscribe({"audit", "g1", [&](const Event&, Transaction&) { ++calls; }});
  EXPECT_EQ(b.poll_once(), 0);  // not replayed again, and the offset had moved past it
  EXPECT_EQ(calls, 0);
}

// ---- PostgreSQL: several processes on one log ------------------------------------------------

// Two Database objects on one schema stand for two processes: each has its own pool, its own
// write gate (so its writes conflict with the other's at the server) and its own LISTEN
// connection.
class LogBusPostgresTest : public LogBusTest {
 protected:
  // Appends one event through `db`, running the write again when it gave up after its attempts
  // (a write that gives up commits nothing). Returns how many times it gave up.
  static int append_until_committed(store::Database& db, const std::string& id, int partition) {
    for (int gave_up = 0;; ++gave_up) {
      try {
        db.write([&](Transaction& s) {
          store::OutboxRepository{}.append(
              s, {"orders", partition, "k", id, R"({"id":")" + id + R"("})"}, kStart);
        });
        return gave_up;
      } catch (const store::ConstraintViolation&) {
        throw;  // the id is already in: a committed write reported as failed
      } catch (const store::DatabaseError&) {
      }
    }
  }
};

// Appenders in two databases, three threads each, append to the same partitions at once, while
// a reader takes snapshot after snapshot and a durable consumer in a third database polls. Each
// snapshot holds every partition's offsets as 0..n-1 with the head at n, n never shrinking: offset
// k+1 never commits before offset k. So the consumer, which reads up to the head, never steps over
// an offset that commits later: when the appenders are done it has handled every event once.
TEST_P(LogBusPostgresTest, AppendersInTwoDatabasesGetGaplessCommitOrderedOffsets) {
  constexpr int kDatabases = 2;
  constexpr int kThreadsPerDatabase = 3;
  constexpr int kAppendsPerThread = 40;
  constexpr int kPartitions = 2;  // of the 3 of "orders": the third stays empty
  constexpr int kTotal = kDatabases * kThreadsPerDatabase * kAppendsPerThread;
  std::vector<std::unique_ptr<store::Database>> appenders;
  for (int d = 0; d < kDatabases; ++d) appenders.push_back(open_database());
  auto consumer_db = open_database();

  std::atomic<int> appenders_left{kDatabases * kThreadsPerDatabase};
  std::atomic<int> gave_up{0};
  std::vector<std::thread> threads;
  for (int d = 0; d < kDatabases; ++d) {
    for (int t = 0; t < kThreadsPerDatabase; ++t) {
      threads.emplace_back([&, d, t] {
        for (int i = 0; i < kAppendsPerThread; ++i) {
          const std::string id =
              "d" + std::to_string(d) + "-t" + std::to_string(t) + "-" + std::to_string(i);
          gave_up += append_until_committed(*appenders[static_cast<std::size_t>(d)], id,
                                            (t + i) % kPartitions);
        }
        --appenders_left;
      });
    }
  }

  std::vector<std::string> violations;  // the reader's alone until it is joined
  int snapshots = 0;
  std::thread reader([&] {
    std::map<int, std::size_t> last_seen;
    auto observe = [&] {
      consumer_db->read([&](Transaction& s) {
        const auto heads = store::OutboxRepository{}.heads(s, "orders");
        for (int p = 0; p < kPartitions; ++p) {
          const auto rows = s.query(
              "SELECT \"offset\" FROM outbox WHERE topic = 'orders' AND \"partition\" = $1 "
              "ORDER BY \"offset\"",
              {std::int64_t{p}});
          for (std::size_t i = 0; i < rows.size(); ++i) {
            if (rows[i].integer(0) != static_cast<std::int64_t>(i)) {
              violations.push_back("partition " + std::to_string(p) + ": offset " +
                                   std::to_string(rows[i].integer(0)) + " at position " +
                                   std::to_string(i));
              break;
            }
          }
          const auto head = heads.find(p);
          const std::int64_t end = head == heads.end() ? 0 : head->second;
          if (end != static_cast<std::int64_t>(rows.size())) {
            violations.push_back("partition " + std::to_string(p) + ": head " +
                                 std::to_string(end) + " with " + std::to_string(rows.size()) +
                                 " rows");
          }
          if (rows.size() < last_seen[p]) violations.push_back("a later snapshot saw less");
          last_seen[p] = rows.size();
        }
      });
      ++snapshots;
    };
    while (appenders_left.load() > 0) observe();
    observe();
  });

  LogBusOptions options;
  options.partitions = {{"orders", 3}};
  LogBus consumer(*consumer_db, clock_, monotonic_, random_, options);
  consumer.subscribe({"orders", "g1", recording("g1")});
  while (appenders_left.load() > 0) consumer.poll_once();
  for (auto& t : threads) t.join();
  reader.join();
  while (consumer.poll_once() > 0) {
  }

  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_GT(snapshots, 0);
  std::size_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const auto messages = store::read_value(*db_, [&](Transaction& s) {
      return store::OutboxRepository{}.read(s, "orders", p, 0, kTotal + 1);
    });
    for (std::size_t i = 0; i < messages.size(); ++i) {
      EXPECT_EQ(messages[i].offset, static_cast<std::int64_t>(i)) << "partition " << p;
    }
    total += messages.size();
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kTotal));
  // Every event handled exactly once (effects are written in the consumer's transaction), and
  // each partition committed up to its end: none was stepped over.
  EXPECT_EQ(count("SELECT COUNT(*) FROM effects WHERE grp = 'g1'"), kTotal);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT event_id) FROM effects WHERE grp = 'g1'"), kTotal);
  const auto offsets = committed("g1", "orders");
  EXPECT_EQ(offsets.at(0) + offsets.at(1), kTotal);
  std::cout << "snapshots taken while appending: " << snapshots
            << ", writes that gave up and were made again: " << gave_up.load() << "\n";
}

// One-shot commands open the database without the LISTEN connection; everything else has it.
TEST_P(LogBusPostgresTest, OnlyADatabaseThatWaitsForOtherProcessesListens) {
  auto options = database_options();
  options.hear_other_processes = false;
  auto deaf = open_database(options);
  auto hearing = open_database();
  EXPECT_TRUE(store::testing::eventually([&] { return store::postgres_listening(*hearing); }));
  EXPECT_FALSE(store::postgres_listening(*deaf));
  EXPECT_TRUE(deaf->ping());
}

// The consumer in database B sleeps for an hour between polls: only the notification that A's
// commit sends can wake it in time.
TEST_P(LogBusPostgresTest, AConsumerIsWokenByAnAppendCommittedThroughAnotherDatabase) {
  auto other = open_database();  // "process" B
  domain::SystemClock real;
  LogBusOptions options;
  options.partitions = {{"orders", 3}};
  options.poll_interval = std::chrono::hours(1);
  LogBus b(*other, real, random_, options);
  std::atomic<int> handled = 0;
  b.subscribe({"orders", "g1", [&](const Event&, Transaction&) { ++handled; }});
  b.start();
  ASSERT_TRUE(store::testing::eventually([&] { return !b.stats().empty(); }));  // first poll done
  ASSERT_TRUE(store::postgres_listening(*other));
  publish("orders", 1, "k");  // through A (db_)
  EXPECT_TRUE(store::testing::eventually([&] { return handled.load() == 1; }));
  publish("orders", 2, "k");
  EXPECT_TRUE(store::testing::eventually([&] { return handled.load() == 2; }));
  b.stop();
}

// The server ends the LISTEN connection (as a restart or a network break would): the database
// reconnects by itself, wakes its listeners once for what it may have missed, and is woken by
// other databases' appends again. Destroying it while it reconnects does not hang.
TEST_P(LogBusPostgresTest, TheNotificationConnectionReconnectsAndWakesListenersOnce) {
  auto other = open_database();  // B
  ASSERT_TRUE(store::postgres_listening(*other));
  std::atomic<int> woken = 0;
  const auto listener = other->add_commit_listener([&](const store::LogAppends& appends) {
    EXPECT_TRUE(appends.is_anything());  // B hears A's commits, and its reconnection, as such
    ++woken;
  });
  const auto terminate_listeners = [&] {
    return store::write_value(db_->inner(), [](Transaction& s) {
      return s
          .query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE application_name = 'todo-listen' AND datname = current_database()")
          .size();
    });
  };
  EXPECT_EQ(terminate_listeners(), 2u);                                        // A's and B's
  EXPECT_TRUE(store::testing::eventually([&] { return woken.load() == 1; }));  // reconnected
  EXPECT_TRUE(store::testing::eventually([&] { return store::postgres_listening(*other); }));
  EXPECT_EQ(woken.load(), 1);

  publish("orders", 0, "k");  // through A: B hears of it on its new connection
  EXPECT_TRUE(store::testing::eventually([&] { return woken.load() == 2; }));

  other->remove_commit_listener(listener);
  EXPECT_GE(terminate_listeners(), 1u);  // B's at least (A's may still be reconnecting)
  other.reset();  // while it notices the break or waits to reconnect: returns at once
}

TODO_STORE_TEST_ON_EVERY_BACKEND(LogBusTest);
TODO_STORE_TEST_ON_POSTGRES(LogBusPostgresTest);

}  // namespace
}  // namespace todo::bus

// The bus contract (bus/bus.h) as services rely on it, one suite run against every bus the
// factory opens — the log bus and Kafka (librdkafka's mock cluster, run as a process by
// tests/support/kafka_mock_broker) — each on every database backend, through open_bus() and
// the background threads start() runs: per-partition order and offsets, independent groups that
// resume from the database, exactly-once effects (a rewound group and a failed handler leave no
// second or partial effect), retries then the dead letter and its <topic>.dlq message, replay,
// permanent failures and payloads that are not JSON, two-phase handlers, ephemeral fan-out,
// stats and metrics, and the refusals of subscribe(). What only one bus has is tested beside it
// (log_bus_test.cpp: its schedule on a manual clock, batching, retention, death tests;
// kafka_bus_test.cpp: the relay, the broker going down).
#include <gtest/gtest.h>

#include <algorithm>
#include <any>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "bus/open_bus.h"
#include "domain/time_format.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"
#include "bus_test_support.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"
#if !defined(TODO_NO_KAFKA_TESTS)
#include "kafka_mock_process.h"
#endif

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;
using store::testing::eventually;

// One bus on one database backend: the parameter of the suite.
struct BusCase {
  std::string name;  // the suffix of the test names: "LogOnSqlite", "KafkaOnPostgres"
  BusKind kind;
  store::testing::Backend backend;
};

void PrintTo(const BusCase& c, std::ostream* out) { *out << c.name; }

std::vector<BusCase> bus_cases() {
  std::vector<std::pair<std::string, BusKind>> kinds = {{"Log", BusKind::kLog}};
#if !defined(TODO_NO_KAFKA_TESTS)  // not under ThreadSanitizer: see tests/unit/CMakeLists.txt
  kinds.emplace_back("Kafka", BusKind::kKafka);
#endif
  std::vector<BusCase> cases;
  for (const auto& [kind_name, kind] : kinds) {
    for (const auto& backend : store::testing::backends()) {
      cases.push_back({kind_name + "On" + backend.name, kind, backend});
    }
  }
  return cases;
}

class BusConformanceTest : public ::testing::TestWithParam<BusCase> {
 protected:
  BusConformanceTest() {
#if !defined(TODO_NO_KAFKA_TESTS)
    if (GetParam().kind == BusKind::kKafka) {
      broker_.emplace();
      broker_->create_topic("orders", 2);
      broker_->create_topic("orders.dlq", 1);
    }
#endif
    store::DatabaseOptions options;
    options.dialect = GetParam().backend.dialect;
    options.path = dir_.path() / "todo.db";
    db_ = GetParam().backend.open(options);
    testing::create_effects_table(*db_);
  }
  ~BusConformanceTest() override { bus_.reset(); }

  // A new bus on the test's database (the previous one, if any, stopped and gone first), with
  // short retries so dead letters come within milliseconds.
  BusBackend& bus() {
    bus_.reset();
    BusOptions options;
    options.kind = GetParam().kind;
    options.partitions = {{"orders", 2}, {"orders.dlq", 1}};
    options.retry.backoff = {10ms, 10ms};  // three attempts
    options.poll_interval = 100ms;
#if !defined(TODO_NO_KAFKA_TESTS)
    if (broker_) options.kafka.brokers = broker_->brokers();
#endif
    // The mock cluster waits a whole session for a member that left before it rebalances.
    options.kafka.session_timeout = 6000ms;
    bus_ = open_bus(*db_, clock_, random_, options);
    return *bus_;
  }

  // Appends one event of "orders" in its own transaction, as a service's write would.
  std::string publish(int partition, const std::string& key = "k",
                      std::optional<std::string> payload = std::nullopt) {
    const std::string id = "ev-" + std::to_string(++published_);
    db_->write([&](Transaction& s) {
      store::OutboxRepository{}.append(
          s,
          {"orders", partition, key, id,
           payload.value_or(R"({"id":")" + id +
                            R"(","type":"t","source":"/test","specversion":"1.0"})")},
          clock_.now());
    });
    return id;
  }

  std::int64_t count(const std::string& sql) {
    return store::read_value(*db_, [&](Transaction& s) { return s.query_one(sql)->integer(0); });
  }
  std::int64_t effects() { return count("SELECT COUNT(*) FROM effects"); }
  std::int64_t effects_of(const std::string& id) {
    return count("SELECT COUNT(*) FROM effects WHERE event_id = '" + id + "'");
  }
  std::int64_t distinct_effects() { return count("SELECT COUNT(DISTINCT event_id) FROM effects"); }

  std::map<int, std::int64_t> committed(const std::string& group, const std::string& topic) {
    return testing::committed(*db_, group, topic);
  }
  std::vector<store::DeadLetter> dead_letters() {
    auto letters = store::read_value(
        *db_, [](Transaction& s) { return store::DeadLetterRepository{}.list(s); });
    std::sort(letters.begin(), letters.end(),
              [](const auto& x, const auto& y) { return x.offset < y.offset; });
    return letters;
  }

  // A handler that records what it saw and writes one effect row per event through tx.
  EventHandler recording(const std::string& group) { return recorder_.handler(group); }
  std::vector<Event> seen(const std::string& group) { return recorder_.seen(group); }

  store::testing::TempDir dir_;
#if !defined(TODO_NO_KAFKA_TESTS)
  std::optional<testing::KafkaMockProcess> broker_;
#endif
  domain::ManualClock clock_{domain::parse_rfc3339("2026-03-01T12:00:00Z").value()};
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<BusBackend> bus_;
  int published_ = 0;
  testing::Recorder recorder_;
};

TEST_P(BusConformanceTest, DeliversEachPartitionInOrderOnceAndCommitsTheOffsets) {
  std::map<int, std::vector<std::string>> expected;
  for (int i = 0; i < 12; ++i)
    expected[i % 2].push_back(publish(i % 2, "k" + std::to_string(i % 2)));
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  b.start();
  EXPECT_TRUE(b.running());
  for (int i = 0; i < 8; ++i)
    expected[i % 2].push_back(publish(i % 2, "k" + std::to_string(i % 2)));
  ASSERT_TRUE(eventually([&] { return effects() == 20; }));

  std::map<int, std::vector<std::string>> got;
  for (const auto& e : seen("g1")) {
    EXPECT_EQ(e.topic, "orders");
    EXPECT_EQ(e.key, "k" + std::to_string(e.partition));
    EXPECT_EQ(e.offset, static_cast<std::int64_t>(got[e.partition].size()));
    EXPECT_NE(e.payload.find(R"("id":")" + e.id + '"'), std::string::npos) << e.payload;
    got[e.partition].push_back(e.id);
  }
  EXPECT_EQ(got, expected);
  ASSERT_TRUE(eventually([&] {
    return committed("g1", "orders") == std::map<int, std::int64_t>{{0, 10}, {1, 10}};
  }));
  ASSERT_TRUE(eventually([&] {
    int caught_up = 0;
    for (const auto& s : b.stats()) {
      if (s.group == "g1" && s.topic == "orders" && s.committed == 10 && s.end == 10 &&
          s.lag() == 0)
        ++caught_up;
    }
    return caught_up == 2;
  }));
  EXPECT_NE(b.prometheus_text().find(R"(todo_bus_consumer_lag{group="g1",topic="orders")"),
            std::string::npos);
  EXPECT_EQ(distinct_effects(), 20);
}

TEST_P(BusConformanceTest, GroupsAreIndependentAndResumeFromTheirDatabaseOffsets) {
  for (int i = 0; i < 4; ++i) publish(i % 2);
  {
    auto& b = bus();
    b.subscribe({"orders", "g1", recording("g1")});
    b.subscribe({"orders", "g2", recording("g2")});
    b.start();
    ASSERT_TRUE(eventually([&] { return effects() == 8; }));
    b.stop();
    EXPECT_FALSE(b.running());
  }
  for (int i = 0; i < 3; ++i) publish(0);  // while nobody consumes
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});  // g2 stays away
  b.start();
  ASSERT_TRUE(eventually([&] { return effects() == 11; }));
  ASSERT_TRUE(eventually([&] { return committed("g1", "orders")[0] == 5; }));
  EXPECT_EQ(seen("g1").size(), 7u);  // nothing seen twice across the restart
  EXPECT_EQ(seen("g2").size(), 4u);
  EXPECT_EQ(committed("g2", "orders"), (std::map<int, std::int64_t>{{0, 2}, {1, 2}}));
  EXPECT_EQ(count("SELECT COUNT(DISTINCT event_id) FROM effects WHERE grp = 'g1'"), 7);
}

// The group's offset goes back. On Kafka (as after a crash between a broker's delivery and the
// commit, or the relay's duplicates) the events come again, are consumed, and have no second
// effect: the dedupe rows. The log bus keeps none (its log holds an event id once, and the offset
// commits with the effects, so nothing comes twice by itself): moving its offset back is a replay,
// and each event has its effect again.
TEST_P(BusConformanceTest, EventsDeliveredAgainHaveNoSecondEffectOnKafkaAndAreReplayedOnTheLog) {
  for (int i = 0; i < 6; ++i) publish(i % 2);
  {
    auto& b = bus();
    b.subscribe({"orders", "g1", recording("g1")});
    b.start();
    ASSERT_TRUE(eventually([&] { return effects() == 6; }));
  }
  bus_.reset();
  db_->write([](Transaction& s) { s.execute("UPDATE consumer_offsets SET \"offset\" = 0"); });
  const auto later = publish(1);
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  b.start();
  ASSERT_TRUE(eventually([&] { return committed("g1", "orders")[1] == 4; }));
  ASSERT_TRUE(eventually([&] { return committed("g1", "orders")[0] == 3; }));
  const bool replays = GetParam().kind == BusKind::kLog;
  EXPECT_EQ(effects(), replays ? 13 : 7);
  EXPECT_EQ(effects_of(later), 1);
  EXPECT_EQ(distinct_effects(), 7);
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_events"), replays ? 0 : 7);
}

TEST_P(BusConformanceTest, AHandlerThatFailsAfterWritingLeavesNoEffectAndIsRetried) {
  const auto flaky = publish(0);
  const auto after = publish(0);
  std::atomic<int> attempts{0};
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                 if (e.id == flaky && ++attempts == 1) throw std::runtime_error("lost the race");
               }});
  b.start();
  ASSERT_TRUE(eventually([&] { return effects_of(after) == 1; }));
  EXPECT_EQ(attempts.load(), 2);
  EXPECT_EQ(effects_of(flaky), 1);  // the failed attempt's row was rolled back
  EXPECT_EQ(dead_letters().size(), 0u);
  ASSERT_TRUE(eventually([&] {
    for (const auto& s : b.stats())
      if (s.group == "g1" && s.partition == 0) return s.retried == 1 && s.handled == 2;
    return false;
  }));
}

TEST_P(BusConformanceTest, AFailingEventIsRetriedThenDeadLetteredToItsDlqTopicAndReplayedOnce) {
  std::atomic<bool> heal{false};
  std::atomic<int> attempts{0};
  const std::string bad = publish(0);
  const std::string good = publish(0);
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 if (e.id == bad && !heal) {
                   ++attempts;
                   throw std::runtime_error("boom");
                 }
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
               }});
  b.subscribe({"orders.dlq", "dlq-watch", recording("dlq-watch")});
  b.start();
  ASSERT_TRUE(eventually([&] { return seen("dlq-watch").size() == 1; }));
  EXPECT_EQ(attempts.load(), 3);  // the first attempt and two retries
  EXPECT_NE(seen("dlq-watch")[0].payload.find(bad), std::string::npos);
  ASSERT_TRUE(eventually([&] { return effects_of(good) == 1; }));  // the partition moved on
  auto letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].event_id, bad);
  EXPECT_EQ(letters[0].group, "g1");
  EXPECT_EQ(letters[0].attempts, 3);
  EXPECT_EQ(letters[0].error, "boom");
  EXPECT_EQ(letters[0].status, store::DeadLetterStatus::kDead);
  EXPECT_EQ(seen("dlq-watch")[0].id, letters[0].id);

  heal = true;
  db_->write(
      [&](Transaction& s) { store::DeadLetterRepository{}.request_replay(s, "", clock_.now()); });
  ASSERT_TRUE(eventually(
      [&] { return count("SELECT COUNT(*) FROM dead_letters WHERE status = 'replayed'") == 1; }));
  EXPECT_EQ(effects_of(bad), 1);
  EXPECT_EQ(attempts.load(), 3);
}

TEST_P(BusConformanceTest, APermanentFailureAndAPayloadThatIsNotJsonAreDeadLetteredAtOnce) {
  const auto permanent = publish(0);
  const auto not_json = publish(0, "k", "{truncated");
  const auto fine = publish(0);
  std::atomic<int> calls{0};
  auto& b = bus();
  b.subscribe({"orders", "g1", [&](const Event& e, Transaction& tx) {
                 ++calls;
                 tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, 'g1')", {e.id});
                 if (e.id == permanent) throw PermanentFailure("names a task that can never exist");
               }});
  b.start();
  ASSERT_TRUE(eventually([&] { return effects_of(fine) == 1 && dead_letters().size() == 2; }));
  EXPECT_EQ(calls.load(), 2);  // the handler never saw the payload that is not JSON
  const auto letters = dead_letters();
  EXPECT_EQ(letters[0].event_id, permanent);
  EXPECT_EQ(letters[0].attempts, 1);
  EXPECT_EQ(letters[0].error, "names a task that can never exist");
  EXPECT_EQ(letters[1].event_id, not_json);
  EXPECT_EQ(letters[1].attempts, 1);
  EXPECT_NE(letters[1].error.find("not JSON"), std::string::npos) << letters[1].error;
  EXPECT_EQ(effects_of(permanent), 0);
  ASSERT_TRUE(eventually([&] {
    for (const auto& s : b.stats())
      if (s.group == "g1" && s.partition == 0)
        return s.retried == 0 && s.dead_lettered == 2 && s.handled == 1;
    return false;
  }));
}

TEST_P(BusConformanceTest, ATwoPhaseHandlerPreparesOutsideTheTransactionAndAppliesInIt) {
  db_->write([](Transaction& s) {
    s.execute("CREATE TABLE prices (sku TEXT NOT NULL, cents INTEGER NOT NULL)");
    s.execute("INSERT INTO prices VALUES ('a', 250)");
  });
  const auto first = publish(0);
  const auto second = publish(0);
  std::atomic<int> prepared{0};
  std::atomic<int> second_prepared{0};
  Subscription two_phase{"orders", "g1", {}};
  two_phase.prepare = [&](const Event& e) -> std::any {
    ++prepared;
    if (e.id == second && ++second_prepared == 1) throw std::runtime_error("snapshot unavailable");
    // Outside the consumer's transaction: a write of its own would fail as nested in one.
    db_->write([](Transaction& s) { s.execute("UPDATE prices SET cents = cents + 1"); });
    return store::read_value(
        *db_, [](Transaction& s) { return s.query_one("SELECT cents FROM prices")->integer(0); });
  };
  two_phase.apply = [&](const Event& e, std::any& value, Transaction& tx) {
    tx.execute("INSERT INTO effects (event_id, grp) VALUES ($1, $2)",
               {e.id, std::to_string(std::any_cast<std::int64_t>(value))});
  };
  auto& b = bus();
  b.subscribe(std::move(two_phase));
  b.start();
  ASSERT_TRUE(eventually([&] { return effects() == 2; }));
  // Each value is what prepare read; the second's failed attempt changed nothing.
  EXPECT_EQ(count("SELECT CAST(grp AS INTEGER) FROM effects WHERE event_id = '" + first + "'"),
            251);
  EXPECT_EQ(count("SELECT CAST(grp AS INTEGER) FROM effects WHERE event_id = '" + second + "'"),
            252);
  EXPECT_EQ(prepared.load(), 3);  // the first, the second's failed attempt, its retry
}

TEST_P(BusConformanceTest, EphemeralSubscriptionsEachSeeWhatIsPublishedAfterStartAndKeepNothing) {
  std::mutex m;
  std::vector<std::string> a, c;
  auto& b = bus();
  b.subscribe_ephemeral({"orders", "sync-a", [&](const Event& e) {
                           std::lock_guard lock(m);
                           a.push_back(e.id);
                         }});
  b.subscribe_ephemeral({"orders", "sync-b", [&](const Event& e) {
                           if (e.key == "bad") throw std::runtime_error("client gone");
                           std::lock_guard lock(m);
                           c.push_back(e.id);
                         }});
  b.start();
  std::vector<std::string> later;
  for (int i = 0; i < 4; ++i) later.push_back(publish(i % 2));
  const auto refused = publish(0, "bad");
  const auto last = publish(0);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return std::count(a.begin(), a.end(), last) == 1 && std::count(c.begin(), c.end(), last) == 1;
  }));
  b.stop();
  std::lock_guard lock(m);
  for (const auto& id : later) {
    EXPECT_EQ(std::count(a.begin(), a.end(), id), 1) << id;
    EXPECT_EQ(std::count(c.begin(), c.end(), id), 1) << id;
  }
  EXPECT_EQ(std::count(a.begin(), a.end(), refused), 1);
  EXPECT_EQ(std::count(c.begin(), c.end(), refused), 0);  // skipped, and the rest went on
  EXPECT_EQ(count("SELECT COUNT(*) FROM consumer_offsets"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_events"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
}

TEST_P(BusConformanceTest, RefusesUnknownTopicsDuplicateGroupsHalfHandlersAndLateSubscriptions) {
  auto& b = bus();
  EXPECT_THROW(b.subscribe({"nope", "g", recording("g")}), std::invalid_argument);
  b.subscribe({"orders", "g", recording("g")});
  EXPECT_THROW(b.subscribe({"orders", "g", recording("g")}), std::invalid_argument);
  EXPECT_THROW(b.subscribe({"orders", "g2", {}}), std::invalid_argument);  // no handler
  Subscription half{"orders", "g3", {}};
  half.apply = [](const Event&, std::any&, Transaction&) {};
  EXPECT_THROW(b.subscribe(std::move(half)), std::invalid_argument);
  EXPECT_THROW(b.subscribe_ephemeral({"nope", "e", [](const Event&) {}}), std::invalid_argument);
  EXPECT_FALSE(b.running());
  b.start();
  EXPECT_TRUE(b.running());
  EXPECT_THROW(b.subscribe({"orders.dlq", "g", recording("g")}), std::logic_error);
  EXPECT_THROW(b.subscribe_ephemeral({"orders", "e", [](const Event&) {}}), std::logic_error);
  b.stop();
  b.stop();  // idempotent
  EXPECT_FALSE(b.running());
}

std::string bus_case_name(const ::testing::TestParamInfo<BusCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Buses, BusConformanceTest, ::testing::ValuesIn(bus_cases()),
                         bus_case_name);

}  // namespace
}  // namespace todo::bus

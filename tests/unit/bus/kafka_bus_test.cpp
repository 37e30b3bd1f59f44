// What only the Kafka bus has, against librdkafka's mock cluster (a real Kafka protocol peer, run
// as a process by tests/support/kafka_mock_broker): the relay's guarantees — every row shipped
// after its delivery report and in order without an idempotent producer, duplicates from a relay
// that died before marking dropped by event id, writes accepted while the broker is down — and
// its retention. The guarantees every bus gives are bus_conformance_test.cpp's, run on Kafka too.
// Not under ThreadSanitizer: see tests/unit/CMakeLists.txt (librdkafka's threads crash it).
#if !defined(TODO_NO_KAFKA_TESTS)
#include "bus/kafka_bus.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bus/open_bus.h"
#include "domain/time_format.h"
#include "kafka_mock_process.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"
#include "bus_test_support.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;
using store::testing::eventually;

class KafkaBusTest : public store::testing::BackendTest {
 protected:
  KafkaBusTest() {
    broker_.create_topic("orders", 2);
    broker_.create_topic("orders.dlq", 1);
    db_ = open_database();
    testing::create_effects_table(*db_);
  }
  ~KafkaBusTest() override { bus_.reset(); }

  BusBackend& bus(bool idempotence = true,
                  const std::map<std::string, int, std::less<>>& more_topics = {}) {
    bus_.reset();
    BusOptions options;
    options.kind = BusKind::kKafka;
    options.partitions = {{"orders", 2}, {"orders.dlq", 1}};
    options.partitions.insert(more_topics.begin(), more_topics.end());
    options.kafka.brokers = broker_.brokers();
    options.kafka.idempotence = idempotence;
    // The mock cluster waits a whole session for a member that left before it rebalances.
    options.kafka.session_timeout = 6000ms;
    options.retry.backoff = {10ms, 10ms};
    options.poll_interval = 100ms;
    bus_ = open_bus(*db_, clock_, random_, options);
    return *bus_;
  }

  std::string publish(int partition, const std::string& key = "k") {
    const std::string id = "ev-" + std::to_string(++published_);
    db_->write([&](Transaction& s) {
      store::OutboxRepository{}.append(
          s,
          {"orders", partition, key, id,
           R"({"id":")" + id + R"(","type":"t","source":"/test","specversion":"1.0"})"},
          clock_.now());
    });
    return id;
  }

  std::int64_t count(const std::string& sql) {
    return store::read_value(*db_, [&](Transaction& s) { return s.query_one(sql)->integer(0); });
  }
  std::int64_t effects() { return count("SELECT COUNT(*) FROM effects"); }
  std::int64_t distinct_effects() { return count("SELECT COUNT(DISTINCT event_id) FROM effects"); }
  std::int64_t unshipped() { return count("SELECT COUNT(*) FROM outbox WHERE shipped_at IS NULL"); }

  std::map<int, std::int64_t> committed(const std::string& group, const std::string& topic) {
    return testing::committed(*db_, group, topic);
  }

  // A handler that records what it saw and writes one effect row per event through tx.
  EventHandler recording(const std::string& group) { return recorder_.handler(group); }
  std::vector<Event> seen(const std::string& group) { return recorder_.seen(group); }

  testing::KafkaMockProcess broker_;
  domain::ManualClock clock_{domain::parse_rfc3339("2026-03-01T12:00:00Z").value()};
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<BusBackend> bus_;
  int published_ = 0;
  testing::Recorder recorder_;
};

// Oracle Streaming refuses idempotent producers: with --kafka-idempotence off the relay keeps one
// request in flight, and each partition still arrives whole and in the outbox's order.
TEST_P(KafkaBusTest, WithoutAnIdempotentProducerEachPartitionStillArrivesInOrder) {
  std::map<int, std::vector<std::string>> expected;
  auto& b = bus(false);
  b.subscribe({"orders", "g1", recording("g1")});
  b.start();
  for (int i = 0; i < 40; ++i)
    expected[i % 2].push_back(publish(i % 2, "k" + std::to_string(i % 2)));
  ASSERT_TRUE(eventually([&] { return distinct_effects() == 40 && unshipped() == 0; }));
  std::map<int, std::vector<std::string>> got;
  for (const auto& e : seen("g1")) got[e.partition].push_back(e.id);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(effects(), 40);
}

// A relay that died after the broker took its rows but before it marked them shipped sends them
// again; the group consumes the duplicates (its offset moves on) without a second effect.
TEST_P(KafkaBusTest, RowsSentAgainAfterARelayCrashHaveNoSecondEffect) {
  for (int i = 0; i < 5; ++i) publish(1);
  {
    auto& b = bus();
    b.subscribe({"orders", "g1", recording("g1")});
    b.start();
    ASSERT_TRUE(eventually([&] { return effects() == 5 && unshipped() == 0; }));
    b.stop();
  }
  db_->write([](Transaction& s) { s.execute("UPDATE outbox SET shipped_at = NULL"); });
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  b.start();
  ASSERT_TRUE(eventually([&] { return committed("g1", "orders")[1] == 10; }));
  EXPECT_EQ(unshipped(), 0);
  EXPECT_EQ(effects(), 5);
}

TEST_P(KafkaBusTest, WritesAreAcceptedWhileTheBrokerIsDownAndTheBacklogDrainsAfter) {
  auto& b = bus();
  b.subscribe({"orders", "g1", recording("g1")});
  b.start();
  publish(0);
  ASSERT_TRUE(eventually([&] { return effects() == 1; }));
  broker_.down();
  for (int i = 0; i < 10; ++i) publish(i % 2);
  EXPECT_EQ(unshipped(), 10);  // nothing acknowledges them while the broker is down
  broker_.up();
  ASSERT_TRUE(eventually([&] { return effects() == 11; }));
  ASSERT_TRUE(eventually([&] { return unshipped() == 0; }));
  EXPECT_EQ(distinct_effects(), 11);
  EXPECT_TRUE(b.running());
}

// A partition Kafka lacks (the topic was made with fewer partitions than the outbox uses) is
// refused row after row; with more rows waiting there than a relay round used to read in all,
// the partitions sorted after it still ship, since a round reads so many rows of each partition.
TEST_P(KafkaBusTest, APartitionTheBrokerRefusesHoldsBackNoOtherPartition) {
  broker_.create_topic("archive", 1);
  constexpr int kRefused = 10001;
  db_->write([&](Transaction& s) {
    for (int i = 0; i < kRefused; ++i) {
      const std::string id = "archived-" + std::to_string(i);
      store::OutboxRepository{}.append(
          s, {"archive", 1, "k", id, R"({"id":")" + id + R"(","type":"t"})"}, clock_.now());
    }
  });
  publish(0);
  publish(1);
  auto& b = bus(true, {{"archive", 2}});
  b.subscribe({"orders", "g1", recording("g1")});
  b.start();
  ASSERT_TRUE(eventually([&] { return effects() == 2; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE topic = 'orders' AND shipped_at IS NULL"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE topic = 'archive' AND shipped_at IS NULL"),
            kRefused);
}

TEST_P(KafkaBusTest, PurgeDeletesOnlyShippedRowsOlderThanTheRetention) {
  auto& b = bus();
  b.start();
  publish(0);
  ASSERT_TRUE(eventually([&] { return unshipped() == 0; }));
  b.stop();
  publish(1);  // not shipped: stays whatever its age
  clock_.advance(48h);
  EXPECT_EQ(b.purge(24h), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), 1);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(KafkaBusTest);

}  // namespace
}  // namespace todo::bus

#endif  // !defined(TODO_NO_KAFKA_TESTS)

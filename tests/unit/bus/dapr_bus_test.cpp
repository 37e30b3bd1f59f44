// The Dapr bus without a sidecar: the pieces of Dapr's contract (publish URL and body, the pushed
// CloudEvent, the subscriber's answers), the deliveries through the consumer runtime against a
// real SQLite file, and the relay against a fake publisher.
#include "bus/dapr_bus.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/dapr_relay.h"
#include "domain/time_format.h"
#include "store/consumer_repository.h"
#include "store/open_database.h"
#include "store/outbox.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;

std::string cloud_event(const std::string& id, const std::string& extra = "") {
  return R"({"specversion":"1.0","id":")" + id +
         R"(","type":"com.todo.task.created","source":"/todo","data":{"n":1})" + extra + "}";
}

TEST(DaprContract, StatusOfEachOutcome) {
  EXPECT_EQ(dapr_status_of(PushedOutcome::kHandled), DaprStatus::kSuccess);
  EXPECT_EQ(dapr_status_of(PushedOutcome::kDuplicate), DaprStatus::kSuccess);
  EXPECT_EQ(dapr_status_of(PushedOutcome::kFailed), DaprStatus::kRetry);
  EXPECT_EQ(dapr_status_of(PushedOutcome::kUnavailable), DaprStatus::kRetry);
  EXPECT_EQ(dapr_status_of(PushedOutcome::kDeadLettered), DaprStatus::kDrop);
  EXPECT_EQ(dapr_status_body(DaprStatus::kSuccess), R"({"status":"SUCCESS"})");
  EXPECT_EQ(dapr_status_body(DaprStatus::kRetry), R"({"status":"RETRY"})");
  EXPECT_EQ(dapr_status_body(DaprStatus::kDrop), R"({"status":"DROP"})");
}

TEST(DaprContract, SeveralGroupsAnswerTheMostUrgent) {
  EXPECT_EQ(combine(DaprStatus::kSuccess, DaprStatus::kSuccess), DaprStatus::kSuccess);
  EXPECT_EQ(combine(DaprStatus::kSuccess, DaprStatus::kDrop), DaprStatus::kDrop);
  EXPECT_EQ(combine(DaprStatus::kDrop, DaprStatus::kRetry), DaprStatus::kRetry);
  EXPECT_EQ(combine(DaprStatus::kRetry, DaprStatus::kSuccess), DaprStatus::kRetry);
}

TEST(DaprContract, PublishUrlCarriesThePartitionKey) {
  DaprSettings s;
  s.http_port = 3601;
  EXPECT_EQ(
      dapr_publish_url(s, "task-events", "0190-ab"),
      "http://127.0.0.1:3601/v1.0/publish/todo-pubsub/task-events?metadata.partitionKey=0190-ab");
  EXPECT_EQ(
      dapr_publish_url(s, "reminders", "a b/c"),
      "http://127.0.0.1:3601/v1.0/publish/todo-pubsub/reminders?metadata.partitionKey=a%20b%2Fc");
  EXPECT_EQ(dapr_publish_url(s, "reminders", ""),
            "http://127.0.0.1:3601/v1.0/publish/todo-pubsub/reminders");
}

TEST(DaprContract, ComponentNames) {
  EXPECT_EQ(dapr_component_name_problem("todo-pubsub"), std::nullopt);
  EXPECT_TRUE(dapr_component_name_problem(""));
  EXPECT_TRUE(dapr_component_name_problem("Todo"));
  EXPECT_TRUE(dapr_component_name_problem("todo-"));
  EXPECT_TRUE(dapr_component_name_problem(std::string(64, 'a')));
}

TEST(DaprContract, APublishedEventComesBackAsTheOutboxHadIt) {
  const auto original = cloud_event("e1");
  const auto body = dapr_publish_body(original, 2, 41, "task-7");
  // What the sidecar adds on delivery (Dapr's envelope) is removed as well as our attributes.
  auto delivered = boost::json::parse(body).as_object();
  delivered["topic"] = "task-events";
  delivered["pubsubname"] = "todo-pubsub";
  delivered["traceparent"] = "00-abc-def-01";
  const auto parsed = parse_pushed_cloud_event(boost::json::serialize(delivered));
  const auto* event = std::get_if<PushedCloudEvent>(&parsed);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->id, "e1");
  EXPECT_EQ(event->partition, 2);
  EXPECT_EQ(event->offset, 41);
  EXPECT_EQ(event->key, "task-7");
  EXPECT_EQ(boost::json::parse(event->payload), boost::json::parse(original));
  // A payload that is not an object is published unchanged (its consumers dead-letter it).
  EXPECT_EQ(dapr_publish_body("[1]", 0, 0, "k"), "[1]");
}

TEST(DaprContract, AMalformedCloudEventNamesTheField) {
  auto field_of = [](std::string_view body) {
    const auto parsed = parse_pushed_cloud_event(body);
    const auto* error = std::get_if<PushedCloudEventError>(&parsed);
    return error ? error->field : std::string("(accepted)");
  };
  EXPECT_EQ(field_of("{not json"), "body");
  EXPECT_EQ(field_of("[]"), "body");
  EXPECT_EQ(field_of(R"({"id":"x","type":"t","source":"s"})"), "specversion");
  EXPECT_EQ(field_of(R"({"specversion":"0.3","id":"x","type":"t","source":"s"})"), "specversion");
  EXPECT_EQ(field_of(R"({"specversion":"1.0","id":"","type":"t","source":"s"})"), "id");
  EXPECT_EQ(field_of(R"({"specversion":"1.0","id":7,"type":"t","source":"s"})"), "id");
  EXPECT_EQ(field_of(R"({"specversion":"1.0","id":"x","source":"s"})"), "type");
  EXPECT_EQ(field_of(R"({"specversion":"1.0","id":"x","type":"t"})"), "source");
  EXPECT_EQ(field_of(cloud_event("x", R"(,"todooffset":-1)")), "todooffset");
  EXPECT_EQ(field_of(cloud_event("x", R"(,"todopartition":"1")")), "todopartition");
  EXPECT_EQ(field_of(cloud_event("x")), "(accepted)");
}

class DaprBusTest : public ::testing::Test {
 protected:
  DaprBusTest() {
    store::DatabaseOptions options;
    options.path = dir_.path() / "todo.db";
    db_ = store::open_database(options);
  }

  std::unique_ptr<DaprBus> open(DaprPublisher publisher = {}) {
    DaprBusOptions options;
    options.partitions = {{"orders", 2}, {"orders.dlq", 1}};
    options.retry.backoff = {1ms, 1ms};  // three attempts
    options.relay = static_cast<bool>(publisher);
    options.publisher = std::move(publisher);
    options.poll_interval = 20ms;
    return std::make_unique<DaprBus>(*db_, clock_, random_, std::move(options));
  }

  void publish(const std::string& id, int partition) {
    db_->write([&](Transaction& s) {
      store::OutboxRepository{}.append(s, {"orders", partition, "k" + id, id, cloud_event(id)},
                                       clock_.now());
    });
  }

  std::vector<store::LoggedMessage> dead_letter_messages() {
    return store::read_value(*db_, [](Transaction& s) {
      return store::OutboxRepository{}.read(s, "orders.dlq", 0, 0, 100);
    });
  }

  store::testing::TempDir dir_;
  domain::ManualClock clock_{domain::parse_rfc3339("2026-03-01T12:00:00Z").value()};
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(DaprBusTest, ARedeliveredEventIsAppliedOnce) {
  auto bus = open();
  int runs = 0;
  bus->subscribe({"orders", "g1", [&](const Event& e, Transaction&) {
                    ++runs;
                    EXPECT_EQ(e.offset, 5);
                    EXPECT_EQ(e.partition, 1);
                    EXPECT_EQ(e.key, "key-5");
                  }});
  bus->start();
  const auto body = dapr_publish_body(cloud_event("e1"), 1, 5, "key-5");
  for (int i = 0; i < 3; ++i) {
    const auto answer = bus->deliver("orders", body);
    EXPECT_EQ(answer.kind, PushAnswer::Kind::kStatus);
    EXPECT_EQ(answer.status, DaprStatus::kSuccess);
  }
  EXPECT_EQ(runs, 1);
  const auto stats = bus->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].handled, 3);
}

TEST_F(DaprBusTest, AFailingEventIsRetriedThenDeadLetteredAndDropped) {
  auto bus = open();
  int runs = 0;
  bus->subscribe({"orders", "g1", [&](const Event&, Transaction&) {
                    ++runs;
                    throw std::runtime_error("boom");
                  }});
  bus->start();
  const auto body = dapr_publish_body(cloud_event("bad"), 0, 3, "k");
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kRetry);
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kRetry);
  EXPECT_TRUE(dead_letter_messages().empty());
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kDrop);  // the third and last
  EXPECT_EQ(runs, 3);
  const auto letters = dead_letter_messages();
  ASSERT_EQ(letters.size(), 1u);
  const auto letter = boost::json::parse(letters[0].payload).as_object();
  EXPECT_EQ(letter.at("event_id"), "bad");
  EXPECT_EQ(letter.at("attempts"), 3);
  EXPECT_EQ(letter.at("offset"), 3);
  EXPECT_EQ(letter.at("error"), "boom");
  // Pushed again (another group of the process asked RETRY): not dead-lettered twice.
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kDrop);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(dead_letter_messages().size(), 1u);
}

TEST_F(DaprBusTest, APermanentFailureIsDroppedAtOnce) {
  auto bus = open();
  bus->subscribe({"orders", "g1",
                  [](const Event&, Transaction&) { throw PermanentFailure("cannot be parsed"); }});
  bus->start();
  EXPECT_EQ(bus->deliver("orders", cloud_event("p1")).status, DaprStatus::kDrop);
  // Not published by our relay: a negative offset from the event id keeps the dead letters' keys
  // unique (the clock does not move here).
  EXPECT_EQ(bus->deliver("orders", cloud_event("p2")).status, DaprStatus::kDrop);
  const auto letters = dead_letter_messages();
  ASSERT_EQ(letters.size(), 2u);
  const auto first = boost::json::parse(letters[0].payload).at("offset").as_int64();
  const auto second = boost::json::parse(letters[1].payload).at("offset").as_int64();
  EXPECT_LT(first, 0);
  EXPECT_LT(second, 0);
  EXPECT_NE(first, second);
}

TEST_F(DaprBusTest, ADeadLetterStandsWhenTheEventComesAgainAfterARestart) {
  auto failing = [](const Event&, Transaction&) { throw std::runtime_error("still broken"); };
  const auto body = dapr_publish_body(cloud_event("bad"), 0, 3, "k");
  {
    auto bus = open();
    bus->subscribe({"orders", "g1", failing});
    bus->start();
    for (int i = 0; i < 3; ++i) bus->deliver("orders", body);
  }
  ASSERT_EQ(dead_letter_messages().size(), 1u);
  // A new process counts from zero, fails three times again, and answers DROP on the last: the
  // first dead letter stands, none is added.
  auto bus = open();
  bus->subscribe({"orders", "g1", failing});
  bus->start();
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kRetry);
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kRetry);
  EXPECT_EQ(bus->deliver("orders", body).status, DaprStatus::kDrop);
  EXPECT_EQ(dead_letter_messages().size(), 1u);
}

TEST_F(DaprBusTest, PastTheLastAttemptTheEventIsDeadLetteredWithoutRunningTheHandler) {
  // What the bus passes when each attempt failed with the transaction itself.
  const SteadyClock steady;
  RetryPolicy retry;
  retry.backoff = {1ms, 1ms};
  const RuntimeContext context{*db_, clock_, steady, random_, retry};
  const Subscription subscription{"orders", "g1", [](const Event&, Transaction&) { FAIL(); }};
  const Event event{"orders", 0, 9, "k", "broken-tx", cloud_event("broken-tx"), clock_.now()};
  const auto result = deliver_pushed(context, subscription, event, retry.max_attempts() + 1);
  EXPECT_EQ(result.outcome, PushedOutcome::kDeadLettered);
  const auto letters = dead_letter_messages();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(boost::json::parse(letters[0].payload).at("attempts"), 3);
}

TEST_F(DaprBusTest, TwoGroupsOfOneProcessShareTheRoute) {
  auto bus = open();
  int ok_runs = 0, flaky_runs = 0;
  bus->subscribe({"orders", "ok", [&](const Event&, Transaction&) { ++ok_runs; }});
  bus->subscribe({"orders", "flaky", [&](const Event&, Transaction&) {
                    if (++flaky_runs == 1) throw std::runtime_error("once");
                  }});
  bus->start();
  EXPECT_EQ(bus->deliver("orders", cloud_event("e")).status, DaprStatus::kRetry);
  EXPECT_EQ(bus->deliver("orders", cloud_event("e")).status, DaprStatus::kSuccess);
  EXPECT_EQ(ok_runs, 1);  // the redelivery was a duplicate for it
  EXPECT_EQ(flaky_runs, 2);
}

TEST_F(DaprBusTest, BadInputAndUnknownTopicsAreNotDeliveries) {
  auto bus = open();
  bus->subscribe({"orders", "g1", [](const Event&, Transaction&) { FAIL(); }});
  bus->start();
  const auto bad = bus->deliver("orders", R"({"specversion":"1.0"})");
  EXPECT_EQ(bad.kind, PushAnswer::Kind::kInvalid);
  EXPECT_EQ(bad.field, "id");
  EXPECT_EQ(bus->deliver("payments", cloud_event("x")).kind, PushAnswer::Kind::kUnknownTopic);
}

TEST_F(DaprBusTest, BeforeStartTheSidecarIsToldToRetry) {
  auto bus = open();
  bus->subscribe({"orders", "g1", [](const Event&, Transaction&) {}});
  EXPECT_EQ(bus->deliver("orders", cloud_event("x")).status, DaprStatus::kRetry);
}

TEST_F(DaprBusTest, SubscriptionsListEachTopicOncePerComponent) {
  auto bus = open();
  bus->subscribe({"orders", "a", [](const Event&, Transaction&) {}});
  bus->subscribe({"orders", "b", [](const Event&, Transaction&) {}});
  bus->subscribe_ephemeral({"orders", "live", [](const Event&) {}});
  const auto list = boost::json::parse(bus->subscriptions_json()).as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("pubsubname"), "todo-pubsub");
  EXPECT_EQ(list[0].at("topic"), "orders");
  EXPECT_EQ(list[0].at("route"), "/dapr/events/orders");
  EXPECT_EQ(list[1].at("pubsubname"), "todo-pubsub-fanout");
  EXPECT_EQ(list[1].at("route"), "/dapr/fanout/orders");
}

// The relay against a fake sidecar: 204 ships, anything else leaves the row (and the rest of its
// partition) for a later round, in offset order.
class FakeSidecar {
 public:
  DaprPublisher publisher() {
    return [this](const DaprPublishRequest& r) {
      std::lock_guard lock(mutex_);
      if (down_) return DaprPublishResult{0, "connection refused"};
      requests_.push_back(r);
      return DaprPublishResult{204, ""};
    };
  }
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  std::vector<DaprPublishRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  bool down_ = false;
  std::vector<DaprPublishRequest> requests_;
};

template <typename F>
bool eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST_F(DaprBusTest, TheRelayShipsInOrderAndWaitsOutASidecarOutage) {
  FakeSidecar sidecar;
  sidecar.set_down(true);
  auto bus = open(sidecar.publisher());
  bus->start();
  publish("a", 0);
  publish("b", 0);
  publish("c", 1);
  auto unshipped = [&] {
    return store::read_value(
               *db_, [](Transaction& s) { return store::OutboxRepository{}.unshipped(s, 100); })
        .size();
  };
  EXPECT_EQ(unshipped(), 3u);
  EXPECT_TRUE(sidecar.requests().empty());
  sidecar.set_down(false);
  ASSERT_TRUE(eventually([&] { return unshipped() == 0; }));
  const auto requests = sidecar.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_NE(requests[0].url.find("/v1.0/publish/todo-pubsub/orders?metadata.partitionKey=ka"),
            std::string::npos);
  EXPECT_NE(requests[1].url.find("partitionKey=kb"), std::string::npos);
  EXPECT_NE(requests[2].url.find("partitionKey=kc"), std::string::npos);
  ASSERT_FALSE(requests[0].headers.empty());
  EXPECT_EQ(requests[0].headers[0].first, "Content-Type");
  EXPECT_EQ(requests[0].headers[0].second, "application/cloudevents+json");
  const auto body = boost::json::parse(requests[1].body).as_object();
  EXPECT_EQ(body.at("id"), "b");
  EXPECT_EQ(body.at("todooffset"), 1);
}

}  // namespace
}  // namespace todo::bus

// The bus factory: what it opens delivers committed events to its subscribers, reports them in
// its metrics, purges what every group consumed, and unhooks itself from the database on the way
// out.
#include "bus/open_bus.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "domain/time_format.h"
#include "store/open_database.h"
#include "store/outbox.h"
#include "store/store_test_support.h"
#include "support/seeded_random.h"

namespace todo::bus {
namespace {

using namespace std::chrono_literals;
using store::Transaction;

class OpenBusTest : public ::testing::Test {
 protected:
  OpenBusTest() {
    store::DatabaseOptions options;
    options.path = dir_.path() / "todo.db";
    db_ = store::open_database(options);
  }

  std::unique_ptr<BusBackend> open() {
    BusOptions options;
    options.partitions = {{"orders", 2}};
    return open_bus(*db_, clock_, random_, options);
  }

  void publish(const std::string& id, int partition) {
    db_->write([&](Transaction& s) {
      store::OutboxRepository{}.append(s, {"orders", partition, "k", id, R"({"id":")" + id + "\"}"},
                                       clock_.now());
    });
  }

  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  store::testing::TempDir dir_;
  domain::ManualClock clock_{domain::parse_rfc3339("2026-03-01T12:00:00Z").value()};
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> db_;
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

TEST_F(OpenBusTest, TheLogBusDeliversCommittedEventsAndReportsThem) {
  auto bus = open();
  bus->subscribe({"orders", "g1", [this](const Event& e, Transaction&) {
                    std::lock_guard lock(mutex_);
                    seen_.push_back(e.id);
                  }});
  bus->start();
  EXPECT_TRUE(bus->running());
  publish("e1", 0);
  publish("e2", 1);
  ASSERT_TRUE(store::testing::eventually([&] { return seen().size() == 2; }));
  const auto text = bus->prometheus_text();
  EXPECT_NE(text.find("g1"), std::string::npos) << text;
  EXPECT_NE(text.find("orders"), std::string::npos) << text;
  bus->stop();
  EXPECT_FALSE(bus->running());
}

TEST_F(OpenBusTest, PurgeDeletesWhatEveryGroupConsumed) {
  auto bus = open();
  bus->subscribe({"orders", "g1", [this](const Event& e, Transaction&) {
                    std::lock_guard lock(mutex_);
                    seen_.push_back(e.id);
                  }});
  publish("e1", 0);
  bus->start();
  ASSERT_TRUE(store::testing::eventually([&] { return seen().size() == 1; }));
  // The offset is committed with the handler's transaction; stats show it once it is.
  ASSERT_TRUE(store::testing::eventually([&] {
    for (const auto& s : bus->stats()) {
      if (s.partition == 0 && s.committed == 1) return true;
    }
    return false;
  }));
  clock_.advance(std::chrono::hours(48));
  EXPECT_EQ(bus->purge(std::chrono::hours(24)), 1);
}

TEST_F(OpenBusTest, ADestroyedBusIsNoLongerCalledOnCommit) {
  open().reset();
  // The log bus hooked itself to the database's commits; a commit after it is gone must not reach
  // it (under AddressSanitizer a dangling hook is a use after free).
  publish("after", 0);
  EXPECT_EQ(store::read_value(*db_,
                              [](Transaction& s) {
                                return s.query_one("SELECT COUNT(*) FROM outbox")->integer(0);
                              }),
            1);
}

}  // namespace
}  // namespace todo::bus

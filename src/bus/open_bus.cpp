#include "bus/open_bus.h"

#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "bus/log_bus.h"

namespace todo::bus {
namespace {

// Wakes the log bus on every commit of its database. The database calls its listener on the writer
// thread outside any lock, and a call may still be running after set_commit_listener({}) returned;
// so the listener holds this small state (shared) instead of the bus, and the bus detaches itself
// under its mutex before it goes away. Found by ThreadSanitizer (OpenBusTest).
struct CommitWaker {
  std::mutex mutex;
  LogBus* bus = nullptr;
};

class OutboxLogBus final : public BusBackend {
 public:
  OutboxLogBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
               LogBusOptions options)
      : db_(db),
        bus_(db, clock, random, std::move(options)),
        waker_(std::make_shared<CommitWaker>()) {
    waker_->bus = &bus_;
    db_.set_commit_listener([waker = waker_] {
      std::lock_guard lock(waker->mutex);
      if (waker->bus != nullptr) waker->bus->notify();
    });
  }
  ~OutboxLogBus() override {
    // Consumers finish their handler and commit before anything they call goes away.
    bus_.stop();
    {
      std::lock_guard lock(waker_->mutex);
      waker_->bus = nullptr;
    }
    db_.set_commit_listener({});
  }
  OutboxLogBus(const OutboxLogBus&) = delete;
  OutboxLogBus& operator=(const OutboxLogBus&) = delete;

  void subscribe(Subscription subscription) override { bus_.subscribe(std::move(subscription)); }
  void start() override { bus_.start(); }
  void stop() override { bus_.stop(); }
  std::vector<PartitionStats> stats() const override { return bus_.stats(); }
  bool running() const override { return bus_.running(); }
  std::string prometheus_text() const override { return bus::prometheus_text(bus_.stats()); }
  std::int64_t purge(std::chrono::microseconds max_age) override { return bus_.purge(max_age); }

 private:
  store::Database& db_;
  LogBus bus_;
  std::shared_ptr<CommitWaker> waker_;
};

}  // namespace

std::unique_ptr<BusBackend> open_bus(store::Database& db, const domain::Clock& clock,
                                     domain::RandomSource& random, const BusOptions& options) {
  switch (options.kind) {
    case BusKind::kLog: {
      LogBusOptions log_options;
      log_options.partitions = options.partitions;
      return std::make_unique<OutboxLogBus>(db, clock, random, std::move(log_options));
    }
  }
  throw std::logic_error("unknown bus kind");
}

}  // namespace todo::bus

// The log bus: fetch from the outbox per partition, deliver through the consumer runtime, sleep
// until a commit wakes it, a retry is due, or the safety-net poll interval passes.
#include "bus/log_bus.h"

#include "bus/consumer_runtime.h"
#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace todo::bus {

struct LogBus::Consumer {
  explicit Consumer(Subscription s, int partition_count)
      : subscription(std::move(s)), partitions(partition_count) {}

  Subscription subscription;
  const int partitions;
  std::vector<std::unique_ptr<PartitionConsumer>> consumers;  // empty until the first poll
  std::vector<PartitionStats> published;                      // guarded by LogBus::mutex_
};

LogBus::LogBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
               LogBusOptions options)
    : db_(db), clock_(clock), random_(random), options_(std::move(options)) {
  if (options_.batch_size < 1) throw std::invalid_argument("LogBus: batch_size must be >= 1");
}

LogBus::~LogBus() { stop(); }

void LogBus::subscribe(Subscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("LogBus: subscribe after start");
  auto found = options_.partitions.find(subscription.topic);
  if (found == options_.partitions.end() || found->second < 1) {
    throw std::invalid_argument("LogBus: unknown topic " + subscription.topic);
  }
  for (const auto& c : consumers_) {
    if (c->subscription.topic == subscription.topic && c->subscription.group == subscription.group) {
      throw std::invalid_argument("LogBus: group " + subscription.group + " already consumes " +
                                  subscription.topic);
    }
  }
  consumers_.push_back(std::make_unique<Consumer>(std::move(subscription), found->second));
}

void LogBus::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  for (auto& c : consumers_) {
    Consumer* consumer = c.get();
    threads_.emplace_back([this, consumer] { run(*consumer); });
  }
}

void LogBus::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void LogBus::notify() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wake_.notify_all();
}

int LogBus::poll_once() {
  int consumed = 0;
  for (auto& c : consumers_) consumed += poll(*c, /*check_replays=*/true);
  return consumed;
}

int LogBus::poll(Consumer& c, bool check_replays) {
  const auto& topic = c.subscription.topic;
  if (c.consumers.empty()) {
    auto committed = store::read_value(db_, [&](store::Transaction& s) {
      return store::ConsumerOffsetRepository{}.committed(s, c.subscription.group, topic);
    });
    for (int p = 0; p < c.partitions; ++p) {
      const auto found = committed.find(p);
      c.consumers.push_back(std::make_unique<PartitionConsumer>(
          db_, clock_, random_, c.subscription, p, found == committed.end() ? 0 : found->second));
    }
  }

  int consumed = check_replays ? replay_dead_letters(db_, clock_, c.subscription) : 0;

  const auto now = clock_.now();
  std::vector<std::vector<Event>> batches(static_cast<std::size_t>(c.partitions));
  std::map<int, std::int64_t> heads;
  db_.read([&](store::Transaction& s) {
    const store::OutboxRepository outbox;
    heads = outbox.heads(s, topic);
    for (auto& pc : c.consumers) {
      const auto head = heads.find(pc->partition());
      if (head == heads.end() || head->second <= pc->next_offset() || !pc->ready(now)) continue;
      auto& batch = batches[static_cast<std::size_t>(pc->partition())];
      for (auto& m : outbox.read(s, topic, pc->partition(), pc->next_offset(), options_.batch_size)) {
        batch.push_back(Event{std::move(m.topic), m.partition, m.offset, std::move(m.key),
                              std::move(m.event_id), std::move(m.payload), m.created_at});
      }
    }
  });
  publish_stats(c, heads);  // the lag as fetched, before this batch is delivered
  for (auto& pc : c.consumers) {
    consumed += pc->deliver(batches[static_cast<std::size_t>(pc->partition())]);
  }
  publish_stats(c, heads);
  return consumed;
}

void LogBus::publish_stats(Consumer& c, const std::map<int, std::int64_t>& heads) {
  std::vector<PartitionStats> published;
  for (const auto& pc : c.consumers) {
    const auto counters = pc->counters();
    const auto head = heads.find(pc->partition());
    published.push_back(PartitionStats{c.subscription.group, c.subscription.topic,
                                       pc->partition(), pc->next_offset(),
                                       head == heads.end() ? 0 : head->second, counters.handled,
                                       counters.retried, counters.dead_lettered});
  }
  std::lock_guard lock(mutex_);
  c.published = std::move(published);
}

std::chrono::microseconds LogBus::time_to_next_retry(const Consumer& c) const {
  std::chrono::microseconds shortest = std::chrono::microseconds::max();
  const auto now = clock_.now();
  for (const auto& pc : c.consumers) {
    if (auto at = pc->retry_at()) {
      shortest = std::min(shortest, std::max(std::chrono::microseconds(0),
                                             std::chrono::duration_cast<std::chrono::microseconds>(*at - now)));
    }
  }
  return shortest;
}

void LogBus::run(Consumer& c) {
  log::info("consumer started", {{"group", c.subscription.group}, {"topic", c.subscription.topic}});
  // Replay requests come from another process (todo dlq replay), which no commit here announces:
  // they are looked for once per safety-net interval (steady time: this only paces the thread).
  auto next_replay_check = std::chrono::steady_clock::now();
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      seen = generation_;
    }
    int consumed = 0;
    const auto now = std::chrono::steady_clock::now();
    const bool check_replays = now >= next_replay_check;
    if (check_replays) next_replay_check = now + options_.poll_interval;
    try {
      consumed = poll(c, check_replays);
    } catch (const std::exception& e) {
      log::error("consumer poll failed; trying again after the poll interval",
                 {{"group", c.subscription.group}, {"topic", c.subscription.topic},
                  {"error", e.what()}});
    }
    if (consumed > 0) continue;  // there may be more right away
    const auto timeout = std::min<std::chrono::microseconds>(options_.poll_interval,
                                                             time_to_next_retry(c));
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, timeout, [&] { return stopping_ || generation_ != seen; });
  }
  log::info("consumer stopped", {{"group", c.subscription.group}, {"topic", c.subscription.topic}});
}

bool LogBus::running() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopping_;
}

std::vector<PartitionStats> LogBus::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<PartitionStats> out;
  for (const auto& c : consumers_) out.insert(out.end(), c->published.begin(), c->published.end());
  return out;
}

std::int64_t LogBus::purge(std::chrono::microseconds max_age) {
  const auto now = clock_.now();
  const auto cutoff = now - max_age;
  // What this process's consumers have not yet committed must stay, even before their first commit.
  std::map<std::pair<std::string, int>, std::int64_t> local;
  {
    std::lock_guard lock(mutex_);
    for (const auto& c : consumers_) {
      for (int p = 0; p < c->partitions; ++p) {
        std::int64_t committed = 0;  // not polled yet: keep everything
        for (const auto& s : c->published) {
          if (s.partition == p) committed = s.committed;
        }
        auto [slot, inserted] = local.try_emplace({c->subscription.topic, p}, committed);
        if (!inserted) slot->second = std::min(slot->second, committed);
      }
    }
  }
  std::int64_t deleted = 0;
  db_.write([&](store::Transaction& s) {
    deleted = 0;
    const store::OutboxRepository outbox;
    const store::ConsumerOffsetRepository offsets;
    for (const auto& [topic, partition] : outbox.partitions(s)) {
      std::int64_t below = std::numeric_limits<std::int64_t>::max();
      if (auto slowest = offsets.slowest(s, topic, partition)) below = *slowest;
      if (auto found = local.find({topic, partition}); found != local.end()) {
        below = std::min(below, found->second);
      }
      deleted += outbox.purge(s, topic, partition, below, cutoff);
    }
    store::ProcessedEventRepository{}.purge(s, cutoff);
  });
  if (deleted > 0) log::info("event log retention", {{"deleted", deleted}});
  return deleted;
}

std::string prometheus_text(const std::vector<PartitionStats>& stats) {
  std::ostringstream out;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    for (const auto& s : stats) {
      out << name << "{group=\"" << s.group << "\",topic=\"" << s.topic << "\",partition=\""
          << s.partition << "\"} " << value(s) << '\n';
    }
  };
  family("todo_bus_consumer_lag", "gauge", "Events published but not yet consumed by the group.",
         [](const PartitionStats& s) { return s.lag(); });
  family("todo_bus_committed_offset", "gauge", "The next offset the group reads.",
         [](const PartitionStats& s) { return s.committed; });
  family("todo_bus_events_handled_total", "counter", "Events handled successfully since start.",
         [](const PartitionStats& s) { return s.handled; });
  family("todo_bus_events_retried_total", "counter", "Failed attempts followed by a retry.",
         [](const PartitionStats& s) { return s.retried; });
  family("todo_bus_events_dead_lettered_total", "counter",
         "Events moved to <topic>.dlq after their last retry.",
         [](const PartitionStats& s) { return s.dead_lettered; });
  return out.str();
}

}  // namespace todo::bus

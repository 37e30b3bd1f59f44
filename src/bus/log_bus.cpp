// The log bus: fetch from the outbox per partition, deliver through the consumer runtime (durable)
// or straight to the handler (ephemeral), sleep until a commit wakes it, a retry is due, or the
// safety-net poll interval passes.
#include "bus/log_bus.h"

#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "bus/consumer_runtime.h"
#include "domain/ids.h"
#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"

namespace todo::bus {
namespace {

const SteadyClock kSteadyClock;

}  // namespace

// What wakes one consumer thread, each its own: a commit that appended to one of its partitions,
// notify(), stop(). Guarded by LogBus::mutex_.
struct LogBus::Wakeup {
  std::condition_variable cv;
  std::uint64_t count = 0;  // wake-ups so far: the thread waits for it to change

  void wake() {
    ++count;
    cv.notify_one();  // only its own thread waits on it
  }
};

struct LogBus::Consumer {
  explicit Consumer(Subscription s, int partition_count)
      : subscription(std::move(s)),
        partitions(partition_count),
        held(static_cast<std::size_t>(partition_count), true) {}

  Subscription subscription;
  const int partitions;
  // The partitions this process consumes, in order: every one from the first poll on, or, with
  // shared partitions, the ones it holds a lease on.
  std::vector<std::unique_ptr<PartitionConsumer>> consumers;
  std::optional<domain::Timestamp> next_balance;  // sharing: when to renew the leases next
  std::vector<PartitionStats> published;           // guarded by LogBus::mutex_
  // Guarded by LogBus::mutex_: per partition, whether an append to it wakes this thread — the
  // partitions in `consumers` once polled; every one before (it may be about to take any).
  std::vector<bool> held;
  Wakeup wakeup;  // guarded by LogBus::mutex_
};

struct LogBus::Fanout {
  explicit Fanout(EphemeralSubscription s, int partition_count)
      : subscription(std::move(s)), partitions(partition_count) {}

  EphemeralSubscription subscription;
  const int partitions;
  std::vector<std::int64_t> next;         // per partition; empty until placed at the head
  std::vector<PartitionStats> counters;   // handled and skipped per partition (its thread only)
  std::vector<PartitionStats> published;  // guarded by LogBus::mutex_
  Wakeup wakeup;                          // guarded by LogBus::mutex_
};

LogBus::LogBus(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
               LogBusOptions options)
    : LogBus(db, clock, kSteadyClock, random, std::move(options)) {}

LogBus::LogBus(store::Database& db, const domain::Clock& clock, const MonotonicClock& monotonic,
               domain::RandomSource& random, LogBusOptions options)
    : db_(db),
      clock_(clock),
      monotonic_(monotonic),
      random_(random),
      options_(std::move(options)),
      member_(options_.member.empty() ? domain::new_uuid_v7(clock.now(), random) : options_.member),
      context_{db_, clock_, monotonic_, random_, options_.retry, /*dedupe_rows=*/false} {
  if (options_.batch_size < 1) throw std::invalid_argument("LogBus: batch_size must be >= 1");
  if (options_.share_partitions && options_.lease_ttl < std::chrono::milliseconds(3)) {
    throw std::invalid_argument("LogBus: lease_ttl must be >= 3 ms");
  }
}

LogBus::~LogBus() { stop(); }

namespace {

int partitions_of(const LogBusOptions& options, const std::string& topic) {
  return bus::partitions_of(options.partitions, topic, "LogBus");
}

}  // namespace

void LogBus::subscribe(Subscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("LogBus: subscribe after start");
  const int partitions = partitions_of(options_, subscription.topic);
  const bool two_phase = subscription.prepare && subscription.apply;
  if (static_cast<bool>(subscription.handler) == two_phase ||
      (!two_phase && (subscription.prepare || subscription.apply))) {
    throw std::invalid_argument("LogBus: group " + subscription.group +
                                " needs either a handler or both prepare and apply");
  }
  for (const auto& c : consumers_) {
    if (c->subscription.topic == subscription.topic &&
        c->subscription.group == subscription.group) {
      throw std::invalid_argument("LogBus: group " + subscription.group + " already consumes " +
                                  subscription.topic);
    }
  }
  consumers_.push_back(std::make_unique<Consumer>(std::move(subscription), partitions));
}

void LogBus::subscribe_ephemeral(EphemeralSubscription subscription) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("LogBus: subscribe after start");
  const int partitions = partitions_of(options_, subscription.topic);
  fanouts_.push_back(std::make_unique<Fanout>(std::move(subscription), partitions));
}

void LogBus::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return;
  }
  // Before the threads: an event committed after start() returns reaches every fan-out.
  for (auto& f : fanouts_) {
    if (f->next.empty()) position(*f);
  }
  commit_listener_.emplace(db_, [this](const store::LogAppends& appends) { notify(appends); });
  std::lock_guard lock(mutex_);
  started_ = true;
  auto spawn = [this](auto* consumer) {
    threads_.emplace_back([this, consumer] {
      try {
        run(*consumer);
      } catch (...) {
        // Nothing is expected here (run() handles every std::exception): say so loudly, and
        // let running() report it so /ready takes the instance out of rotation.
        log::error("consumer thread stopped on an unexpected error; the bus is not ready");
        std::lock_guard failed(mutex_);
        ++failed_threads_;
      }
    });
  };
  for (auto& c : consumers_) spawn(c.get());
  for (auto& f : fanouts_) spawn(f.get());
}

void LogBus::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  commit_listener_.reset();  // waits for a notify() in progress; takes mutex_, so not held here
  {
    std::lock_guard lock(mutex_);
    for (auto& c : consumers_) c->wakeup.cv.notify_one();
    for (auto& f : fanouts_) f->wakeup.cv.notify_one();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (options_.share_partitions) {
    for (auto& c : consumers_) leave(*c);
  }
}

// A clean stop gives the leases back, so the other processes take the partitions over at their
// next round rather than after the leases expire.
void LogBus::leave(Consumer& c) {
  if (!c.next_balance) return;
  try {
    db_.write([&](store::Transaction& s) {
      store::PartitionLeaseRepository{}.leave(s, c.subscription.group, c.subscription.topic,
                                              member_);
    });
  } catch (const std::exception& e) {
    log::warn("could not give the partitions back; they are free when their leases expire",
              {{"group", c.subscription.group},
               {"topic", c.subscription.topic},
               {"error", e.what()}});
  }
  c.consumers.clear();
  c.next_balance.reset();
}

void LogBus::notify(const store::LogAppends& appends) {
  if (appends.empty()) return;
  std::lock_guard lock(mutex_);
  for (auto& c : consumers_) {
    const auto& topic = c->subscription.topic;
    const bool appended = appends.is_anything() ||
                          std::any_of(appends.partitions().begin(), appends.partitions().end(),
                                      [&](const store::LogAppends::Partition& p) {
                                        return p.topic == topic && p.partition >= 0 &&
                                               p.partition < c->partitions &&
                                               c->held[static_cast<std::size_t>(p.partition)];
                                      });
    if (appended) c->wakeup.wake();
  }
  for (auto& f : fanouts_) {
    if (appends.touches(f->subscription.topic)) f->wakeup.wake();
  }
}

void LogBus::notify() { notify(store::LogAppends::anything()); }

std::optional<std::uint64_t> LogBus::wake_ups(std::string_view group,
                                              std::string_view topic) const {
  std::lock_guard lock(mutex_);
  for (const auto& c : consumers_) {
    if (c->subscription.group == group && c->subscription.topic == topic) return c->wakeup.count;
  }
  for (const auto& f : fanouts_) {
    if (f->subscription.name == group && f->subscription.topic == topic) return f->wakeup.count;
  }
  return std::nullopt;
}

// Which partitions' appends wake the consumer from now on: the ones it consumes. Published before
// the poll reads the heads, so an append committed before this is read by that poll, and one
// committed after it wakes the thread.
void LogBus::publish_held(Consumer& c) {
  std::vector<bool> held(static_cast<std::size_t>(c.partitions), false);
  for (const auto& pc : c.consumers) held[static_cast<std::size_t>(pc->partition())] = true;
  std::lock_guard lock(mutex_);
  c.held = std::move(held);
}

int LogBus::poll_once() {
  int consumed = 0;
  for (auto& c : consumers_) consumed += poll(*c, /*check_replays=*/true);
  for (auto& f : fanouts_) consumed += poll(*f);
  return consumed;
}

// Where each of `partitions` stands when this process starts consuming it (the first poll, or a
// lease taken), and which events the process that consumed it before may have been handling when
// it stopped.
void LogBus::open_partitions(Consumer& c, const std::vector<int>& partitions) {
  if (partitions.empty()) return;
  const auto& topic = c.subscription.topic;
  std::map<int, std::int64_t> committed;
  std::map<int, store::DeliveryAttempts> attempts;
  std::map<int, std::int64_t> heads;
  db_.read([&](store::Transaction& s) {
    committed = store::ConsumerOffsetRepository{}.committed(s, c.subscription.group, topic);
    attempts = store::DeliveryAttemptRepository{}.of(s, c.subscription.group, topic);
    heads = store::OutboxRepository{}.heads(s, topic);
  });
  for (int p : partitions) {
    PartitionStart start;
    if (auto found = committed.find(p); found != committed.end()) start.committed = found->second;
    if (auto found = attempts.find(p); found != attempts.end()) start.attempts = found->second;
    const auto head = heads.find(p);
    start.in_flight_end = std::min(start.committed + options_.batch_size,
                                   head == heads.end() ? std::int64_t{0} : head->second);
    c.consumers.push_back(std::make_unique<PartitionConsumer>(context_, c.subscription, p, start));
  }
  std::sort(c.consumers.begin(), c.consumers.end(),
            [](const auto& a, const auto& b) { return a->partition() < b->partition(); });
}

// One round of the leases of a group, every third of their lifetime: this process says it is
// alive, renews what it holds up to its fair part (the partitions over the live members, rounded
// up), gives the rest back, and takes free or expired partitions up to that part. Partitions it
// no longer holds are dropped before anything else is delivered; the ones it took start from the
// offsets in the database.
void LogBus::balance(Consumer& c) {
  const auto now = clock_.now();
  if (c.next_balance && now < *c.next_balance) return;
  const auto ttl = std::chrono::duration_cast<std::chrono::microseconds>(options_.lease_ttl);
  const auto until = now + ttl;
  const auto& group = c.subscription.group;
  const auto& topic = c.subscription.topic;
  const auto count = static_cast<std::size_t>(c.partitions);
  std::vector<int> held;
  db_.write([&](store::Transaction& s) {
    held.clear();
    const store::PartitionLeaseRepository leases;
    leases.heartbeat(s, group, topic, member_, now, until);
    const int members = std::max(1, leases.live_members(s, group, topic, now));
    const auto fair = static_cast<std::size_t>((c.partitions + members - 1) / members);
    std::vector<bool> mine(count, false);
    std::vector<bool> taken(count, false);  // by another member whose lease runs
    for (const auto& lease : leases.leases(s, group, topic)) {
      if (lease.partition < 0 || lease.partition >= c.partitions) continue;
      const auto p = static_cast<std::size_t>(lease.partition);
      if (lease.holder == member_) {
        mine[p] = true;
      } else if (lease.expires_at > now) {
        taken[p] = true;
      }
    }
    for (int p = 0; p < c.partitions; ++p) {
      if (!mine[static_cast<std::size_t>(p)]) continue;
      if (held.size() < fair && leases.acquire(s, group, topic, p, member_, now, until)) {
        held.push_back(p);
      } else {
        leases.release(s, group, topic, p, member_);
      }
    }
    for (int p = 0; p < c.partitions && held.size() < fair; ++p) {
      const auto i = static_cast<std::size_t>(p);
      if (mine[i] || taken[i]) continue;
      if (leases.acquire(s, group, topic, p, member_, now, until)) held.push_back(p);
    }
  });
  std::sort(held.begin(), held.end());
  c.next_balance = now + ttl / 3;

  std::vector<int> before;
  for (const auto& pc : c.consumers) before.push_back(pc->partition());
  if (before == held) return;
  std::erase_if(c.consumers, [&](const auto& pc) {
    return !std::binary_search(held.begin(), held.end(), pc->partition());
  });
  std::vector<int> taken_now;
  std::set_difference(held.begin(), held.end(), before.begin(), before.end(),
                      std::back_inserter(taken_now));
  open_partitions(c, taken_now);
  std::string list;
  for (int p : held) list += (list.empty() ? "" : ",") + std::to_string(p);
  log::info("consumer partitions assigned",
            {{"group", group}, {"topic", topic}, {"member", member_}, {"partitions", list}});
}

int LogBus::poll(Consumer& c, bool check_replays) {
  const auto& topic = c.subscription.topic;
  if (options_.share_partitions) {
    balance(c);
    publish_held(c);
  } else if (c.consumers.empty()) {  // the first poll (a topic has at least one partition)
    std::vector<int> all(static_cast<std::size_t>(c.partitions));
    for (int p = 0; p < c.partitions; ++p) all[static_cast<std::size_t>(p)] = p;
    open_partitions(c, all);  // every partition, as `held` says from the start
  }

  int consumed = check_replays ? replay_dead_letters(db_, clock_, c.subscription) : 0;

  const auto now = monotonic_.now();
  std::vector<std::vector<Event>> batches(static_cast<std::size_t>(c.partitions));
  std::map<int, std::int64_t> heads;
  db_.read([&](store::Transaction& s) {
    const store::OutboxRepository outbox;
    heads = outbox.heads(s, topic);
    for (auto& pc : c.consumers) {
      const auto head = heads.find(pc->partition());
      if (head == heads.end() || head->second <= pc->next_offset() || !pc->ready(now)) continue;
      auto& batch = batches[static_cast<std::size_t>(pc->partition())];
      for (auto& m :
           outbox.read(s, topic, pc->partition(), pc->next_offset(), options_.batch_size)) {
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

void LogBus::position(Fanout& f) {
  const auto heads = store::read_value(db_, [&](store::Transaction& s) {
    return store::OutboxRepository{}.heads(s, f.subscription.topic);
  });
  f.next.assign(static_cast<std::size_t>(f.partitions), 0);
  f.counters.assign(static_cast<std::size_t>(f.partitions), PartitionStats{});
  for (int p = 0; p < f.partitions; ++p) {
    if (auto head = heads.find(p); head != heads.end())
      f.next[static_cast<std::size_t>(p)] = head->second;
  }
}

// Reads in a read transaction, then calls the handler with no transaction open: a slow handler
// holds neither the writer nor a reader connection.
int LogBus::poll(Fanout& f) {
  const auto& topic = f.subscription.topic;
  if (f.next.empty()) position(f);
  std::vector<Event> events;
  std::map<int, std::int64_t> heads;
  db_.read([&](store::Transaction& s) {
    const store::OutboxRepository outbox;
    heads = outbox.heads(s, topic);
    for (int p = 0; p < f.partitions; ++p) {
      const auto head = heads.find(p);
      if (head == heads.end() || head->second <= f.next[static_cast<std::size_t>(p)]) continue;
      for (auto& m :
           outbox.read(s, topic, p, f.next[static_cast<std::size_t>(p)], options_.batch_size)) {
        events.push_back(Event{std::move(m.topic), m.partition, m.offset, std::move(m.key),
                               std::move(m.event_id), std::move(m.payload), m.created_at});
      }
    }
  });
  for (const Event& event : events) {
    auto& next = f.next[static_cast<std::size_t>(event.partition)];
    auto& counters = f.counters[static_cast<std::size_t>(event.partition)];
    if (event.offset > next) {
      log::warn("events left the log before an ephemeral subscription read them",
                {{"subscription", f.subscription.name},
                 {"topic", topic},
                 {"partition", event.partition},
                 {"missed", event.offset - next}});
    }
    next = event.offset + 1;
    try {
      f.subscription.handler(event);
      ++counters.handled;
    } catch (const std::exception& e) {
      ++counters.skipped;
      log::warn("ephemeral handler failed; event skipped", {{"subscription", f.subscription.name},
                                                            {"topic", topic},
                                                            {"partition", event.partition},
                                                            {"offset", event.offset},
                                                            {"event_id", event.id},
                                                            {"error", e.what()}});
    }
  }
  // Everything below the head was purged: nothing to read, move to the head.
  for (const auto& [p, head] : heads) {
    if (p < 0 || p >= f.partitions) continue;
    auto& next = f.next[static_cast<std::size_t>(p)];
    const bool read_any = std::any_of(events.begin(), events.end(),
                                      [p = p](const Event& e) { return e.partition == p; });
    if (!read_any && head > next) {
      log::warn("events left the log before an ephemeral subscription read them",
                {{"subscription", f.subscription.name},
                 {"topic", topic},
                 {"partition", p},
                 {"missed", head - next}});
      next = head;
    }
  }
  publish_stats(f, heads);
  return static_cast<int>(events.size());
}

void LogBus::publish_stats(Consumer& c, const std::map<int, std::int64_t>& heads) {
  std::vector<PartitionStats> published;
  for (const auto& pc : c.consumers) {
    const auto counters = pc->counters();
    const auto head = heads.find(pc->partition());
    published.push_back(PartitionStats{c.subscription.group, c.subscription.topic, pc->partition(),
                                       pc->next_offset(), head == heads.end() ? 0 : head->second,
                                       counters.handled, counters.retried, counters.dead_lettered});
  }
  std::lock_guard lock(mutex_);
  c.published = std::move(published);
}

void LogBus::publish_stats(Fanout& f, const std::map<int, std::int64_t>& heads) {
  std::vector<PartitionStats> published;
  for (int p = 0; p < f.partitions; ++p) {
    auto s = f.counters[static_cast<std::size_t>(p)];
    s.group = f.subscription.name;
    s.topic = f.subscription.topic;
    s.partition = p;
    s.committed = f.next[static_cast<std::size_t>(p)];
    const auto head = heads.find(p);
    s.end = head == heads.end() ? 0 : head->second;
    published.push_back(std::move(s));
  }
  std::lock_guard lock(mutex_);
  f.published = std::move(published);
}

std::chrono::microseconds LogBus::time_to_next_balance(const Consumer& c) const {
  if (!c.next_balance) return std::chrono::microseconds::max();
  return std::max(std::chrono::microseconds(0),
                  std::chrono::duration_cast<std::chrono::microseconds>(*c.next_balance -
                                                                        clock_.now()));
}

std::chrono::microseconds LogBus::time_to_next_retry(const Consumer& c) const {
  std::chrono::microseconds shortest = std::chrono::microseconds::max();
  const auto now = monotonic_.now();
  for (const auto& pc : c.consumers) {
    if (auto at = pc->retry_at()) {
      shortest = std::min(
          shortest, std::max(std::chrono::microseconds(0),
                             std::chrono::duration_cast<std::chrono::microseconds>(*at - now)));
    }
  }
  return shortest;
}

// Polls until stop(): again at once while there is more, else after a wake-up, `max_wait()` or the
// safety-net interval. A std::exception from a poll is logged and the poll tried again after a
// wake-up or the whole interval (never sooner for `max_wait()`).
template <class Poll, class Wait>
void LogBus::run_loop(const std::string& name, const std::string& topic, Wakeup& wakeup,
                      Poll&& poll_fn, Wait&& max_wait) {
  log::info("consumer started", {{"group", name}, {"topic", topic}});
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      seen = wakeup.count;
    }
    int consumed = 0;
    bool failed = false;
    try {
      consumed = poll_fn();
    } catch (const std::exception& e) {
      failed = true;
      log::error("consumer poll failed; trying again after the poll interval",
                 {{"group", name}, {"topic", topic}, {"error", e.what()}});
    }
    if (consumed > 0) continue;  // there may be more right away
    // After a failure, the whole interval: a retry or lease renewal that is due stays due while
    // the database is unreachable, and waiting for it would poll (and log) without pause.
    const auto timeout = failed ? std::chrono::microseconds(options_.poll_interval)
                                : std::min<std::chrono::microseconds>(options_.poll_interval,
                                                                      max_wait());
    std::unique_lock lock(mutex_);
    wakeup.cv.wait_for(lock, timeout, [&] { return stopping_ || wakeup.count != seen; });
  }
  log::info("consumer stopped", {{"group", name}, {"topic", topic}});
}

void LogBus::run(Consumer& c) {
  // Replay requests come from another process (todo dlq replay). They are looked for once per
  // safety-net interval (steady time: this only paces the thread); and on PostgreSQL, where that
  // command announces its write to every process (ADR 0019) and so wakes every consumer, also at
  // each poll that follows a wake-up of an idle consumer — one read per such wake-up, none while
  // the consumer is busy (it polls again at once then, and the interval still bounds how late a
  // replay starts). On SQLite a wake-up is always one of this process's own commits.
  const bool replays_announced = db_.dialect() == store::Dialect::kPostgres;
  auto next_replay_check = std::chrono::steady_clock::now();
  int last_consumed = 0;
  std::uint64_t polled_at_wake_up = 0;
  run_loop(
      c.subscription.group, c.subscription.topic, c.wakeup,
      [&] {
        const auto now = std::chrono::steady_clock::now();
        std::uint64_t wake_ups = 0;
        {
          std::lock_guard lock(mutex_);
          wake_ups = c.wakeup.count;
        }
        const bool woken_while_idle = last_consumed == 0 && wake_ups != polled_at_wake_up;
        const bool check_replays =
            now >= next_replay_check || (replays_announced && woken_while_idle);
        if (check_replays) next_replay_check = now + options_.poll_interval;
        polled_at_wake_up = wake_ups;
        last_consumed = 0;  // stays 0 when the poll throws: the loop then waits
        last_consumed = poll(c, check_replays);
        return last_consumed;
      },
      [&] { return std::min(time_to_next_retry(c), time_to_next_balance(c)); });
}

void LogBus::run(Fanout& f) {
  run_loop(
      f.subscription.name, f.subscription.topic, f.wakeup, [&] { return poll(f); },
      [] { return std::chrono::microseconds::max(); });
}

bool LogBus::running() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopping_ && failed_threads_ == 0;
}

std::vector<PartitionStats> LogBus::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<PartitionStats> out;
  for (const auto& c : consumers_) out.insert(out.end(), c->published.begin(), c->published.end());
  for (const auto& f : fanouts_) out.insert(out.end(), f->published.begin(), f->published.end());
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

// The schedule, the one timer, firing and the delivery pool of the notification service.
#include "services/notify/notify_service.h"

#include <algorithm>
#include <any>
#include <array>
#include <cstdio>
#include <limits>

#include "domain/civil.h"
#include "domain/ids.h"
#include "domain/task.h"
#include "domain/task_events.h"
#include "domain/time_format.h"
#include "log/log.h"
#include "services/notify/reminder_events.h"
#include "store/outbox.h"
#include "store/task_repository.h"
#include "store/user_repository.h"

namespace todo::notify {

namespace {

using store::Transaction;

// The parsed event and the ids of the rows it may insert: computed before the write transaction.
struct PreparedSchedule {
  ScheduleCommand command;
  std::vector<NewReminder> reminders;
};

// The channel a target kind is delivered on.
std::string_view channel_of(std::string_view kind) {
  if (kind == "webpush" || kind == "fcm") return "push";
  return kind;  // email, webhook
}

double seconds(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1e6; }

const store::TaskRepository& tasks() {
  // Only find() is used, which folds nothing.
  static const store::TaskRepository repository([](std::string_view t) { return std::string(t); });
  return repository;
}

}  // namespace

// "Mon 7 Dec 2026, 09:00 (Europe/Berlin)".
std::string format_due_local(domain::Timestamp due, const domain::TimeZone& zone) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const domain::LocalDateTime local = zone.to_local(due);
  const int weekday = domain::weekday(local.date());
  char out[96];
  std::snprintf(out, sizeof out, "%s %d %s %d, %02d:%02d (%s)", kDays[weekday], local.day,
                kMonths[local.month - 1], local.year, local.hour, local.minute,
                zone.name().c_str());
  return out;
}

// One due reminder on its way to firing. Planning reads what it needs in a read snapshot (maybe
// ahead of the instant, see NotifyOptions::prepare_ahead); stamp() decides, at the moment of
// firing, what depends on that moment: late, missed, the ids and times of its rows.
struct NotifyService::Firing {
  enum class Kind { kFire, kMissed, kCancelled };
  StoredReminder reminder;
  Kind kind = Kind::kFire;  // kCancelled when planning found the task no longer wants it
  std::string title, due_local;
  std::optional<domain::Timestamp> due_at;
  std::vector<Target> recipients;  // the user's targets, or the account's e-mail

  // Set by stamp():
  bool late = false;
  std::chrono::microseconds lateness{0};
  std::vector<NewDelivery> deliveries;
  std::vector<Send> sends;  // what the pending deliveries' first attempts need
  std::optional<store::OutboxMessage> fired_event;
};


NotifyService::NotifyService(store::Database& database, const domain::Clock& clock,
                             domain::RandomSource& random, const domain::ZoneCatalog& zones,
                             std::map<std::string, Channel*, std::less<>> channels,
                             NotifyOptions options)
    : database_(database),
      clock_(clock),
      random_(random),
      zones_(zones),
      channels_(std::move(channels)),
      options_(std::move(options)),
      scheduler_(clock) {
  // Every commit, whatever it appended: the schedule changes this service's consumer writes make
  // (which append nothing) take effect at their commit.
  commit_listener_ = std::make_unique<store::ScopedCommitListener>(
      database_, [this](const store::LogAppends&) { on_commit(); });
}

NotifyService::~NotifyService() {
  commit_listener_.reset();
  stop();
}

bus::Subscription NotifyService::subscription() {
  bus::Subscription s;
  s.topic = std::string(domain::kRemindersTopic);
  s.group = std::string(kConsumerGroup);
  s.prepare = [this](const bus::Event& event) -> std::any {
    PreparedSchedule prepared{parse_reminder_event(event.payload), {}};
    const auto now = clock_.now();
    std::lock_guard lock(random_mutex_);
    for (const domain::Timestamp instant : prepared.command.instants) {
      std::optional<std::int64_t> offset;
      if (prepared.command.due_at) {
        offset =
            std::chrono::duration_cast<std::chrono::minutes>(*prepared.command.due_at - instant)
                .count();
      }
      prepared.reminders.push_back({domain::new_uuid_v7(now, random_), instant, offset});
    }
    return prepared;
  };
  s.apply = [this](const bus::Event& event, std::any& prepared, Transaction& tx) {
    apply_schedule(event, prepared, tx);
  };
  return s;
}

namespace {

// Reminder instants scheduled and cancelled by the handler of each event (by event id), counted
// into the metrics when the transaction that wrote them commits. Both backends run a write's
// closure and then its commit listeners on one thread (SQLite's writer thread, or the thread that
// called PostgreSQL's write), so the map is that thread's own: another thread's commit cannot
// count a transaction that has not committed yet. Assigned per event rather than added, because
// on PostgreSQL a closure runs again after a serialization conflict.
using PendingCounts = std::map<std::string, std::pair<std::int64_t, std::int64_t>>;
PendingCounts& pending_counts(const NotifyService* service) {
  static thread_local std::map<const NotifyService*, PendingCounts> by_service;
  return by_service[service];
}

}  // namespace

void NotifyService::apply_schedule(const bus::Event& event, std::any& prepared, Transaction& tx) {
  const auto& schedule = std::any_cast<PreparedSchedule&>(prepared);
  const ScheduleCommand& command = schedule.command;
  const auto now = clock_.now();
  std::pair<std::int64_t, std::int64_t> counts{0, 0};
  if (command.cancel) {
    counts.second = repository_.cancel_schedule(tx, command.task_id, now);
  } else {
    for (const NewReminder& r : schedule.reminders) {
      std::int64_t earliest = pending_earliest_.load();
      const std::int64_t at = domain::to_micros(r.fire_at);
      while (at < earliest && !pending_earliest_.compare_exchange_weak(earliest, at)) {
      }
    }
    counts.first =
        repository_.replace_schedule(tx, command.task_id, command.user_id, schedule.reminders, now);
  }
  pending_counts(this)[event.id] = counts;
  // The commit listener re-arms the timer (and counts) once this transaction is committed.
  schedule_changed_ = true;
}

void NotifyService::on_commit() {
  // First this thread's counts: another thread's commit may have taken the flag already.
  if (auto& counts = pending_counts(this); !counts.empty()) {
    std::int64_t scheduled = 0;
    std::int64_t cancelled = 0;
    for (const auto& [id, n] : counts) {
      scheduled += n.first;
      cancelled += n.second;
    }
    counts.clear();
    metrics_.scheduled(scheduled);
    metrics_.cancelled(cancelled);
  }
  if (!schedule_changed_.exchange(false)) return;
  const auto now = clock_.now();
  // A preparation from before this commit read up to its own now + prepare_ahead at most: an
  // instant this commit added within that is not prepared, and only a full read will see it.
  const auto earliest = pending_earliest_.exchange(std::numeric_limits<std::int64_t>::max());
  if (earliest <= domain::to_micros(now + options_.prepare_ahead)) reprepare_ = true;
  arm_at(now);
}

void NotifyService::recover() {
  const auto now = clock_.now();
  prepared_.clear();  // read again: the store is what counts
  prepared_ids_.clear();
  horizon_.reset();
  prepared_full_ = false;
  // Alone, every delivery in `sending` is this process's from before its restart; sharing the
  // database, only those claimed so long ago that their sender must have died.
  const auto claimed_before = options_.shared_rescan.count() > 0 ? now - options_.stale_sending : now;
  const auto released = store::write_value(database_, [&](Transaction& tx) {
    return repository_.release_sending(tx, now, claimed_before);
  });
  if (released > 0) {
    log::warn("deliveries interrupted by a stop are sent again",
              {{"count", released}, {"why", "the process stopped during their send"}});
  }
  arm_at(now);  // catch up at once on whatever fell due while the process was down
}

void NotifyService::start() {
  recover();
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = false;
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  scheduler_.start();
}

void NotifyService::stop() {
  scheduler_.stop();
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  for (auto& t : workers_) t.join();
  const bool had_workers = !workers_.empty();
  workers_.clear();
  if (!had_workers) return;
  // Claimed deliveries no worker started go back to pending for the next start.
  std::deque<Job> left;
  {
    std::lock_guard lock(queue_mutex_);
    left.swap(queue_);
    kept_.clear();
    in_flight_ = 0;
  }
  if (left.empty()) return;
  try {
    std::vector<std::string> ids;
    for (const Job& job : left) ids.push_back(job.delivery_id);
    database_.write([&](Transaction& tx) { repository_.release_claimed(tx, ids, clock_.now()); });
  } catch (const std::exception& e) {
    log::error("could not release queued deliveries at stop", {{"error", e.what()}});
  }
}

int NotifyService::run_due() { return scheduler_.run_due(); }

std::optional<domain::Timestamp> NotifyService::armed_for() const {
  std::lock_guard lock(armed_mutex_);
  if (!armed_) return std::nullopt;
  return armed_->when;
}

void NotifyService::arm_at(domain::Timestamp when) {
  std::lock_guard lock(armed_mutex_);
  // An earlier timer re-arms for the right instant when it runs.
  if (armed_ && armed_->when <= when) return;
  if (armed_) scheduler_.cancel(armed_->id);
  // The job clears armed_ only if it is still the timer it belongs to.
  auto token = std::make_shared<scheduler::TimerId>(0);
  const auto id = scheduler_.at(when, [this, token] {
    {
      std::lock_guard inner(armed_mutex_);
      if (armed_ && armed_->id == *token) armed_.reset();
    }
    tick();
  });
  *token = id;
  armed_ = Armed{when, id};
}

void NotifyService::arm_next() {
  bool saturated = false;
  {
    std::lock_guard lock(queue_mutex_);
    saturated = saturated_;
  }
  const auto next = store::read_value(database_, [&](Transaction& tx) {
    // Reminders up to the horizon are prepared (their own instants are armed below); the next
    // one past it is armed `prepare_ahead` early, to be prepared in time. While the prepared set
    // is full, its earliest instant comes first and the rest are prepared after it fired.
    std::optional<domain::Timestamp> earliest;
    if (!horizon_) {
      earliest = repository_.next_reminder(tx);
    } else if (!prepared_full_) {
      earliest = repository_.next_reminder_after(tx, *horizon_);
    }
    if (earliest) *earliest -= options_.prepare_ahead;
    if (!prepared_.empty() && (!earliest || prepared_.back().reminder.fire_at < *earliest)) {
      earliest = prepared_.back().reminder.fire_at;
    }
    // While the pool is full, its workers re-arm as they make room.
    if (!saturated) {
      if (auto retry = repository_.next_retry(tx); retry && (!earliest || *retry < *earliest)) {
        earliest = retry;
      }
    }
    return earliest;
  });
  if (next) arm_at(*next);
  // Another process may have scheduled reminders, or died during sends: look again soon.
  if (options_.shared_rescan.count() > 0) arm_at(clock_.now() + options_.shared_rescan);
}

void NotifyService::release_stale(domain::Timestamp now) {
  const auto released = store::write_value(database_, [&](Transaction& tx) {
    return repository_.release_sending(tx, now, now - options_.stale_sending);
  });
  if (released > 0) {
    log::warn("deliveries another process left in sending are sent again",
              {{"count", released}, {"why", "the process that claimed them stopped answering"}});
  }
}

void NotifyService::tick() {
  try {
    // Each batch is stamped and written at its own time: thousands of reminders due at once take
    // a while to fire, and the lateness they record (metrics, `late`, `fired_at`) must say so.
    // Prepared reminders go first: they need only their write. The deliveries start once every
    // due reminder has fired: the in-app reminders (written with the firing) reach everyone
    // first, and firing does not compete with sending for the writer and the cores (10,000 due
    // at once fired by 0.76 s instead of 1.1 s, and were delivered sooner too).
    for (;;) {
      const auto now = clock_.now();
      std::vector<Firing> batch = take_prepared(now);
      const bool from_prepared = !batch.empty();
      if (!from_prepared) batch = plan_firings(std::nullopt, now, options_.batch, {});
      const bool more = from_prepared || batch.size() == static_cast<std::size_t>(options_.batch);
      if (!batch.empty()) fire(batch, now);
      if (batch.empty() || !more) break;
    }
    if (options_.shared_rescan.count() > 0) release_stale(clock_.now());
    dispatch_due(clock_.now());
    prepare(clock_.now());
  } catch (const std::exception& e) {
    // The database failed; try again shortly rather than never.
    log::error("firing reminders failed; trying again in 5 s", {{"error", e.what()}});
    arm_at(clock_.now() + std::chrono::seconds(5));
    return;
  }
  arm_next();
}

std::vector<NotifyService::Firing> NotifyService::take_prepared(domain::Timestamp now) {
  std::vector<Firing> batch;
  while (!prepared_.empty() && prepared_.back().reminder.fire_at <= now &&
         batch.size() < static_cast<std::size_t>(options_.batch)) {
    prepared_ids_.erase(prepared_.back().reminder.id);
    batch.push_back(std::move(prepared_.back()));
    prepared_.pop_back();
  }
  return batch;
}

void NotifyService::prepare(domain::Timestamp now) {
  if (options_.prepare_ahead <= std::chrono::microseconds::zero()) return;
  const std::size_t room = options_.prepare_limit > prepared_.size()
                               ? options_.prepare_limit - prepared_.size()
                               : 0;
  if (room == 0) {
    prepared_full_ = true;
    return;
  }
  const auto horizon = now + options_.prepare_ahead;
  // Usually only the reminders past the last horizon are new. A schedule change that may have
  // added one before it, or a full set that left some out, means reading everything due by the
  // horizon again, past the prepared ones (they are still scheduled in the store).
  const bool reread = !horizon_ || prepared_full_ || reprepare_.exchange(false);
  if (!reread && horizon <= *horizon_) return;
  std::vector<Firing> planned =
      reread ? plan_firings(std::nullopt, horizon, static_cast<int>(prepared_.size() + room),
                            prepared_ids_)
             : plan_firings(horizon_, horizon, static_cast<int>(room), {});
  prepared_full_ = planned.size() >= room;
  if (prepared_full_) planned.resize(room);
  if (!planned.empty()) {
    for (Firing& f : planned) {
      prepared_ids_.insert(f.reminder.id);
      prepared_.push_back(std::move(f));
    }
    std::stable_sort(prepared_.begin(), prepared_.end(), [](const Firing& a, const Firing& b) {
      return a.reminder.fire_at > b.reminder.fire_at;
    });
  }
  horizon_ = std::max(horizon, horizon_.value_or(horizon));
}

std::vector<NotifyService::Firing> NotifyService::plan_firings(
    std::optional<domain::Timestamp> after, domain::Timestamp until, int limit,
    const std::unordered_set<std::string>& skip) {
  std::vector<Firing> firings;
  database_.read([&](Transaction& tx) {
    const store::UserRepository users;
    for (StoredReminder& r : repository_.due_reminders(tx, after, until, limit)) {
      if (skip.contains(r.id)) continue;
      Firing f;
      const auto task = tasks().find(tx, r.user_id, r.task_id, true);
      const auto user = users.find_by_id(tx, r.user_id);
      // The cancel event may still be on its way: the task as stored decides.
      const bool still_wanted = task && user && [&] {
        const auto instants = domain::reminder_instants(*task);
        return std::find(instants.begin(), instants.end(), r.fire_at) != instants.end();
      }();
      if (!still_wanted) {
        f.kind = Firing::Kind::kCancelled;
      } else {
        f.title = task->title;
        f.due_at = task->due_at;
        f.due_local = due_local(*task, &*user);
        bool has_email_target = false;
        for (StoredTarget& t : repository_.targets_of(tx, r.user_id)) {
          has_email_target = has_email_target || t.kind == "email";
          f.recipients.push_back(
              {std::move(t.id), std::move(t.kind), std::move(t.address), std::move(t.secret)});
        }
        if (!has_email_target) {
          f.recipients.push_back({std::string(kAccountTarget), "email",
                                  user->reminder_email.value_or(user->email), ""});
        }
      }
      f.reminder = std::move(r);
      firings.push_back(std::move(f));
    }
  });
  return firings;
}

void NotifyService::stamp(Firing& f, domain::Timestamp now) {
  f.lateness = now - f.reminder.fire_at;
  if (f.kind == Firing::Kind::kCancelled) return;
  if (f.lateness > options_.grace) {
    f.kind = Firing::Kind::kMissed;
    return;
  }
  f.kind = Firing::Kind::kFire;
  f.late = f.lateness > options_.late_after;
  std::lock_guard lock(random_mutex_);
  const auto new_id = [&] { return domain::new_uuid_v7(now, random_); };
  f.deliveries.clear();
  f.sends.clear();
  for (const Target& to : f.recipients) {
    const std::string channel(channel_of(to.kind));
    // Only e-mail addresses and webhook URLs are shown in the delivery log.
    const bool readable = to.kind == "email" || to.kind == "webhook";
    NewDelivery d{new_id(),
                  channel,
                  to.id,
                  to.kind,
                  readable ? to.address : std::string(),
                  std::string(delivery_status::kPending),
                  0,
                  now,
                  std::nullopt,
                  std::nullopt};
    const auto found = channels_.find(channel);
    if (found == channels_.end() || !found->second->configured()) {
      d.status = std::string(delivery_status::kNotConfigured);
      d.next_attempt_at.reset();
      d.last_error = "the " + channel + " channel is not configured on this server";
    } else {
      f.sends.push_back(Send{d.id, channel, to.id, 0,
                             content(d.id, f.reminder, f.title, f.due_at, f.due_local, f.late),
                             to});
    }
    f.deliveries.push_back(std::move(d));
  }
  FiredReminder fired{new_id(),  f.reminder.id, f.reminder.task_id, f.reminder.user_id, f.title,
                      f.reminder.fire_at, f.due_at, f.late, now};
  f.deliveries.push_back(NewDelivery{new_id(), "in-app", std::string(kInAppTarget), "in-app", "",
                                     std::string(delivery_status::kDelivered), 1, std::nullopt,
                                     std::nullopt, fired.event_id});
  f.fired_event = reminder_fired_message(fired);
}

void NotifyService::fire(std::vector<Firing>& firings, domain::Timestamp now) {
  for (Firing& f : firings) stamp(f, now);
  std::vector<bool> applied(firings.size(), false);
  database_.write([&](Transaction& tx) {
    const store::OutboxRepository outbox;
    for (std::size_t i = 0; i < firings.size(); ++i) {
      const Firing& f = firings[i];
      const std::string_view status = f.kind == Firing::Kind::kFire ? reminder_status::kSent
                                      : f.kind == Firing::Kind::kMissed
                                          ? reminder_status::kMissed
                                          : reminder_status::kCancelled;
      // Compare-and-set: a schedule event may have replaced it since it was planned.
      applied[i] = repository_.finish_reminder(tx, f.reminder.id, status, f.late, now);
      if (!applied[i] || f.kind != Firing::Kind::kFire) continue;
      for (const NewDelivery& d : f.deliveries)
        repository_.insert_delivery(tx, f.reminder.id, d, now);
      outbox.append_unread(tx, *f.fired_event, now);
    }
  });
  for (std::size_t i = 0; i < firings.size(); ++i) {
    if (!applied[i]) continue;
    const Firing& f = firings[i];
    switch (f.kind) {
      case Firing::Kind::kFire:
        keep(std::move(firings[i].sends));
        metrics_.fired(seconds(f.lateness), f.late);
        for (const NewDelivery& d : f.deliveries) {
          if (d.status != delivery_status::kPending) metrics_.delivery(d.channel, d.status);
        }
        log::info("reminder fired", {{"reminder_id", f.reminder.id},
                                     {"task_id", f.reminder.task_id},
                                     {"late", f.late},
                                     {"lateness_ms", f.lateness.count() / 1000}});
        break;
      case Firing::Kind::kMissed:
        metrics_.missed();
        log::warn("reminder missed: its instant passed longer ago than the grace period",
                  {{"reminder_id", f.reminder.id},
                   {"task_id", f.reminder.task_id},
                   {"lateness_s", f.lateness.count() / 1000000}});
        break;
      case Firing::Kind::kCancelled:
        metrics_.cancelled(1);
        break;
    }
  }
}

void NotifyService::dispatch_due(domain::Timestamp now) {
  if (options_.workers == 0) {
    for (;;) {
      const auto claimed = store::write_value(database_, [&](Transaction& tx) {
        return repository_.claim_due_deliveries(tx, now, options_.batch);
      });
      for (const std::string& id : claimed) deliver(id, take_kept(id));
      if (claimed.size() < static_cast<std::size_t>(options_.batch)) return;
    }
  }
  std::size_t room = 0;
  {
    std::lock_guard lock(queue_mutex_);
    room = options_.queue_limit > in_flight_ ? options_.queue_limit - in_flight_ : 0;
    saturated_ = room == 0;
  }
  if (room == 0) return;
  const auto claimed = store::write_value(database_, [&](Transaction& tx) {
    return repository_.claim_due_deliveries(tx, now, static_cast<int>(room));
  });
  {
    std::lock_guard lock(queue_mutex_);
    for (const std::string& id : claimed) queue_.push_back(Job{id, take_kept_locked(id)});
    in_flight_ += claimed.size();
    // More may be due: the workers re-arm when they have made room.
    if (claimed.size() == room) saturated_ = true;
  }
  queue_ready_.notify_all();
}

void NotifyService::keep(std::vector<Send> sends) {
  std::lock_guard lock(queue_mutex_);
  for (Send& send : sends) {
    if (kept_.size() >= options_.keep_limit) return;  // the rest are read when claimed
    std::string id = send.delivery_id;
    kept_.emplace(std::move(id), std::move(send));
  }
}

std::optional<NotifyService::Send> NotifyService::take_kept(const std::string& delivery_id) {
  std::lock_guard lock(queue_mutex_);
  return take_kept_locked(delivery_id);
}

std::optional<NotifyService::Send> NotifyService::take_kept_locked(
    const std::string& delivery_id) {
  auto node = kept_.extract(delivery_id);
  if (!node) return std::nullopt;
  return std::move(node.mapped());
}

void NotifyService::worker_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    deliver(job.delivery_id, std::move(job.kept));
    bool rearm = false;
    {
      std::lock_guard lock(queue_mutex_);
      --in_flight_;
      if (saturated_ && in_flight_ <= options_.queue_limit / 2) {
        saturated_ = false;
        rearm = true;
      }
    }
    if (rearm) arm_at(clock_.now());
  }
}

std::string NotifyService::due_local(const domain::Task& task, const domain::User* user) const {
  if (!task.due_at) return {};
  auto zone = user ? zones_.find(user->timezone) : nullptr;
  if (!zone) zone = zones_.find(task.timezone);
  return zone ? format_due_local(*task.due_at, *zone)
              : format_due_local(*task.due_at, domain::TimeZone::utc());
}

Reminder NotifyService::content(const std::string& delivery_id, const StoredReminder& r,
                                const std::string& title, std::optional<domain::Timestamp> due_at,
                                const std::string& due_local, bool late) const {
  Reminder m;
  m.delivery_id = delivery_id;
  m.user_id = r.user_id;
  m.task_id = r.task_id;
  m.title = title;
  m.fire_at_utc = domain::format_rfc3339(r.fire_at);
  m.late = late;
  std::string base = options_.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  m.task_url = base + "/tasks/" + r.task_id;
  if (due_at) m.due_at_utc = domain::format_rfc3339(*due_at);
  m.due_local = due_local;
  return m;
}

std::optional<NotifyService::Send> NotifyService::load(const std::string& delivery_id) {
  std::optional<Send> send;
  database_.read([&](Transaction& tx) {
    const auto d = repository_.find_delivery(tx, delivery_id);
    if (!d || d->status != delivery_status::kSending) return;
    const auto r = repository_.find_reminder(tx, d->reminder_id);
    if (!r) return;
    const auto task = tasks().find(tx, r->user_id, r->task_id, true);
    const auto user = store::UserRepository().find_by_id(tx, r->user_id);
    send.emplace();
    send->delivery_id = delivery_id;
    send->channel = d->channel;
    send->target_id = d->target;
    send->attempts = d->attempts;
    send->reminder = content(delivery_id, *r, task ? task->title : std::string(),
                             task ? task->due_at : std::nullopt,
                             task ? due_local(*task, user ? &*user : nullptr) : std::string(),
                             r->late);
    if (d->target == kAccountTarget) {
      send->target = Target{d->target, "email", d->target_address, ""};
    } else if (auto t = repository_.find_target(tx, d->target)) {
      send->target = Target{t->id, t->kind, t->address, t->secret};
    }
  });
  return send;
}

void NotifyService::deliver(const std::string& delivery_id, std::optional<Send> kept) {
  const auto started = clock_.now();
  if (!kept) {
    try {
      kept = load(delivery_id);
    } catch (const std::exception& e) {
      log::error("could not load a delivery",
                 {{"delivery_id", delivery_id}, {"error", e.what()}});
      return;  // stays in `sending`; the next start sends it
    }
    if (!kept) return;
  }
  const Send& d = *kept;

  Result result{Outcome::kFailed, "", ""};
  const auto channel = channels_.find(d.channel);
  if (!d.target) {
    result = {Outcome::kFailed, "", "the target was removed before the reminder was sent"};
  } else if (channel == channels_.end() || !channel->second->configured()) {
    result = {Outcome::kNotConfigured, "",
              "the " + d.channel + " channel is not configured on this server"};
  } else {
    try {
      result = channel->second->send(d.reminder, *d.target);
    } catch (const std::exception& e) {
      result = {Outcome::kRetry, "", std::string("the channel failed: ") + e.what()};
    }
  }

  AttemptRecord record;
  record.delivery_id = delivery_id;
  record.started_at = started;
  record.finished_at = clock_.now();
  if (result.outcome != Outcome::kDelivered) record.error = result.error;
  if (!result.provider_id.empty()) record.provider_id = result.provider_id;
  switch (result.outcome) {
    case Outcome::kDelivered:
      record.status = delivery_status::kDelivered;
      record.outcome = "delivered";
      break;
    case Outcome::kRetry: {
      const auto attempt = static_cast<std::size_t>(d.attempts) + 1;
      record.outcome = "retry";
      if (attempt <= options_.retry_backoff.size()) {
        record.status = delivery_status::kPending;
        record.next_attempt_at = record.finished_at + options_.retry_backoff[attempt - 1];
      } else {
        record.status = delivery_status::kFailed;
      }
      break;
    }
    case Outcome::kFailed:
      record.status = delivery_status::kFailed;
      record.outcome = "failed";
      break;
    case Outcome::kNotConfigured:
      record.status = delivery_status::kNotConfigured;
      record.outcome = "not-configured";
      break;
    case Outcome::kTargetGone:
      record.status = delivery_status::kTargetGone;
      record.outcome = "target-gone";
      break;
  }
  bool recorded = false;
  try {
    recorded = store::write_value(database_, [&](Transaction& tx) {
      const bool ok = repository_.record_attempt(tx, record);
      if (ok && result.outcome == Outcome::kTargetGone) repository_.remove_target(tx, d.target_id);
      return ok;
    });
  } catch (const std::exception& e) {
    log::error("could not record a delivery attempt",
               {{"delivery_id", delivery_id}, {"error", e.what()}});
  }
  if (!recorded) return;
  metrics_.delivery(d.channel, record.status);
  if (record.status == delivery_status::kDelivered) {
    log::info("reminder delivered", {{"delivery_id", delivery_id}, {"channel", d.channel}});
  } else {
    log::warn("reminder delivery attempt did not succeed", {{"delivery_id", delivery_id},
                                                            {"channel", d.channel},
                                                            {"status", record.status},
                                                            {"attempt", d.attempts + 1},
                                                            {"error", result.error}});
  }
  if (record.next_attempt_at) arm_at(*record.next_attempt_at);
}

}  // namespace todo::notify

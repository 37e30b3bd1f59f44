// The notification service (group `notification-service`, ADR 0015): keeps the schedule of
// reminder instants from `reminders` events (in the consumer's transaction, so exactly once),
// keeps one scheduler timer armed for the earliest instant anything waits for (a reminder or a
// delivery's retry), fires reminders — late within the grace period, `missed` beyond it, never
// for a completed or deleted task — into one delivery row per (reminder, channel, target) plus the
// in-app event through the outbox, and sends deliveries on a bounded pool, outside any
// transaction, with retries on a backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bus/bus.h"
#include "domain/clock.h"
#include "domain/task.h"
#include "domain/user.h"
#include "domain/time_zone.h"
#include "scheduler/scheduler.h"
#include "services/notify/channel.h"
#include "services/notify/notify_metrics.h"
#include "services/notify/notify_repository.h"
#include "store/database.h"

namespace todo::notify {

inline constexpr std::string_view kConsumerGroup = "notification-service";

// A due time as a person reads it in `zone`: "Mon 7 Dec 2026, 09:00 (Europe/Berlin)".
std::string format_due_local(domain::Timestamp due, const domain::TimeZone& zone);

struct NotifyOptions {
  // A reminder found past its instant by more than this (after downtime) is `missed`, not sent.
  std::chrono::microseconds grace = std::chrono::hours(1);
  // A reminder sent more than this after its instant is marked late.
  std::chrono::microseconds late_after = std::chrono::seconds(2);
  // The waits before the 2nd, 3rd, … attempt of a delivery; after the last, it is `failed`.
  std::vector<std::chrono::milliseconds> retry_backoff{
      std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::minutes(30)};
  // Delivery threads. 0: deliveries run on the thread that fired them (unit tests).
  int workers = 4;
  // Deliveries handed to the pool and not finished yet, at most.
  std::size_t queue_limit = 256;
  // Reminders fired per write transaction.
  int batch = 256;
  // Reminders due within this are read (task, user, targets) before their instant, so that at the
  // instant only their write is left: thousands due at once fire in a fraction of a second. A task
  // changed in this last moment is still honoured when completed, deleted or rescheduled (the
  // write checks the reminder is still scheduled); a new title or target may be missed. 0: read
  // at the instant.
  std::chrono::microseconds prepare_ahead = std::chrono::seconds(2);
  // Reminders kept prepared, at most (memory: about 2 KiB each).
  std::size_t prepare_limit = 20'000;
  // Fired deliveries whose content is kept for their first attempt, at most (about 1 KiB each).
  std::size_t keep_limit = 20'000;
  // Other processes share the database (PostgreSQL, ADR 0020) when > 0: at least this often the
  // service looks for reminders another process scheduled (that one arms its own timer for them;
  // this look is what fires them when it died), and gives deliveries another process left in
  // `sending` for longer than `stale_sending` back to pending. 0: this process is the only one;
  // at start every delivery in `sending` is its own from before the restart.
  std::chrono::microseconds shared_rescan{0};
  std::chrono::microseconds stale_sending = std::chrono::minutes(2);
  // The web app's base URL: a task's link is <public_url>/tasks/<id>.
  std::string public_url = "http://localhost:8000";
};

// The scheduler's wall clock measures every instant: reminders are wall-clock appointments.
class NotifyService {
 public:
  // `channels` by name ("email", "push", "webhook"); a missing one records its deliveries as
  // not-configured. The channels outlive the service.
  NotifyService(store::Database& database, const domain::Clock& clock, domain::RandomSource& random,
                const domain::ZoneCatalog& zones,
                std::map<std::string, Channel*, std::less<>> channels, NotifyOptions options);
  ~NotifyService();  // stops
  NotifyService(const NotifyService&) = delete;
  NotifyService& operator=(const NotifyService&) = delete;

  // The `reminders` subscription: parsing before the write transaction, the schedule in it.
  bus::Subscription subscription();

  // Releases deliveries a previous process left in flight, arms the timer (catching up at once on
  // anything already due), starts the scheduler thread and the delivery pool.
  void start();
  void stop();  // idempotent; waits for a send in progress

  // For tests driving a manual clock without start(): what start() does before its threads.
  void recover();
  // Runs what the scheduler has due at clock.now() (the timer's job) on the calling thread.
  int run_due();
  // The instant the one timer is armed for.
  std::optional<domain::Timestamp> armed_for() const;
  std::size_t timers_pending() const { return scheduler_.pending(); }

  const NotifyMetrics& metrics() const { return metrics_; }

 private:
  struct Firing;
  struct Armed {
    domain::Timestamp when{};
    scheduler::TimerId id = 0;
  };

  void apply_schedule(const bus::Event& event, std::any& prepared, store::Transaction& tx);
  void on_commit();
  // The timer's job: fires due reminders, hands due deliveries to the pool, re-arms.
  void tick();
  // Reads reminders due by `until` (at most `limit`, those in `skip` left out) and what firing
  // them needs.
  std::vector<Firing> plan_firings(std::optional<domain::Timestamp> after, domain::Timestamp until,
                                   int limit, const std::unordered_set<std::string>& skip);
  void stamp(Firing& firing, domain::Timestamp now);
  // Stamps and writes a batch of due reminders in one transaction.
  void fire(std::vector<Firing>& firings, domain::Timestamp now);
  // Plans the reminders due within prepare_ahead of `now` that are not prepared yet.
  void prepare(domain::Timestamp now);
  // The prepared reminders due at `now`, at most a batch.
  std::vector<Firing> take_prepared(domain::Timestamp now);
  void dispatch_due(domain::Timestamp now);
  // Everything one attempt of a delivery needs: read from the store, or kept from its firing.
  struct Send {
    std::string delivery_id, channel, target_id;
    std::int64_t attempts = 0;
    Reminder reminder;
    std::optional<Target> target;  // none: the target was removed
  };
  struct Job {
    std::string delivery_id;
    std::optional<Send> kept;
  };
  void release_stale(domain::Timestamp now);
  std::string due_local(const domain::Task& task, const domain::User* user) const;
  Reminder content(const std::string& delivery_id, const StoredReminder& reminder,
                   const std::string& title, std::optional<domain::Timestamp> due_at,
                   const std::string& due_local, bool late) const;
  // The claimed delivery as stored; none when it is no longer `sending`.
  std::optional<Send> load(const std::string& delivery_id);
  // Sends one claimed delivery (`kept`: from its firing, else read) and records the attempt.
  void deliver(const std::string& delivery_id, std::optional<Send> kept);
  void keep(std::vector<Send> sends);
  std::optional<Send> take_kept(const std::string& delivery_id);
  std::optional<Send> take_kept_locked(const std::string& delivery_id);  // queue_mutex_ held
  void arm_at(domain::Timestamp when);
  void arm_next();
  void worker_loop();

  store::Database& database_;
  const domain::Clock& clock_;
  domain::RandomSource& random_;
  const domain::ZoneCatalog& zones_;
  const std::map<std::string, Channel*, std::less<>> channels_;
  const NotifyOptions options_;
  const NotifyRepository repository_{};
  NotifyMetrics metrics_;

  mutable std::mutex armed_mutex_;
  std::optional<Armed> armed_;
  std::mutex random_mutex_;  // the RandomSource is shared with other threads of the process
  std::atomic<bool> schedule_changed_{false};
  // The scheduled/cancelled counts of the consumer's handler wait in a thread-local map until
  // the commit (notify_service.cpp: pending_counts).
  // The earliest instant the consumer's transaction added (µs since the epoch), and whether it
  // may have fallen before the preparation horizon (then the next preparation reads it all).
  std::atomic<std::int64_t> pending_earliest_{std::numeric_limits<std::int64_t>::max()};
  std::atomic<bool> reprepare_{false};

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Job> queue_;  // claimed deliveries
  // The first attempts of just fired deliveries, by delivery id, until claimed: what firing read
  // is not read again (at most keep_limit).
  std::unordered_map<std::string, Send> kept_;
  std::size_t in_flight_ = 0;      // queued or being sent
  bool saturated_ = false;         // a tick left due deliveries for lack of room
  bool stopping_ = false;
  std::vector<std::thread> workers_;

  // Reminders planned ahead of their instants, the latest first (the scheduler thread's alone):
  // every scheduled reminder due by horizon_ is among them, unless prepared_full_ (see
  // prepare_limit).
  std::vector<Firing> prepared_;
  std::unordered_set<std::string> prepared_ids_;
  std::optional<domain::Timestamp> horizon_;
  bool prepared_full_ = false;

  scheduler::Scheduler scheduler_;
  std::unique_ptr<store::ScopedCommitListener> commit_listener_;
};

}  // namespace todo::notify

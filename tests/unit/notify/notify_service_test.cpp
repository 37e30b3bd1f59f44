// The notification service on every backend with a manual clock and a recording channel: the
// schedule each `reminders` event replaces, the one timer armed for the earliest instant, catch-up
// within and beyond the grace period, a completed task that never reminds, retries on the
// backoff, and that nothing is fired or delivered twice.
#include "services/notify/notify_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <set>
#include <thread>

#include "bus/retry.h"
#include "domain/time_format.h"
#include "services/notify/reminder_events.h"
#include "store/store_test_support.h"
#include "store/task_repository.h"
#include "support/seeded_random.h"
#include "support/task_owner.h"
#include "support/tzdata_catalog.h"

namespace todo::notify {
namespace {

using namespace std::chrono_literals;
using domain::Timestamp;

const Timestamp kStart = domain::parse_rfc3339("2026-12-06T08:00:00Z").value();

// A channel that answers from a script and records what it was asked to send.
class RecordingChannel final : public Channel {
 public:
  std::string_view name() const override { return "email"; }
  bool configured() const override {
    if (on_configured) on_configured();
    return configured_;
  }
  Result send(const Reminder& reminder, const Target& target) override {
    sent.push_back({reminder, target});
    if (on_send) on_send();
    if (!script.empty()) {
      Result r = script.front();
      script.erase(script.begin());
      return r;
    }
    return {Outcome::kDelivered, "provider-" + reminder.delivery_id, ""};
  }

  bool configured_ = true;
  std::vector<Result> script;  // answers in order; then kDelivered
  std::vector<std::pair<Reminder, Target>> sent;
  std::function<void()> on_send;  // e.g. lets time pass while a delivery is under way
  // Asked while each fired reminder's deliveries are made: lets time pass while firing.
  std::function<void()> on_configured;
};

class NotifyServiceTest : public store::testing::BackendTest {
 protected:
  NotifyServiceTest() : database_(open_database()) {
    owner_ = testing::insert_task_owner(*database_, kStart);
    make_service({});
  }

  void make_service(NotifyOptions options) {
    service_.reset();
    options.workers = 0;  // deliveries run on the thread that fires: deterministic
    options.public_url = "https://todo.example/";
    service_ = std::make_unique<NotifyService>(
        *database_, clock_, random_, zones_,
        std::map<std::string, Channel*, std::less<>>{{"email", &email_}}, options);
  }

  // A pending task of the owner due at `due` with reminders `offsets` minutes before.
  std::string insert_task(Timestamp due, std::vector<int> offsets, std::string title = "Call") {
    domain::Task task;
    task.id = "01900000-0000-7000-8000-" + std::to_string(100000000000 + ++tasks_made_);
    task.user_id = owner_.id;
    task.title = std::move(title);
    task.due_at = due;
    task.timezone = "Europe/Berlin";
    task.reminders = std::move(offsets);
    task.version = 1;
    task.change_seq = tasks_made_;
    task.created_at = task.updated_at = kStart;
    database_->write([&](store::Transaction& tx) { repository().insert(tx, task); });
    return task.id;
  }

  void complete_task(const std::string& id) {
    database_->write([&](store::Transaction& tx) {
      auto task = repository().find(tx, owner_.id, id).value();
      task.status = domain::TaskStatus::kCompleted;
      repository().update(tx, task);
    });
  }

  // Delivers one `reminders` event through the service's subscription, as the bus would.
  void deliver_event(const std::string& type, const std::string& task_id,
                     const std::vector<Timestamp>& instants, std::optional<Timestamp> due) {
    boost::json::array times;
    for (auto t : instants) times.emplace_back(domain::format_rfc3339(t));
    boost::json::object data{
        {"task_id", task_id}, {"user_id", owner_.id}, {"title", "Call"}, {"reminder_times", times}};
    if (due) data["due_date"] = domain::format_rfc3339(*due);
    const boost::json::object event{{"specversion", "1.0"},
                                    {"type", type},
                                    {"id", "event-" + std::to_string(++events_)},
                                    {"time", domain::format_rfc3339(clock_.now())},
                                    {"data", data}};
    bus::Event e;
    e.payload = boost::json::serialize(event);
    auto subscription = service_->subscription();
    std::any prepared = subscription.prepare(e);
    database_->write([&](store::Transaction& tx) { subscription.apply(e, prepared, tx); });
    // The commit listener re-arms the timer for "now" on the writer's thread, maybe after write()
    // returned: wait for it (with a deadline), as run_due() would otherwise find nothing due.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!(service_->armed_for() && *service_->armed_for() <= clock_.now())) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the timer was not re-armed";
      std::this_thread::yield();
    }
  }

  // The task's reminders schedule event for its instants, as the task write model sends it.
  void schedule(const std::string& task_id, Timestamp due, std::vector<int> offsets) {
    std::vector<Timestamp> instants;
    for (int m : offsets) instants.push_back(due - std::chrono::minutes(m));
    std::sort(instants.begin(), instants.end());
    deliver_event(std::string(kScheduleType), task_id, instants, due);
  }

  std::vector<std::pair<std::string, std::string>> rows(const std::string& task_id) {
    return store::read_value(*database_, [&](store::Transaction& tx) {
      std::vector<std::pair<std::string, std::string>> out;
      for (const auto& r : tx.query("SELECT fire_at, status FROM reminders WHERE task_id = $1 "
                                    "ORDER BY fire_at",
                                    {task_id})) {
        out.emplace_back(domain::format_rfc3339(domain::from_micros(r.integer(0))), r.text(1));
      }
      return out;
    });
  }

  // When the task's (first) reminder fired, as recorded.
  std::optional<Timestamp> fired_at(const std::string& task_id) {
    return store::read_value(*database_, [&](store::Transaction& tx) -> std::optional<Timestamp> {
      const auto r = tx.query_one("SELECT fired_at FROM reminders WHERE task_id = $1 "
                                  "AND fired_at IS NOT NULL ORDER BY fire_at LIMIT 1",
                                  {task_id});
      if (!r) return std::nullopt;
      return domain::from_micros(r->integer(0));
    });
  }

  std::vector<StoredDelivery> deliveries_of_task(const std::string& task_id) {
    return store::read_value(*database_, [&](store::Transaction& tx) {
      std::vector<StoredDelivery> out;
      const NotifyRepository repository;
      for (const auto& r : repository.reminders_of_task(tx, task_id, owner_.id)) {
        for (auto& d : repository.deliveries_of(tx, r.id)) out.push_back(std::move(d));
      }
      return out;
    });
  }

  std::optional<StoredDelivery> delivery(const std::string& task_id, std::string_view channel) {
    for (auto& d : deliveries_of_task(task_id)) {
      if (d.channel == channel) return d;
    }
    return std::nullopt;
  }

  static const store::TaskRepository& repository() {
    static const store::TaskRepository r([](std::string_view t) { return std::string(t); });
    return r;
  }

  std::unique_ptr<store::Database> database_;
  domain::ManualClock clock_{kStart};
  testing::SeededRandom random_;
  testing::TzdataCatalog zones_;
  domain::User owner_;
  RecordingChannel email_;
  std::unique_ptr<NotifyService> service_;
  int tasks_made_ = 0;
  int events_ = 0;
};

TEST_P(NotifyServiceTest, EachScheduleEventReplacesTheTasksSet) {
  const Timestamp due = kStart + 24h;
  const std::string task = insert_task(due, {60, 30});
  schedule(task, due, {60, 30});
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-07T07:00:00.000Z", "scheduled"},
                            {"2026-12-07T07:30:00.000Z", "scheduled"}}));
  // 60 is gone, 10 is new, 30 stays.
  schedule(task, due, {30, 10});
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-07T07:30:00.000Z", "scheduled"},
                            {"2026-12-07T07:50:00.000Z", "scheduled"}}));
  deliver_event(std::string(kCancelType), task, {}, due);
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-07T07:30:00.000Z", "cancelled"},
                            {"2026-12-07T07:50:00.000Z", "cancelled"}}));
  // Reopened: the same instant is scheduled again.
  schedule(task, due, {10});
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-07T07:30:00.000Z", "cancelled"},
                            {"2026-12-07T07:50:00.000Z", "scheduled"}}));
}

// replace_schedule() reads the task's instants once and counts what it (re)scheduled: a new
// instant and a cancelled one wanted again, not one already scheduled, nor one that fired, nor
// the same instant twice.
TEST_P(NotifyServiceTest, ReplacingAScheduleCountsTheInstantsItScheduled) {
  const NotifyRepository repository;
  const std::string task = "task-counted";
  const auto at = [](int minutes) { return kStart + std::chrono::minutes(minutes); };
  const auto replace = [&](std::vector<int> minutes) {
    std::int64_t counted = 0;
    database_->write([&](store::Transaction& tx) {
      std::vector<NewReminder> instants;
      for (int m : minutes) {
        instants.push_back(NewReminder{"r-" + std::to_string(m) + "-" + std::to_string(++events_),
                                       at(m), std::nullopt});
      }
      counted = repository.replace_schedule(tx, task, owner_.id, instants, clock_.now());
    });
    return counted;
  };
  EXPECT_EQ(replace({10, 20, 20}), 2);  // two new instants, one of them given twice
  EXPECT_EQ(replace({10, 20, 30}), 1);  // 30 is new
  const auto fired = store::read_value(*database_, [&](store::Transaction& r) {
    for (const auto& reminder : repository.reminders_of_task(r, task, owner_.id)) {
      if (reminder.fire_at == at(10)) return reminder.id;
    }
    return std::string();
  });
  database_->write([&](store::Transaction& tx) {
    EXPECT_TRUE(repository.finish_reminder(tx, fired, reminder_status::kSent, false,
                                           clock_.now()));
    repository.cancel_schedule(tx, task, clock_.now());  // 20 and 30 cancelled
  });
  EXPECT_EQ(replace({10, 20}), 1);  // 10 fired (history), 20 cancelled and wanted again
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-06T08:10:00.000Z", "sent"},
                            {"2026-12-06T08:20:00.000Z", "scheduled"},
                            {"2026-12-06T08:30:00.000Z", "cancelled"}}));
}

TEST_P(NotifyServiceTest, AnInstantAlreadyPastWhenTheTaskChangedIsNotScheduled) {
  const Timestamp due = kStart + 10min;
  const std::string task = insert_task(due, {60, 5});
  schedule(task, due, {60, 5});
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-06T08:05:00.000Z", "scheduled"}}));
}

// The timer wakes prepare_ahead (2 s by default) before the earliest instant to read what firing
// needs, then at the instant to fire it.
TEST_P(NotifyServiceTest, OneTimerIsArmedForTheEarliestInstantAndReArmedOnChange) {
  const auto ahead = NotifyOptions{}.prepare_ahead;
  const Timestamp due_a = kStart + 2h;
  const std::string a = insert_task(due_a, {30});
  schedule(a, due_a, {30});
  service_->run_due();  // the commit re-armed the timer at once; it now looks at the schedule
  EXPECT_EQ(service_->armed_for(), kStart + 90min - ahead);
  EXPECT_EQ(service_->timers_pending(), 1u);

  const Timestamp due_b = kStart + 1h;
  const std::string b = insert_task(due_b, {30});
  schedule(b, due_b, {30});
  service_->run_due();
  EXPECT_EQ(service_->armed_for(), kStart + 30min - ahead);
  EXPECT_EQ(service_->timers_pending(), 1u);

  clock_.set(kStart + 30min - ahead - 1s);
  EXPECT_EQ(service_->run_due(), 0);
  clock_.set(kStart + 30min - ahead);
  EXPECT_EQ(service_->run_due(), 1);  // prepares b
  EXPECT_TRUE(email_.sent.empty());
  EXPECT_EQ(service_->armed_for(), kStart + 30min);
  clock_.set(kStart + 30min - 1s);
  EXPECT_EQ(service_->run_due(), 0);
  EXPECT_TRUE(email_.sent.empty());
  clock_.set(kStart + 30min);
  EXPECT_EQ(service_->run_due(), 1);
  ASSERT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(email_.sent[0].first.task_id, b);
  EXPECT_EQ(email_.sent[0].second.address, "owner@example.com");
  EXPECT_EQ(email_.sent[0].first.task_url, "https://todo.example/tasks/" + b);
  EXPECT_EQ(email_.sent[0].first.due_local, "Sun 6 Dec 2026, 09:00 (UTC)");
  EXPECT_FALSE(email_.sent[0].first.late);
  EXPECT_EQ(fired_at(b), kStart + 30min);
  EXPECT_EQ(service_->armed_for(), kStart + 90min - ahead);
  EXPECT_EQ(
      rows(b),
      (std::vector<std::pair<std::string, std::string>>{{"2026-12-06T08:30:00.000Z", "sent"}}));
  EXPECT_EQ(delivery(b, "email")->status, "delivered");
  EXPECT_EQ(delivery(b, "in-app")->status, "delivered");

  // Rescheduling `a` later moves the timer with it.
  const Timestamp later = kStart + 3h;
  database_->write([&](store::Transaction& tx) {
    auto task = repository().find(tx, owner_.id, a).value();
    task.due_at = later;
    repository().update(tx, task);
  });
  schedule(a, later, {30});
  service_->run_due();
  EXPECT_EQ(service_->armed_for(), kStart + 150min - ahead);
  EXPECT_EQ(service_->timers_pending(), 1u);
}

// What changes between the preparation and the instant still counts: a task completed (its cancel
// consumed) or rescheduled does not remind at the old instant, and a reminder added inside the
// window fires at its own instant.
TEST_P(NotifyServiceTest, ChangesAfterThePreparationAreHonoured) {
  const auto ahead = NotifyOptions{}.prepare_ahead;
  const Timestamp instant = kStart + 30min;
  const std::string done = insert_task(instant + 30min, {30});
  const std::string moved = insert_task(instant + 30min, {30});
  const std::string kept = insert_task(instant + 30min, {30});
  for (const auto& t : {done, moved, kept}) schedule(t, instant + 30min, {30});
  clock_.set(instant - ahead);
  service_->run_due();  // all three prepared
  EXPECT_EQ(service_->armed_for(), instant);

  complete_task(done);
  deliver_event(std::string(kCancelType), done, {}, std::nullopt);
  database_->write([&](store::Transaction& tx) {
    auto task = repository().find(tx, owner_.id, moved).value();
    task.due_at = instant + 2h;
    repository().update(tx, task);
  });
  schedule(moved, instant + 2h, {30});
  // A new task due inside the window, after the preparation read it.
  const std::string late_comer = insert_task(instant - 1s + 10min, {10});
  schedule(late_comer, instant - 1s + 10min, {10});
  service_->run_due();
  EXPECT_EQ(service_->armed_for(), instant - 1s);

  clock_.set(instant - 1s);
  service_->run_due();
  ASSERT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(email_.sent[0].first.task_id, late_comer);
  EXPECT_EQ(fired_at(late_comer), instant - 1s);
  clock_.set(instant);
  service_->run_due();
  ASSERT_EQ(email_.sent.size(), 2u);
  EXPECT_EQ(email_.sent[1].first.task_id, kept);
  EXPECT_EQ(fired_at(kept), instant);
  EXPECT_EQ(rows(done), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-06T08:30:00.000Z", "cancelled"}}));
  EXPECT_EQ(rows(moved), (std::vector<std::pair<std::string, std::string>>{
                             {"2026-12-06T10:00:00.000Z", "scheduled"}}));
  EXPECT_EQ(service_->armed_for(), instant + 90min - ahead);
}

// More reminders due together than may be kept prepared: the rest are read at the instant, and
// all fire at it.
TEST_P(NotifyServiceTest, MoreDueTogetherThanThePreparedLimitAllFireAtTheInstant) {
  NotifyOptions options;
  options.prepare_limit = 2;
  options.batch = 2;
  make_service(options);
  const Timestamp instant = kStart + 30min;
  std::vector<std::string> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(insert_task(instant + 10min, {10}, "Call " + std::to_string(i)));
    schedule(tasks.back(), instant + 10min, {10});
  }
  clock_.set(instant - options.prepare_ahead);
  service_->run_due();
  EXPECT_EQ(service_->armed_for(), instant);
  EXPECT_TRUE(email_.sent.empty());
  clock_.set(instant);
  service_->run_due();
  EXPECT_EQ(email_.sent.size(), 5u);
  for (const auto& t : tasks) EXPECT_EQ(fired_at(t), instant) << t;
  EXPECT_FALSE(service_->armed_for().has_value());
}

TEST_P(NotifyServiceTest, AfterDowntimeLateWithinGraceAndMissedBeyondIt) {
  const Timestamp due_a = kStart + 20min;
  const Timestamp due_b = kStart + 2h;
  const std::string a = insert_task(due_a, {10});  // instant +10 min
  const std::string b = insert_task(due_b, {10});  // instant +110 min
  schedule(a, due_a, {10});
  schedule(b, due_b, {10});
  // The process "was down": a new service starts at +2 h.
  clock_.set(kStart + 2h);
  make_service({});
  service_->recover();
  service_->run_due();
  EXPECT_EQ(
      rows(a),
      (std::vector<std::pair<std::string, std::string>>{{"2026-12-06T08:10:00.000Z", "missed"}}));
  EXPECT_EQ(
      rows(b),
      (std::vector<std::pair<std::string, std::string>>{{"2026-12-06T09:50:00.000Z", "sent"}}));
  ASSERT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(email_.sent[0].first.task_id, b);
  EXPECT_TRUE(email_.sent[0].first.late);
  EXPECT_TRUE(deliveries_of_task(a).empty());
  EXPECT_EQ(service_->metrics().fired_count(), 1);
}

// Reminders due together fire in batches, each at its own time, and their deliveries start once
// every due reminder has fired (in-app reminders first, and firing does not compete with sending):
// when firing takes long (here: 3 s of the manual clock per reminder), a later batch records the
// lateness it really had.
TEST_P(NotifyServiceTest, AllDueRemindersFireFirstEachBatchAtItsOwnTime) {
  NotifyOptions options;
  options.batch = 2;
  make_service(options);
  const Timestamp due = kStart + 20min;
  std::vector<std::string> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(insert_task(due, {10}, "Call " + std::to_string(i)));
    schedule(tasks.back(), due, {10});
  }
  clock_.set(due - 10min);
  email_.on_configured = [&] { clock_.advance(3s); };
  std::size_t fired_when_first_sent = 0;
  email_.on_send = [&] {
    if (email_.sent.size() == 1) {
      fired_when_first_sent = store::read_value(*database_, [&](store::Transaction& tx) {
        return static_cast<std::size_t>(
            tx.query("SELECT count(*) FROM reminders WHERE status = 'sent'")[0].integer(0));
      });
    }
  };
  service_->run_due();
  ASSERT_EQ(email_.sent.size(), 3u);
  EXPECT_EQ(fired_when_first_sent, 3u);  // every batch fired before the first mail went
  EXPECT_FALSE(email_.sent[0].first.late);
  EXPECT_FALSE(email_.sent[1].first.late);
  EXPECT_TRUE(email_.sent[2].first.late);  // its batch fired 6 s after the instant
  std::multiset<Timestamp> fired;
  for (const auto& t : tasks) fired.insert(fired_at(t).value());
  EXPECT_EQ(fired, (std::multiset<Timestamp>{due - 10min, due - 10min, due - 10min + 6s}));
}

TEST_P(NotifyServiceTest, ACompletedTaskNeverRemindsEvenBeforeItsCancelArrives) {
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  complete_task(task);  // the cancel event has not been consumed yet
  clock_.set(kStart + 30min);
  service_->run_due();
  EXPECT_TRUE(email_.sent.empty());
  EXPECT_EQ(rows(task), (std::vector<std::pair<std::string, std::string>>{
                            {"2026-12-06T08:30:00.000Z", "cancelled"}}));
}

TEST_P(NotifyServiceTest, RetriesOnTheBackoffThenFailsRecordingEveryAttempt) {
  NotifyOptions options;
  options.retry_backoff = {1min, 5min};
  make_service(options);
  email_.script = {{Outcome::kRetry, "", "SMTP 451"},
                   {Outcome::kRetry, "", "SMTP 451"},
                   {Outcome::kRetry, "", "SMTP 451"}};
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  clock_.set(kStart + 30min);
  service_->run_due();
  auto d = delivery(task, "email").value();
  EXPECT_EQ(d.status, "pending");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.next_attempt_at, kStart + 31min);
  EXPECT_EQ(service_->armed_for(), kStart + 31min);

  clock_.set(kStart + 31min);
  service_->run_due();
  d = delivery(task, "email").value();
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.next_attempt_at, kStart + 36min);

  clock_.set(kStart + 36min);
  service_->run_due();
  d = delivery(task, "email").value();
  EXPECT_EQ(d.status, "failed");
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.last_error, "SMTP 451");
  ASSERT_EQ(email_.sent.size(), 3u);
  // The first attempt sends what its firing read, the retries what they read from the store:
  // the same message.
  for (const auto& [reminder, target] : email_.sent) {
    const auto& first = email_.sent[0].first;
    EXPECT_EQ(reminder.delivery_id, first.delivery_id);
    EXPECT_EQ(reminder.title, first.title);
    EXPECT_EQ(reminder.due_at_utc, first.due_at_utc);
    EXPECT_EQ(reminder.due_local, first.due_local);
    EXPECT_EQ(reminder.fire_at_utc, first.fire_at_utc);
    EXPECT_EQ(reminder.task_url, first.task_url);
    EXPECT_EQ(reminder.late, first.late);
    EXPECT_EQ(target.id, email_.sent[0].second.id);
    EXPECT_EQ(target.address, email_.sent[0].second.address);
  }
  EXPECT_EQ(email_.sent[0].first.due_local, "Sun 6 Dec 2026, 09:00 (UTC)");
  const auto attempts = store::read_value(*database_, [&](store::Transaction& tx) {
    return tx
        .query_one("SELECT COUNT(*) FROM notification_attempts WHERE delivery_id = $1", {d.id})
        ->integer(0);
  });
  EXPECT_EQ(attempts, 3);
  EXPECT_FALSE(service_->armed_for().has_value());
}

TEST_P(NotifyServiceTest, NothingIsFiredOrDeliveredTwice) {
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  clock_.set(kStart + 30min);
  service_->run_due();
  ASSERT_EQ(email_.sent.size(), 1u);
  // A redelivered schedule event for the same instant, and a restart.
  schedule(task, due, {30});
  make_service({});
  service_->recover();
  clock_.set(kStart + 31min);
  service_->run_due();
  EXPECT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(
      rows(task),
      (std::vector<std::pair<std::string, std::string>>{{"2026-12-06T08:30:00.000Z", "sent"}}));
  EXPECT_EQ(deliveries_of_task(task).size(), 2u);  // email and in-app, once each
}

TEST_P(NotifyServiceTest, ADeliveryInterruptedByACrashIsSentAgainAtStart) {
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  clock_.set(kStart + 30min);
  // The process died between claiming the delivery and recording its outcome.
  email_.configured_ = true;
  service_->run_due();
  const auto id = delivery(task, "email")->id;
  database_->write([&](store::Transaction& tx) {
    tx.execute("UPDATE deliveries SET status = 'sending' WHERE id = $1", {id});
  });
  make_service({});
  service_->recover();
  service_->run_due();
  EXPECT_EQ(email_.sent.size(), 2u);
  EXPECT_EQ(email_.sent[1].first.delivery_id, id);  // the same id: receivers drop the duplicate
  EXPECT_EQ(delivery(task, "email")->status, "delivered");
}

// Sharing the database (PostgreSQL, several processes): each process arms its timer for the
// reminders its own consumer scheduled; the others' are found by looking again every
// shared_rescan, which is what fires them when the process that scheduled them died.
TEST_P(NotifyServiceTest, SharingTheDatabaseRemindersAnotherProcessScheduledStillFire) {
  NotifyOptions shared;
  shared.shared_rescan = 2s;
  make_service(shared);
  service_->recover();
  service_->run_due();
  auto survivor = std::move(service_);
  ASSERT_TRUE(survivor->armed_for());  // nothing is scheduled, and it looks again in 2 s
  EXPECT_EQ(*survivor->armed_for(), kStart + 2s);

  make_service(shared);  // the other process
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  service_.reset();  // and it dies before the instant

  clock_.set(kStart + 30min);
  survivor->run_due();
  EXPECT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(
      rows(task),
      (std::vector<std::pair<std::string, std::string>>{{"2026-12-06T08:30:00.000Z", "sent"}}));
}

// Sharing the database, a delivery in `sending` may be another live process's send in progress:
// a start leaves it alone, and it is sent again only once it is stale_sending old.
TEST_P(NotifyServiceTest, SharingTheDatabaseOnlyStaleSendsAreSentAgain) {
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  clock_.set(kStart + 30min);
  service_->run_due();
  ASSERT_EQ(email_.sent.size(), 1u);
  const auto id = delivery(task, "email")->id;
  database_->write([&](store::Transaction& tx) {
    tx.execute("UPDATE deliveries SET status = 'sending', updated_at = $2 WHERE id = $1",
               {id, domain::to_micros(clock_.now())});
  });

  NotifyOptions shared;
  shared.shared_rescan = 2s;
  shared.stale_sending = 2min;
  make_service(shared);
  service_->recover();
  service_->run_due();
  EXPECT_EQ(delivery(task, "email")->status, "sending");  // someone else's send, maybe
  clock_.advance(1min);
  service_->run_due();
  EXPECT_EQ(delivery(task, "email")->status, "sending");
  EXPECT_EQ(email_.sent.size(), 1u);

  clock_.advance(1min);  // two minutes in `sending`: its sender is gone
  service_->run_due();
  EXPECT_EQ(email_.sent.size(), 2u);
  EXPECT_EQ(email_.sent[1].first.delivery_id, id);
  EXPECT_EQ(delivery(task, "email")->status, "delivered");
}

TEST_P(NotifyServiceTest, AnUnconfiguredChannelIsRecordedNotSent) {
  email_.configured_ = false;
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  clock_.set(kStart + 30min);
  service_->run_due();
  EXPECT_TRUE(email_.sent.empty());
  const auto d = delivery(task, "email").value();
  EXPECT_EQ(d.status, "not-configured");
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(service_->metrics().deliveries("email", "not-configured"), 1);
}

TEST_P(NotifyServiceTest, ATargetTheProviderCallsGoneIsRemoved) {
  const std::string target_id = "01900000-0000-7000-8000-00000000aaaa";
  database_->write([&](store::Transaction& tx) {
    NotifyRepository().insert_target(
        tx, StoredTarget{target_id, owner_.id, "email", "other@example.com", "", kStart});
  });
  email_.script = {{Outcome::kTargetGone, "", "mailbox does not exist"}};
  const Timestamp due = kStart + 1h;
  const std::string task = insert_task(due, {30});
  schedule(task, due, {30});
  clock_.set(kStart + 30min);
  service_->run_due();
  ASSERT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(email_.sent[0].second.address, "other@example.com");  // the target replaces the default
  EXPECT_EQ(delivery(task, "email")->status, "target-gone");
  const auto left = store::read_value(*database_, [&](store::Transaction& tx) {
    return NotifyRepository().targets_of(tx, owner_.id).size();
  });
  EXPECT_EQ(left, 0u);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(NotifyServiceTest);

TEST(ReminderEvents, MalformedEventsArePermanentFailures) {
  EXPECT_THROW(parse_reminder_event("[]"), bus::PermanentFailure);
  EXPECT_THROW(parse_reminder_event(
                   R"({"type":"com.todo.task.created","time":"2026-12-06T08:00:00Z","data":{}})"),
               bus::PermanentFailure);
  EXPECT_THROW(
      parse_reminder_event(
          R"({"type":"com.todo.reminder.schedule","time":"2026-12-06T08:00:00Z","data":{"task_id":"t","user_id":"u","reminder_times":["x"]}})"),
      bus::PermanentFailure);
  const auto ok = parse_reminder_event(
      R"({"type":"com.todo.reminder.schedule","time":"2026-12-06T08:00:00Z","data":{"task_id":"t","user_id":"u","reminder_times":["2026-12-06T09:00:00Z","2026-12-06T07:00:00Z","2026-12-06T09:00:00Z"]}})");
  EXPECT_EQ(ok.instants.size(), 1u);
}

}  // namespace
}  // namespace todo::notify

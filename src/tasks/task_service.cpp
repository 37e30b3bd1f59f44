// Task changes: validation, versioning, the owner's change counter and the outbox, all in one
// transaction per change.
#include "tasks/task_service.h"

#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>

#include "domain/ids.h"
#include "domain/recurrence.h"
#include "domain/task_events.h"
#include "domain/task_json.h"
#include "domain/text.h"

namespace todo::tasks {
namespace {

using domain::ErrorCode;

domain::Error task_not_found() {
  return domain::make_error(ErrorCode::kTaskNotFound, "No such task.");
}

domain::Error version_conflict(const domain::Task& current) {
  domain::Error e =
      domain::make_error(ErrorCode::kVersionConflict,
                         "The task changed since version you sent; its current version is " +
                             std::to_string(current.version) + ".");
  e.extensions.emplace_back("task", domain::task_json_text(current));
  return e;
}

domain::TaskAction action_for(const domain::Task& before, const domain::Task& after) {
  if (before.status != after.status && after.status == domain::TaskStatus::kCompleted) {
    return domain::TaskAction::kCompleted;
  }
  return domain::TaskAction::kUpdated;
}

domain::Error user_not_found() {
  return domain::make_error(ErrorCode::kUserNotFound, "No such account.");
}

domain::Error kept_changing() {
  domain::Error e =
      domain::make_error(ErrorCode::kOverloaded,
                         "The task kept changing while this change was being made; try again.");
  e.retry_after_seconds = 1;
  return e;
}

// Bookkeeping that follows from a change: completion time, series membership and the series
// anchor (re-anchored when the rule, due date, all-day flag or time zone changes). Counting the
// occurrences before a re-anchored due date is bounded: a rule that matches too rarely is a 422.
domain::Result<domain::Task> settle(domain::Task task, const domain::Task* before,
                                    domain::Timestamp now, const domain::ZoneCatalog& zones) {
  bool was_completed = before && before->status == domain::TaskStatus::kCompleted;
  if (task.status == domain::TaskStatus::kCompleted && !was_completed) task.completed_at = now;
  if (task.status == domain::TaskStatus::kPending) task.completed_at.reset();
  if (task.recurrence && !task.series_id) task.series_id = task.id;
  domain::RecurrenceBudget budget;
  return domain::anchor_series(std::move(task), before, zones, budget);
}

template <class T>
Outcome<T> outcome_of(domain::Result<T> result) {
  return [result = std::move(result)] { return result; };
}

template <class T>
Outcome<T> outcome_of(std::exception_ptr error) {
  return [error]() -> domain::Result<T> { std::rethrow_exception(error); };
}

// Runs an asynchronous call (`start(resume, done)`) and waits for its outcome on this thread,
// which also runs the steps the call resumes: a synchronous call behaves as it did before it had
// an asynchronous twin.
template <class T, class Start>
domain::Result<T> wait_here(Start&& start) {
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::function<void()>> steps;
    std::optional<Outcome<T>> outcome;
  } state;
  const Resume resume = [&state](std::function<void()> step) {
    std::lock_guard lock(state.mutex);
    state.steps.push_back(std::move(step));
    state.changed.notify_one();
  };
  // Notified under the lock: this thread cannot return (and destroy `state`) before the caller
  // of done, perhaps the writer thread, has let go of it.
  const Done<T> done = [&state](Outcome<T> outcome) {
    std::lock_guard lock(state.mutex);
    state.outcome = std::move(outcome);
    state.changed.notify_one();
  };
  start(resume, done);
  std::unique_lock lock(state.mutex);
  for (;;) {
    state.changed.wait(lock, [&] { return state.outcome || !state.steps.empty(); });
    if (state.outcome) break;
    auto step = std::move(state.steps.front());
    state.steps.pop_front();
    lock.unlock();
    step();
    lock.lock();
  }
  return (*state.outcome)();
}

// The answer to a create whose Idempotency-Key was seen: the first response, or 422 when the key
// came with another request.
domain::Result<CreatedTask> replay(store::StoredResponse seen, const IdempotencyKey& key) {
  if (seen.request_hash != key.request_hash) {
    return domain::make_error(ErrorCode::kIdempotencyMismatch,
                              "This Idempotency-Key was used with a different request.");
  }
  return CreatedTask{domain::Task{}, std::move(seen)};
}

}  // namespace

TaskService::TaskService(TaskDependencies deps, domain::QuotaLimits quotas)
    : deps_(deps),
      quotas_(quotas),
      tasks_([](std::string_view text) { return domain::casefold(text); }) {}

PreparedWrite TaskService::prepare(domain::TaskAction action,
                                   const std::optional<domain::Task>& before, domain::Task after,
                                   domain::ChangedFields changed, const domain::User& owner,
                                   domain::Timestamp now,
                                   std::optional<std::int64_t> expected_version,
                                   std::string_view actor, std::string_view source) {
  domain::TaskChange change;
  change.action = action;
  change.before = before;
  change.after = std::move(after);
  change.changed = std::move(changed);
  change.actor = actor.empty() ? "user:" + owner.id : std::string(actor);
  change.source = source.empty() ? "todo-api" : std::string(source);
  change.owner = &owner;
  change.time = now;
  PreparedWrite write;
  write.events = domain::pending_task_change_events(change, deps_.random);
  write.keys = tasks_.search_keys(change.after);
  write.usage = domain::usage_change(change.before ? &*change.before : nullptr, &change.after);
  write.task = std::move(change.after);
  write.now = now;
  write.expected_version = expected_version;
  return write;
}

domain::Result<std::optional<domain::Task>> TaskService::write_prepared(
    store::Transaction& s, const PreparedWrite& write) const {
  domain::Task task = write.task;
  if (write.expected_version &&
      tasks_.version_of(s, task.user_id, task.id) != write.expected_version) {
    return std::optional<domain::Task>();  // before the change counter moves: nothing to undo
  }
  // The version read is the stored one, so the usage change computed from it is exact.
  if (auto used = usage_.apply(s, task.user_id, write.usage, quotas_); !used) return used.error();
  task.change_seq = users_.next_change_seq(s, task.user_id);
  if (write.expected_version) {
    tasks_.update(s, task, write.keys);
  } else {
    tasks_.insert(s, task, write.keys);
  }
  for (const domain::PendingEvent& event : write.events) {
    outbox_.append_unread(s,
                          store::OutboxMessage{event.topic, event.partition, event.key, event.id,
                                               event.json(task.change_seq)},
                          write.now);
  }
  return std::optional<domain::Task>(std::move(task));
}

domain::Result<CreatedTask> TaskService::create(const std::string& user_id,
                                                const domain::TaskInput& input,
                                                const std::optional<IdempotencyKey>& idempotency,
                                                const ResponseRenderer& render) {
  return wait_here<CreatedTask>([&](const Resume&, const Done<CreatedTask>& done) {
    create_async(user_id, input, idempotency, render, done);
  });
}

void TaskService::create_async(const std::string& user_id, const domain::TaskInput& input,
                               const std::optional<IdempotencyKey>& idempotency,
                               const ResponseRenderer& render, Done<CreatedTask> done) {
  struct Read {
    std::optional<domain::User> owner;
    std::optional<store::StoredResponse> seen;
  };
  const auto read_owner = [&](store::Transaction& s) {
    Read r;
    if (idempotency) r.seen = idempotency_.find(s, user_id, idempotency->key);
    if (!r.seen) r.owner = users_.find_by_id(s, user_id);
    return r;
  };
  // Without a key, the owner is all there is to read: one statement.
  auto read = idempotency ? store::read_value(deps_.database, read_owner)
                          : store::read_statement_value(deps_.database, read_owner);
  if (read.seen) return done(outcome_of(replay(std::move(*read.seen), *idempotency)));
  if (!read.owner) return done(outcome_of<CreatedTask>(user_not_found()));
  const domain::User& owner = *read.owner;

  domain::Task fresh;
  auto applied = domain::apply_task_input(fresh, input, true, {deps_.zones, owner});
  if (!applied) return done(outcome_of<CreatedTask>(applied.error()));
  domain::Task task = std::move(*applied);
  const auto now = deps_.clock.now();
  task.id = domain::new_uuid_v7(now, deps_.random);
  task.user_id = user_id;
  task.version = 1;
  task.created_at = now;
  task.updated_at = now;
  auto settled = settle(std::move(task), nullptr, now, deps_.zones);
  if (!settled) return done(outcome_of<CreatedTask>(settled.error()));

  // What the write needs, owned: the request's thread does not wait for it.
  struct Pending {
    PreparedWrite write;
    std::optional<IdempotencyKey> idempotency;
    std::optional<store::StoredResponse> first;
    std::string user_id;
    domain::Result<CreatedTask> result;
  };
  auto pending = std::make_shared<Pending>();
  pending->write = prepare(domain::TaskAction::kCreated, std::nullopt, std::move(*settled), {},
                           owner, now, std::nullopt);
  pending->idempotency = idempotency;
  pending->user_id = user_id;
  if (idempotency) {
    auto& first = pending->first.emplace(render(pending->write.task));
    first.user_id = user_id;
    first.key = idempotency->key;
    first.request_hash = idempotency->request_hash;
    first.created_at = now;
  }
  deps_.database.write_async(
      [this, pending](store::Transaction& s) {
        pending->result = [&]() -> domain::Result<CreatedTask> {
          if (pending->idempotency) {
            // The same key may have been used by a request that raced this one.
            if (auto seen = idempotency_.find(s, pending->user_id, pending->idempotency->key)) {
              return replay(std::move(*seen), *pending->idempotency);
            }
          }
          auto stored = write_prepared(s, pending->write);
          if (!stored) return stored.error();  // a quota: the key stays free for a retry
          if (pending->first) idempotency_.insert(s, *pending->first);
          return CreatedTask{std::move(**stored), std::nullopt};
        }();
      },
      [pending, done = std::move(done)](std::exception_ptr error) {
        if (error) return done(outcome_of<CreatedTask>(error));
        done(outcome_of(std::move(pending->result)));
      });
}

PreparedWrite TaskService::prepare_generated(domain::Task task, const domain::User& owner,
                                             std::string_view actor, std::string_view source) {
  const auto now = deps_.clock.now();
  task.id = domain::new_uuid_v7(now, deps_.random);
  task.user_id = owner.id;
  task.version = 1;
  task.created_at = now;
  task.updated_at = now;
  task.deleted_at.reset();
  // No settle(): the task arrives with its series state (make_next_task), which re-anchoring
  // would reset.
  return prepare(domain::TaskAction::kCreated, std::nullopt, std::move(task), {}, owner, now,
                 std::nullopt, actor, source);
}

std::optional<domain::Task> TaskService::find_in(store::Transaction& s, const std::string& user_id,
                                                 const std::string& id) const {
  return tasks_.find(s, user_id, id, /*include_deleted=*/true);
}

domain::Result<domain::Task> TaskService::get(const std::string& user_id, const std::string& id) {
  return wait_here<domain::Task>(
      [&](const Resume&, const Done<domain::Task>& done) { get_async(user_id, id, done); });
}

void TaskService::get_async(const std::string& user_id, const std::string& id,
                            Done<domain::Task> done) {
  tasks_.find_async(
      deps_.database, user_id, id,
      [done = std::move(done)](std::exception_ptr error, std::optional<domain::Task> task) {
        done([error, task = std::move(task)]() -> domain::Result<domain::Task> {
          if (error) std::rethrow_exception(error);
          if (!task) return task_not_found();
          return *task;
        });
      });
}

void TaskService::change_async(std::string user_id, std::string id,
                               std::optional<std::int64_t> if_match, Computation compute,
                               Resume resume, Done<domain::Task> done, int attempt) {
  struct Read {
    std::optional<domain::Task> task;
    std::optional<domain::User> owner;
  };
  auto read = store::read_value(deps_.database, [&](store::Transaction& s) {
    Read r;
    r.task = tasks_.find(s, user_id, id);
    if (r.task) r.owner = users_.find_by_id(s, user_id);
    return r;
  });
  if (!read.task) return done(outcome_of<domain::Task>(task_not_found()));
  const domain::Task& current = *read.task;
  if (if_match && *if_match != current.version) {
    return done(outcome_of<domain::Task>(version_conflict(current)));
  }
  if (!read.owner) return done(outcome_of<domain::Task>(user_not_found()));
  auto write = compute(current, *read.owner, deps_.clock.now());
  if (!write) return done(outcome_of<domain::Task>(write.error()));
  if (!*write) return done(outcome_of<domain::Task>(current));  // nothing to do

  struct Pending {
    PreparedWrite write;
    domain::Result<std::optional<domain::Task>> stored;
  };
  auto pending = std::make_shared<Pending>();
  pending->write = std::move(**write);
  deps_.database.write_async(
      [this, pending](store::Transaction& s) { pending->stored = write_prepared(s, pending->write); },
      [this, pending, user_id = std::move(user_id), id = std::move(id), if_match,
       compute = std::move(compute), resume = std::move(resume), done = std::move(done),
       attempt](std::exception_ptr error) mutable {
        if (error) return done(outcome_of<domain::Task>(error));
        if (!pending->stored) return done(outcome_of<domain::Task>(pending->stored.error()));
        if (*pending->stored) return done(outcome_of<domain::Task>(std::move(**pending->stored)));
        // Another write came between the read and this one: with If-Match the next read
        // answers 412; without, the change is computed again from the task as it is now — on
        // a thread that may block, not on this one (the writer's).
        if (attempt + 1 >= kWriteAttempts) return done(outcome_of<domain::Task>(kept_changing()));
        auto again = [this, user_id = std::move(user_id), id = std::move(id), if_match,
                      compute = std::move(compute), resume, done = std::move(done),
                      attempt]() mutable {
          change_async(std::move(user_id), std::move(id), if_match, std::move(compute),
                       std::move(resume), std::move(done), attempt + 1);
        };
        resume(std::move(again));
      });
}

TaskService::Computation TaskService::updating(Mutation mutate) {
  return [this, mutate = std::move(mutate)](const domain::Task& current, const domain::User& owner,
                                            domain::Timestamp now) {
    return compute_update(current, owner, now, mutate);
  };
}

domain::Result<std::optional<PreparedWrite>> TaskService::compute_update(
    const domain::Task& current, const domain::User& owner, domain::Timestamp now,
    const Mutation& mutate) {
  auto next = mutate(current, owner);
  if (!next) return next.error();
  domain::Task after = std::move(*next);
  domain::ChangedFields changed = domain::changed_fields(current, after);
  if (changed.empty()) return std::optional<PreparedWrite>();
  after.version = current.version + 1;
  after.updated_at = now;
  auto settled = settle(std::move(after), &current, now, deps_.zones);
  if (!settled) return settled.error();
  const domain::TaskAction action = action_for(current, *settled);
  return std::optional<PreparedWrite>(prepare(action, current, std::move(*settled),
                                              std::move(changed), owner, now, current.version));
}

domain::Result<domain::Task> TaskService::update(const std::string& user_id, const std::string& id,
                                                 const domain::TaskInput& input, bool replace,
                                                 std::optional<std::int64_t> if_match) {
  return wait_here<domain::Task>([&](const Resume& resume, const Done<domain::Task>& done) {
    update_async(user_id, id, input, replace, if_match, resume, done);
  });
}

void TaskService::update_async(const std::string& user_id, const std::string& id,
                               const domain::TaskInput& input, bool replace,
                               std::optional<std::int64_t> if_match, Resume resume,
                               Done<domain::Task> done) {
  Mutation apply = [this, input, replace](const domain::Task& current, const domain::User& owner) {
    return domain::apply_task_input(current, input, replace, {deps_.zones, owner});
  };
  change_async(user_id, id, if_match, updating(std::move(apply)), std::move(resume),
               std::move(done));
}

domain::Result<domain::Task> TaskService::set_status(const std::string& user_id,
                                                     const std::string& id,
                                                     domain::TaskStatus status,
                                                     std::optional<std::int64_t> if_match) {
  return wait_here<domain::Task>([&](const Resume& resume, const Done<domain::Task>& done) {
    set_status_async(user_id, id, status, if_match, resume, done);
  });
}

void TaskService::set_status_async(const std::string& user_id, const std::string& id,
                                   domain::TaskStatus status, std::optional<std::int64_t> if_match,
                                   Resume resume, Done<domain::Task> done) {
  Mutation apply = [status](const domain::Task& current,
                            const domain::User&) -> domain::Result<domain::Task> {
    domain::Task next = current;
    next.status = status;
    return next;
  };
  change_async(user_id, id, if_match, updating(std::move(apply)), std::move(resume),
               std::move(done));
}

domain::Result<domain::Task> TaskService::toggle(const std::string& user_id,
                                                 const std::string& id) {
  return wait_here<domain::Task>([&](const Resume& resume, const Done<domain::Task>& done) {
    toggle_async(user_id, id, resume, done);
  });
}

void TaskService::toggle_async(const std::string& user_id, const std::string& id, Resume resume,
                               Done<domain::Task> done) {
  Mutation apply = [](const domain::Task& current,
                      const domain::User&) -> domain::Result<domain::Task> {
    domain::Task next = current;
    next.status = current.status == domain::TaskStatus::kCompleted ? domain::TaskStatus::kPending
                                                                   : domain::TaskStatus::kCompleted;
    return next;
  };
  change_async(user_id, id, std::nullopt, updating(std::move(apply)), std::move(resume),
               std::move(done));
}

domain::Result<void> TaskService::remove(const std::string& user_id, const std::string& id,
                                         std::optional<std::int64_t> if_match) {
  return wait_here<void>([&](const Resume& resume, const Done<void>& done) {
    remove_async(user_id, id, if_match, resume, done);
  });
}

void TaskService::remove_async(const std::string& user_id, const std::string& id,
                               std::optional<std::int64_t> if_match, Resume resume,
                               Done<void> done) {
  Computation tombstone = [this](const domain::Task& current, const domain::User& owner,
                                 domain::Timestamp now)
      -> domain::Result<std::optional<PreparedWrite>> {
    domain::Task after = current;
    after.version = current.version + 1;
    after.updated_at = now;
    after.deleted_at = now;
    return std::optional<PreparedWrite>(prepare(domain::TaskAction::kDeleted, current,
                                                std::move(after), {}, owner, now,
                                                current.version));
  };
  change_async(user_id, id, if_match, std::move(tombstone), std::move(resume),
               [done = std::move(done)](Outcome<domain::Task> outcome) {
                 done([outcome = std::move(outcome)]() -> domain::Result<void> {
                   auto removed = outcome();
                   if (!removed) return removed.error();
                   return {};
                 });
               });
}

std::vector<std::pair<std::string, domain::Timestamp>> TaskService::all_day_day_starts(
    store::Transaction& s, const std::string& user_id, domain::Timestamp now) const {
  // An all-day task is overdue once its day has ended in its own time zone.
  std::vector<std::pair<std::string, domain::Timestamp>> starts;
  for (std::string& name :
       tasks_.all_day_zones_due_between(s, user_id, now - store::kAllDayOverdueWindow, now)) {
    const auto zone = deps_.zones.find(name);
    if (!zone) continue;  // counted like a timed task
    const domain::LocalDate today = zone->to_local(now).date();
    starts.emplace_back(std::move(name),
                        zone->to_utc(domain::LocalDateTime{today.year, today.month, today.day}));
  }
  return starts;
}

TaskPage TaskService::list(const store::TaskQuery& query) {
  store::TaskQuery probe = query;
  probe.limit = query.limit + 1;  // one more tells whether another page exists
  TaskPage page;
  const auto list_page = [&](store::Transaction& s) {
    if (probe.overdue_at) {
      probe.all_day_day_starts = all_day_day_starts(s, probe.user_id, *probe.overdue_at);
    }
    return tasks_.list(s, probe);
  };
  // Without the overdue filter, the page is one statement.
  page.items = probe.overdue_at ? store::read_value(deps_.database, list_page)
                                : store::read_statement_value(deps_.database, list_page);
  if (static_cast<int>(page.items.size()) > query.limit) {
    page.items.resize(static_cast<std::size_t>(query.limit));
    page.has_more = true;
  }
  return page;
}

std::vector<domain::Task> TaskService::list_all(store::TaskQuery query) {
  query.after = std::nullopt;
  // No page limit: the account's live tasks are bounded by its quota (QuotaLimits::tasks).
  query.limit = std::numeric_limits<int>::max();
  return store::read_value(deps_.database, [&](store::Transaction& s) {
    if (query.overdue_at) {
      query.all_day_day_starts = all_day_day_starts(s, query.user_id, *query.overdue_at);
    }
    return tasks_.list(s, query);
  });
}

domain::Result<SyncPage> TaskService::sync(const std::string& user_id, std::int64_t since,
                                           int limit) {
  return store::read_value(deps_.database, [&](store::Transaction& s) -> domain::Result<SyncPage> {
    if (since < tasks_.purged_through(s, user_id)) {
      return domain::make_error(ErrorCode::kResyncRequired,
                                "Deletions older than this cursor are no longer kept; fetch the "
                                "full list and sync from its cursor.");
    }
    SyncPage page;
    page.items = tasks_.changed_since(s, user_id, since, limit + 1);
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.resize(static_cast<std::size_t>(limit));
      page.has_more = true;
    }
    page.cursor = page.items.empty() ? since : page.items.back().change_seq;
    if (page.items.empty()) {
      // A cursor from the future (or another server) cannot be trusted: start over.
      auto owner = users_.find_by_id(s, user_id);
      if (owner && since > owner->change_seq) {
        return domain::make_error(ErrorCode::kResyncRequired,
                                  "This cursor is ahead of the server; resync from the start.");
      }
    }
    return page;
  });
}

void TaskService::purge(std::chrono::hours tombstone_age) {
  auto now = deps_.clock.now();
  deps_.database.write([&](store::Transaction& s) {
    tasks_.purge_tombstones(s, now - tombstone_age);
    idempotency_.purge(s, now - std::chrono::hours(24));
  });
}

}  // namespace todo::tasks

// Task changes: validation, versioning, the owner's change counter and the outbox, all in one
// transaction per change.
#include "tasks/task_service.h"

#include <boost/json.hpp>
#include <limits>

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
    outbox_.append(s,
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
  if (read.seen) return replay(std::move(*read.seen), *idempotency);
  if (!read.owner) return user_not_found();
  const domain::User& owner = *read.owner;

  domain::Task fresh;
  auto applied = domain::apply_task_input(fresh, input, true, {deps_.zones, owner});
  if (!applied) return applied.error();
  domain::Task task = std::move(*applied);
  const auto now = deps_.clock.now();
  task.id = domain::new_uuid_v7(now, deps_.random);
  task.user_id = user_id;
  task.version = 1;
  task.created_at = now;
  task.updated_at = now;
  auto settled = settle(std::move(task), nullptr, now, deps_.zones);
  if (!settled) return settled.error();
  const PreparedWrite write = prepare(domain::TaskAction::kCreated, std::nullopt,
                                      std::move(*settled), {}, owner, now, std::nullopt);
  std::optional<store::StoredResponse> first;
  if (idempotency) {
    first = render(write.task);
    first->user_id = user_id;
    first->key = idempotency->key;
    first->request_hash = idempotency->request_hash;
    first->created_at = now;
  }

  return store::write_value(deps_.database,
                            [&](store::Transaction& s) -> domain::Result<CreatedTask> {
                              if (idempotency) {
                                // The same key may have been used by a request that raced this one.
                                if (auto seen = idempotency_.find(s, user_id, idempotency->key)) {
                                  return replay(std::move(*seen), *idempotency);
                                }
                              }
                              auto stored = write_prepared(s, write);
                              if (!stored)
                                return stored.error();  // a quota: the key stays free for a retry
                              if (first) idempotency_.insert(s, *first);
                              return CreatedTask{std::move(**stored), std::nullopt};
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
  auto task = store::read_statement_value(
      deps_.database, [&](store::Transaction& s) { return tasks_.find(s, user_id, id); });
  if (!task) return task_not_found();
  return std::move(*task);
}

domain::Result<domain::Task> TaskService::change(const std::string& user_id, const std::string& id,
                                                 std::optional<std::int64_t> if_match,
                                                 const Computation& compute) {
  struct Read {
    std::optional<domain::Task> task;
    std::optional<domain::User> owner;
  };
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto read = store::read_value(deps_.database, [&](store::Transaction& s) {
      Read r;
      r.task = tasks_.find(s, user_id, id);
      if (r.task) r.owner = users_.find_by_id(s, user_id);
      return r;
    });
    if (!read.task) return task_not_found();
    const domain::Task& current = *read.task;
    if (if_match && *if_match != current.version) return version_conflict(current);
    if (!read.owner) return user_not_found();
    auto write = compute(current, *read.owner, deps_.clock.now());
    if (!write) return write.error();
    if (!*write) return current;  // nothing to do
    auto stored = store::write_value(
        deps_.database, [&](store::Transaction& s) { return write_prepared(s, **write); });
    if (!stored) return stored.error();
    if (*stored) return std::move(**stored);
    // Another write came between the read and this one: with If-Match the next read answers
    // 412; without, the change is computed again from the task as it is now.
  }
  return kept_changing();
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
  const Mutation apply = [&](const domain::Task& current, const domain::User& owner) {
    return domain::apply_task_input(current, input, replace, {deps_.zones, owner});
  };
  return change(user_id, id, if_match,
                [&](const domain::Task& current, const domain::User& owner, domain::Timestamp now) {
                  return compute_update(current, owner, now, apply);
                });
}

domain::Result<domain::Task> TaskService::set_status(const std::string& user_id,
                                                     const std::string& id,
                                                     domain::TaskStatus status,
                                                     std::optional<std::int64_t> if_match) {
  const Mutation apply = [&](const domain::Task& current,
                             const domain::User&) -> domain::Result<domain::Task> {
    domain::Task next = current;
    next.status = status;
    return next;
  };
  return change(user_id, id, if_match,
                [&](const domain::Task& current, const domain::User& owner, domain::Timestamp now) {
                  return compute_update(current, owner, now, apply);
                });
}

domain::Result<domain::Task> TaskService::toggle(const std::string& user_id,
                                                 const std::string& id) {
  const Mutation apply = [](const domain::Task& current,
                            const domain::User&) -> domain::Result<domain::Task> {
    domain::Task next = current;
    next.status = current.status == domain::TaskStatus::kCompleted ? domain::TaskStatus::kPending
                                                                   : domain::TaskStatus::kCompleted;
    return next;
  };
  return change(user_id, id, std::nullopt,
                [&](const domain::Task& current, const domain::User& owner, domain::Timestamp now) {
                  return compute_update(current, owner, now, apply);
                });
}

domain::Result<void> TaskService::remove(const std::string& user_id, const std::string& id,
                                         std::optional<std::int64_t> if_match) {
  auto removed = change(user_id, id, if_match,
                        [&](const domain::Task& current, const domain::User& owner,
                            domain::Timestamp now) -> domain::Result<std::optional<PreparedWrite>> {
                          domain::Task tombstone = current;
                          tombstone.version = current.version + 1;
                          tombstone.updated_at = now;
                          tombstone.deleted_at = now;
                          return std::optional<PreparedWrite>(
                              prepare(domain::TaskAction::kDeleted, current, std::move(tombstone),
                                      {}, owner, now, current.version));
                        });
  if (!removed) return removed.error();
  return {};
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

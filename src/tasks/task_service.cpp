// Task changes: validation, versioning, the owner's change counter and the outbox, all in one
// transaction per change.
#include "tasks/task_service.h"

#include "domain/ids.h"
#include "domain/recurrence.h"
#include "domain/task_events.h"
#include "domain/task_json.h"
#include "domain/text.h"

#include <boost/json.hpp>

namespace todo::tasks {
namespace {

using domain::ErrorCode;

domain::Error task_not_found() {
  return domain::make_error(ErrorCode::kTaskNotFound, "No such task.");
}

domain::Error version_conflict(const domain::Task& current) {
  domain::Error e = domain::make_error(
      ErrorCode::kVersionConflict,
      "The task changed since version you sent; its current version is " +
          std::to_string(current.version) + ".");
  e.extensions.emplace_back("task", boost::json::serialize(domain::task_to_json(current)));
  return e;
}

domain::TaskAction action_for(const domain::Task& before, const domain::Task& after) {
  if (before.status != after.status && after.status == domain::TaskStatus::kCompleted) {
    return domain::TaskAction::kCompleted;
  }
  return domain::TaskAction::kUpdated;
}

// Bookkeeping that follows from a change: completion time, series membership and the series
// anchor (re-anchored when the rule, due date, all-day flag or time zone changes).
domain::Task settle(domain::Task task, const domain::Task* before, domain::Timestamp now,
                    const domain::ZoneCatalog& zones) {
  bool was_completed = before && before->status == domain::TaskStatus::kCompleted;
  if (task.status == domain::TaskStatus::kCompleted && !was_completed) task.completed_at = now;
  if (task.status == domain::TaskStatus::kPending) task.completed_at.reset();
  if (task.recurrence && !task.series_id) task.series_id = task.id;
  return domain::anchor_series(std::move(task), before, zones);
}

}  // namespace

TaskService::TaskService(TaskDependencies deps)
    : deps_(deps), tasks_([](std::string_view text) { return domain::casefold(text); }) {}

void TaskService::record_change(store::Transaction& s, domain::TaskAction action,
                                const std::optional<domain::Task>& before,
                                const domain::Task& after, domain::ChangedFields changed,
                                const domain::User& owner, domain::Timestamp now,
                                std::string_view actor, std::string_view source) {
  domain::TaskChange change;
  change.action = action;
  change.before = before;
  change.after = after;
  change.changed = std::move(changed);
  change.actor = actor.empty() ? "user:" + owner.id : std::string(actor);
  change.source = source.empty() ? "todo-api" : std::string(source);
  change.user_seq = after.change_seq;
  change.owner = &owner;
  change.time = now;
  for (auto& event : domain::task_change_events(change, deps_.random)) {
    outbox_.append(s,
                   store::OutboxMessage{std::move(event.topic), event.partition,
                                        std::move(event.key), std::move(event.id),
                                        std::move(event.json)},
                   now);
  }
}

domain::Result<CreatedTask> TaskService::create(const std::string& user_id,
                                                const domain::TaskInput& input,
                                                const std::optional<IdempotencyKey>& idempotency,
                                                const ResponseRenderer& render) {
  return store::write_value(
      deps_.database, [&](store::Transaction& s) -> domain::Result<CreatedTask> {
        if (idempotency) {
          if (auto seen = idempotency_.find(s, user_id, idempotency->key)) {
            if (seen->request_hash != idempotency->request_hash) {
              return domain::make_error(
                  ErrorCode::kIdempotencyMismatch,
                  "This Idempotency-Key was used with a different request.");
            }
            return CreatedTask{domain::Task{}, std::move(*seen)};
          }
        }
        auto owner = users_.find_by_id(s, user_id);
        if (!owner) return domain::make_error(ErrorCode::kUserNotFound, "No such account.");
        domain::Task fresh;
        auto applied = domain::apply_task_input(fresh, input, true, {deps_.zones, *owner});
        if (!applied) return applied.error();
        domain::Task task = std::move(*applied);
        auto now = deps_.clock.now();
        task.id = domain::new_uuid_v7(now, deps_.random);
        task.user_id = user_id;
        task.version = 1;
        task.created_at = now;
        task.updated_at = now;
        task = settle(std::move(task), nullptr, now, deps_.zones);
        task.change_seq = users_.next_change_seq(s, user_id);
        tasks_.insert(s, task);
        record_change(s, domain::TaskAction::kCreated, std::nullopt, task, {}, *owner, now);
        if (idempotency) {
          store::StoredResponse first = render(task);
          first.user_id = user_id;
          first.key = idempotency->key;
          first.request_hash = idempotency->request_hash;
          first.created_at = now;
          idempotency_.insert(s, first);
        }
        return CreatedTask{std::move(task), std::nullopt};
      });
}

domain::Task TaskService::insert_generated(store::Transaction& s, domain::Task task,
                                           const domain::User& owner, std::string_view actor,
                                           std::string_view source) {
  auto now = deps_.clock.now();
  task.id = domain::new_uuid_v7(now, deps_.random);
  task.user_id = owner.id;
  task.version = 1;
  task.created_at = now;
  task.updated_at = now;
  task.deleted_at.reset();
  // No settle(): the task arrives with its series state (make_next_task), which re-anchoring
  // would reset.
  task.change_seq = users_.next_change_seq(s, owner.id);
  tasks_.insert(s, task);
  record_change(s, domain::TaskAction::kCreated, std::nullopt, task, {}, owner, now, actor, source);
  return task;
}

std::optional<domain::Task> TaskService::find_in(store::Transaction& s, const std::string& user_id,
                                                 const std::string& id) const {
  return tasks_.find(s, user_id, id, /*include_deleted=*/true);
}

domain::Result<domain::Task> TaskService::get(const std::string& user_id, const std::string& id) {
  auto task = store::read_value(deps_.database,
                                [&](store::Transaction& s) { return tasks_.find(s, user_id, id); });
  if (!task) return task_not_found();
  return std::move(*task);
}

domain::Result<domain::Task> TaskService::mutate(const std::string& user_id, const std::string& id,
                                                 std::optional<std::int64_t> if_match,
                                                 const Mutation& change) {
  return store::write_value(
      deps_.database, [&](store::Transaction& s) -> domain::Result<domain::Task> {
        auto current = tasks_.find(s, user_id, id);
        if (!current) return task_not_found();
        if (if_match && *if_match != current->version) return version_conflict(*current);
        auto owner = users_.find_by_id(s, user_id);
        if (!owner) return domain::make_error(ErrorCode::kUserNotFound, "No such account.");
        auto next = change(*current, *owner);
        if (!next) return next.error();
        domain::Task after = std::move(*next);
        domain::ChangedFields changed = domain::changed_fields(*current, after);
        if (changed.empty()) return *current;  // nothing to do
        auto now = deps_.clock.now();
        after.version = current->version + 1;
        after.updated_at = now;
        after = settle(std::move(after), &*current, now, deps_.zones);
        after.change_seq = users_.next_change_seq(s, user_id);
        tasks_.update(s, after);
        record_change(s, action_for(*current, after), *current, after, std::move(changed), *owner,
                      now);
        return after;
      });
}

domain::Result<domain::Task> TaskService::update(const std::string& user_id, const std::string& id,
                                                 const domain::TaskInput& input, bool replace,
                                                 std::optional<std::int64_t> if_match) {
  return mutate(user_id, id, if_match,
                [&](const domain::Task& current, const domain::User& owner) {
                  return domain::apply_task_input(current, input, replace, {deps_.zones, owner});
                });
}

domain::Result<domain::Task> TaskService::set_status(const std::string& user_id,
                                                     const std::string& id,
                                                     domain::TaskStatus status,
                                                     std::optional<std::int64_t> if_match) {
  return mutate(user_id, id, if_match,
                [&](const domain::Task& current, const domain::User&) -> domain::Result<domain::Task> {
                  domain::Task next = current;
                  next.status = status;
                  return next;
                });
}

domain::Result<domain::Task> TaskService::toggle(const std::string& user_id,
                                                 const std::string& id) {
  return mutate(user_id, id, std::nullopt,
                [&](const domain::Task& current, const domain::User&) -> domain::Result<domain::Task> {
                  domain::Task next = current;
                  next.status = current.status == domain::TaskStatus::kCompleted
                                    ? domain::TaskStatus::kPending
                                    : domain::TaskStatus::kCompleted;
                  return next;
                });
}

domain::Result<void> TaskService::remove(const std::string& user_id, const std::string& id,
                                         std::optional<std::int64_t> if_match) {
  return store::write_value(deps_.database, [&](store::Transaction& s) -> domain::Result<void> {
    auto current = tasks_.find(s, user_id, id);
    if (!current) return task_not_found();
    if (if_match && *if_match != current->version) return version_conflict(*current);
    auto owner = users_.find_by_id(s, user_id);
    if (!owner) return domain::make_error(ErrorCode::kUserNotFound, "No such account.");
    auto now = deps_.clock.now();
    domain::Task tombstone = *current;
    tombstone.version = current->version + 1;
    tombstone.updated_at = now;
    tombstone.deleted_at = now;
    tombstone.change_seq = users_.next_change_seq(s, user_id);
    tasks_.update(s, tombstone);
    record_change(s, domain::TaskAction::kDeleted, *current, tombstone, {}, *owner, now);
    return {};
  });
}

TaskPage TaskService::list(const store::TaskQuery& query) {
  store::TaskQuery probe = query;
  probe.limit = query.limit + 1;  // one more tells whether another page exists
  TaskPage page;
  page.items = store::read_value(deps_.database,
                                 [&](store::Transaction& s) { return tasks_.list(s, probe); });
  if (static_cast<int>(page.items.size()) > query.limit) {
    page.items.resize(static_cast<std::size_t>(query.limit));
    page.has_more = true;
  }
  return page;
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

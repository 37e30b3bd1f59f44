// The task write model, shared by the API and the recurring service: every change validated by the
// domain rules and written in ONE transaction with the owner's change counter and the change's
// events in the outbox. Plain synchronous code.
//
// A change is read (one read transaction), computed — validation, time zones, recurrence
// anchoring, event rendering — on the caller's thread, and then written by a closure that runs
// statements only on the database's single writer: the version check (compare-and-set against
// the version read), the change counter, the row, the outbox. When the version moved in between,
// the change is read and computed again (at most kWriteAttempts times), or, with If-Match, is the
// usual 412.
#pragma once

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/quota.h"
#include "domain/task.h"
#include "domain/task_events.h"
#include "domain/user.h"
#include "store/database.h"
#include "store/idempotency_repository.h"
#include "store/outbox.h"
#include "store/task_repository.h"
#include "store/usage_repository.h"
#include "store/user_repository.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace todo::tasks {

struct TaskDependencies {
  store::Database& database;
  const domain::ZoneCatalog& zones;
  const domain::Clock& clock;
  domain::RandomSource& random;
};

// An Idempotency-Key of a create, with the digest of the request it came with.
struct IdempotencyKey {
  std::string key;
  std::string request_hash;
};

struct CreatedTask {
  domain::Task task;
  std::optional<store::StoredResponse> replay;  // set when the key was seen: answer with it
};

struct TaskPage {
  std::vector<domain::Task> items;
  bool has_more = false;
};

// A change computed outside the write transaction; write_prepared runs its statements.
struct PreparedWrite {
  domain::Task task;  // the new state; its change_seq is allocated by the write
  store::TaskSearchKeys keys;
  std::vector<domain::PendingEvent> events;  // user_seq spliced in by the write
  domain::UsageChange usage;                 // how the owner's usage moves (quotas)
  domain::Timestamp now{};
  std::optional<std::int64_t> expected_version;  // update: the version read; nullopt: insert
};

// How often a change is read and computed again when another write moved the task in between.
inline constexpr int kWriteAttempts = 5;

struct SyncPage {
  std::vector<domain::Task> items;  // tombstones included
  std::int64_t cursor = 0;          // the change_seq to resume from
  bool has_more = false;
};

// How a stored first response of an idempotent create is rendered; called before the write (the
// task's change_seq is not known yet; the API's response does not show it).
using ResponseRenderer = std::function<store::StoredResponse(const domain::Task&)>;

// The asynchronous calls, which the API's write routes use so that a request holds no thread
// while its write waits for a group commit (Database::write_async):
// - `done` is called once with the outcome: a function that returns the result or rethrows the
//   call's exception. It may be called on the database's writer thread, so it only hands the
//   outcome over (to a pool) and returns.
// - `resume` runs a step on a thread that may block (the caller's pool): a change whose task
//   moved between its read and its write is read and computed again there, never on the writer.
// An exception thrown before the write was queued (a failed read) leaves the call instead.
template <class T>
using Outcome = std::function<domain::Result<T>()>;
template <class T>
using Done = std::function<void(Outcome<T>)>;
using Resume = std::function<void(std::function<void()>)>;

class TaskService {
 public:
  explicit TaskService(TaskDependencies deps, domain::QuotaLimits quotas = {});

  // The synchronous calls below run their asynchronous twin and wait on the calling thread.
  void create_async(const std::string& user_id, const domain::TaskInput& input,
                    const std::optional<IdempotencyKey>& idempotency,
                    const ResponseRenderer& render, Done<CreatedTask> done);
  void update_async(const std::string& user_id, const std::string& id,
                    const domain::TaskInput& input, bool replace,
                    std::optional<std::int64_t> if_match, Resume resume,
                    Done<domain::Task> done);
  void set_status_async(const std::string& user_id, const std::string& id,
                        domain::TaskStatus status, std::optional<std::int64_t> if_match,
                        Resume resume, Done<domain::Task> done);
  void toggle_async(const std::string& user_id, const std::string& id, Resume resume,
                    Done<domain::Task> done);
  void remove_async(const std::string& user_id, const std::string& id,
                    std::optional<std::int64_t> if_match, Resume resume, Done<void> done);
  // A read that holds no thread while the database answers (Database::read_statement_async).
  void get_async(const std::string& user_id, const std::string& id, Done<domain::Task> done);
  // True when get_async() returns without waiting for the database (it may be called on a
  // thread that must not block).
  bool get_async_returns_at_once() const { return deps_.database.reads_in_background(); }

  domain::Result<CreatedTask> create(const std::string& user_id, const domain::TaskInput& input,
                                     const std::optional<IdempotencyKey>& idempotency,
                                     const ResponseRenderer& render);
  domain::Result<domain::Task> get(const std::string& user_id, const std::string& id);
  // PATCH (replace = false) or PUT (replace = true).
  domain::Result<domain::Task> update(const std::string& user_id, const std::string& id,
                                      const domain::TaskInput& input, bool replace,
                                      std::optional<std::int64_t> if_match);
  // Complete or reopen; no new version when the task is already in that state.
  domain::Result<domain::Task> set_status(const std::string& user_id, const std::string& id,
                                          domain::TaskStatus status,
                                          std::optional<std::int64_t> if_match);
  // Completed ⇄ pending (the seed-compatible toggle).
  domain::Result<domain::Task> toggle(const std::string& user_id, const std::string& id);
  domain::Result<void> remove(const std::string& user_id, const std::string& id,
                              std::optional<std::int64_t> if_match);

  // Prepares, outside any transaction, the insert of a task the system made — the recurring
  // service's next occurrence: a new id, version 1 and its events, which name `actor` and `source`.
  PreparedWrite prepare_generated(domain::Task task, const domain::User& owner,
                                  std::string_view actor, std::string_view source);
  // Runs the statements of a prepared change in the caller's write transaction: the owner's usage
  // (checked against the quotas), change counter, the row (an update only while the version is
  // still the one read) and the outbox. Returns the task as stored, nullopt when the version moved,
  // or quota-exceeded; in both of the latter nothing was written.
  domain::Result<std::optional<domain::Task>> write_prepared(store::Transaction& s,
                                                             const PreparedWrite& write) const;

  // The owner's task as stored, tombstones included, read in the caller's transaction.
  std::optional<domain::Task> find_in(store::Transaction& s, const std::string& user_id,
                                      const std::string& id) const;

  TaskPage list(const store::TaskQuery& query);
  // Every task the query's filters match, in its order, as one list read in one transaction
  // (its position and limit are ignored): the seed-compatible list, which has no pages.
  std::vector<domain::Task> list_all(store::TaskQuery query);
  domain::Result<SyncPage> sync(const std::string& user_id, std::int64_t since, int limit);

  // Deletes tombstones older than `age` and idempotency keys older than a day.
  void purge(std::chrono::hours tombstone_age);

 private:
  using Mutation = std::function<domain::Result<domain::Task>(const domain::Task& current,
                                                              const domain::User& owner)>;
  // The write of a change of `current` (nullopt: nothing changes), computed outside the writer.
  using Computation = std::function<domain::Result<std::optional<PreparedWrite>>(
      const domain::Task& current, const domain::User& owner, domain::Timestamp now)>;

  // For an overdue filter at `now`: the start of the local day holding `now` in each zone of the
  // owner's all-day tasks due shortly before it (TaskQuery::all_day_day_starts).
  std::vector<std::pair<std::string, domain::Timestamp>> all_day_day_starts(
      store::Transaction& s, const std::string& user_id, domain::Timestamp now) const;
  // Reads the task and its owner, checks If-Match, computes the change and writes it with a
  // compare-and-set on the version read; again from the read (through `resume`) when the version
  // moved, at most kWriteAttempts times. Its outcome is the task as stored (the current one when
  // nothing changed).
  void change_async(std::string user_id, std::string id, std::optional<std::int64_t> if_match,
                    Computation compute, Resume resume, Done<domain::Task> done, int attempt = 0);
  // A Computation that applies `mutate` (compute_update), owning it.
  Computation updating(Mutation mutate);
  // A change of `current` by `mutate`, settled and with its events; nullopt when nothing changed.
  domain::Result<std::optional<PreparedWrite>> compute_update(const domain::Task& current,
                                                              const domain::User& owner,
                                                              domain::Timestamp now,
                                                              const Mutation& mutate);
  // The events of one change, rendered before the change counter is known; `changed` names the
  // fields that differ from `before` (empty for created and deleted). The author is the owner
  // ("user:<id>" through todo-api) unless `actor`/`source` say otherwise.
  PreparedWrite prepare(domain::TaskAction action, const std::optional<domain::Task>& before,
                        domain::Task after, domain::ChangedFields changed,
                        const domain::User& owner, domain::Timestamp now,
                        std::optional<std::int64_t> expected_version, std::string_view actor = {},
                        std::string_view source = {});

  TaskDependencies deps_;
  domain::QuotaLimits quotas_;
  store::TaskRepository tasks_;
  store::UserRepository users_;
  store::OutboxRepository outbox_;
  store::IdempotencyRepository idempotency_;
  store::UsageRepository usage_;
};

}  // namespace todo::tasks

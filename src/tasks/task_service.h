// The task write model, shared by the API and the recurring service: every change validated by the
// domain rules and written in ONE transaction with the owner's change counter and the change's
// events in the outbox. Plain synchronous code.
#pragma once

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/task.h"
#include "domain/task_events.h"
#include "domain/user.h"
#include "store/database.h"
#include "store/idempotency_repository.h"
#include "store/outbox.h"
#include "store/task_repository.h"
#include "store/user_repository.h"

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

struct SyncPage {
  std::vector<domain::Task> items;  // tombstones included
  std::int64_t cursor = 0;          // the change_seq to resume from
  bool has_more = false;
};

// How a stored first response of an idempotent create is rendered; called inside the transaction.
using ResponseRenderer = std::function<store::StoredResponse(const domain::Task&)>;

class TaskService {
 public:
  explicit TaskService(TaskDependencies deps);

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

  // Inserts a task the system made — the recurring service's next occurrence — in the caller's
  // transaction: a new id, version 1, the owner's change counter and its events, which name
  // `actor` and `source`. Returns the task as stored.
  domain::Task insert_generated(store::Transaction& s, domain::Task task, const domain::User& owner,
                                std::string_view actor, std::string_view source);

  // The owner's task as stored, tombstones included, read in the caller's transaction.
  std::optional<domain::Task> find_in(store::Transaction& s, const std::string& user_id,
                                      const std::string& id) const;

  TaskPage list(const store::TaskQuery& query);
  domain::Result<SyncPage> sync(const std::string& user_id, std::int64_t since, int limit);

  // Deletes tombstones older than `age` and idempotency keys older than a day.
  void purge(std::chrono::hours tombstone_age);

 private:
  using Mutation = std::function<domain::Result<domain::Task>(const domain::Task& current,
                                                              const domain::User& owner)>;
  // Loads the task, checks If-Match, applies `mutate` and, when something changed, writes the new
  // version, the change counter and the events.
  domain::Result<domain::Task> mutate(const std::string& user_id, const std::string& id,
                                      std::optional<std::int64_t> if_match, const Mutation& mutate);
  // Writes the events of one change to the outbox (inside the transaction); `changed` names the
  // fields that differ from `before` (empty for created and deleted).
  // The author is the owner ("user:<id>" through todo-api) unless `actor`/`source` say otherwise.
  void record_change(store::Transaction& s, domain::TaskAction action,
                     const std::optional<domain::Task>& before, const domain::Task& after,
                     domain::ChangedFields changed, const domain::User& owner,
                     domain::Timestamp now, std::string_view actor = {},
                     std::string_view source = {});

  TaskDependencies deps_;
  store::TaskRepository tasks_;
  store::UserRepository users_;
  store::OutboxRepository outbox_;
  store::IdempotencyRepository idempotency_;
};

}  // namespace todo::tasks

// The recurring service (group `recurring-task-service`): when a recurring task is completed, it
// creates the next occurrence exactly once; when the pending occurrence of a series is deleted,
// the series ends. Its tasks' events name `source: recurring-task-service` and
// `actor: system:recurring`, and flow on to audit, reminders and sync like any other change.
#pragma once

#include "bus/bus.h"
#include "domain/clock.h"
#include "domain/user.h"
#include "tasks/task_service.h"
#include "store/database.h"
#include "store/recurrence_series_repository.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace todo::services::recurring {

inline constexpr std::string_view kConsumerGroup = "recurring-task-service";
inline constexpr std::string_view kSource = "recurring-task-service";
inline constexpr std::string_view kActor = "system:recurring";

// What one task-events event asks of the service, computed from reads alone (the next occurrence,
// its events); apply() then runs only statements.
struct Plan {
  enum class Action {
    kNothing,     // not a completion or deletion of a series' newest occurrence
    kEndSeries,   // no occurrence follows `occurrence_index`
    kCreateNext,  // `next` is the occurrence after `occurrence_index`
  };
  Action action = Action::kNothing;
  std::string user_id;
  std::string task_id;
  std::string series_id;
  std::int64_t occurrence_index = 0;
  // What the plan was computed from; apply() checks it is still so.
  std::int64_t task_version = 0;
  std::optional<store::SeriesState> series_state;
  std::optional<tasks::PreparedWrite> next;
  domain::Timestamp now{};
};

class RecurringService {
 public:
  RecurringService(tasks::TaskService& tasks, const domain::ZoneCatalog& zones,
                   const domain::Clock& clock);

  // The task-events consumer: plan() and apply() in the consumer's transaction `tx`, which the bus
  // commits with the group's offset: a redelivered event, a crash before the commit, or
  // completing the same occurrence twice never makes a second occurrence (recurrence_series, and
  // the unique (series_id, occurrence_index) of tasks). Throws for a malformed event.
  void handle(const bus::Event& event, store::Transaction& tx);

  // The service's durable subscription to task-events as two phases: plan() in a read snapshot
  // on the consumer thread, outside the database writer; apply() in the consumer's transaction.
  bus::Subscription subscription(store::Database& database);

  // Reads what the event concerns through `reads` (any transaction, also a read-only one outside
  // the writer) and computes what to write: the expensive part, bounded (domain::RecurrenceBudget).
  // Throws for a malformed event or a rule that cannot be expanded.
  Plan plan(const bus::Event& event, store::Transaction& reads);
  // Writes the plan in the consumer's transaction: statements only. Returns false, writing
  // nothing, when the task or its series changed since the plan was read: plan again. A next
  // occurrence that would exceed one of the owner's quotas is skipped (logged and counted): the
  // event is done, never retried into the dead letters.
  bool apply(const Plan& plan, store::Transaction& tx);

  // Next occurrences skipped because a quota was full, since the start.
  std::uint64_t skipped_for_quota() const {
    return skipped_for_quota_.load(std::memory_order_relaxed);
  }
  // The service's metrics, Prometheus text (todo_recurring_skipped_total{reason}).
  std::string prometheus_text() const;

 private:
  Plan plan_completed(store::Transaction& reads, const std::string& user_id,
                      const std::string& task_id, domain::Timestamp completed_at);
  Plan plan_deleted(store::Transaction& reads, const std::string& user_id,
                    const std::string& task_id);

  tasks::TaskService& tasks_;
  const domain::ZoneCatalog& zones_;
  const domain::Clock& clock_;
  std::atomic<std::uint64_t> skipped_for_quota_{0};
};

}  // namespace todo::services::recurring

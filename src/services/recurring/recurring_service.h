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

#include <string_view>

namespace todo::services::recurring {

inline constexpr std::string_view kConsumerGroup = "recurring-task-service";
inline constexpr std::string_view kSource = "recurring-task-service";
inline constexpr std::string_view kActor = "system:recurring";

class RecurringService {
 public:
  RecurringService(tasks::TaskService& tasks, const domain::ZoneCatalog& zones,
                   const domain::Clock& clock);

  // The task-events consumer. Everything it writes goes through `tx`, which the bus commits with
  // the group's offset: a redelivered event, a crash before the commit, or completing the same
  // occurrence twice never makes a second occurrence (recurrence_series, and the unique
  // (series_id, occurrence_index) of tasks). Throws for a malformed event.
  void handle(const bus::Event& event, store::Transaction& tx);

 private:
  void on_completed(store::Transaction& tx, const std::string& user_id, const std::string& task_id,
                    domain::Timestamp completed_at);
  void on_deleted(store::Transaction& tx, const std::string& user_id, const std::string& task_id);

  tasks::TaskService& tasks_;
  const domain::ZoneCatalog& zones_;
  const domain::Clock& clock_;
};

}  // namespace todo::services::recurring

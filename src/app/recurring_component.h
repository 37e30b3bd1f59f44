// The recurring service's component: consumes task-events and creates each next occurrence of a
// completed recurring task, exactly once, through the task write model.
#pragma once

#include "app/component.h"
#include "app/core.h"
#include "services/recurring/recurring_service.h"
#include "tasks/task_service.h"

namespace todo::app {

class RecurringComponent final : public Component {
 public:
  explicit RecurringComponent(Core& core);

 private:
  tasks::TaskService tasks_;
  services::recurring::RecurringService recurring_;
};

}  // namespace todo::app

// HTTP routes of recurrence previews: the next due dates of a task (GET
// /api/tasks/{id}/occurrences) and of a rule not saved yet (POST /api/recurrence/preview).
#pragma once

#include "domain/clock.h"
#include "domain/user.h"
#include "http/router.h"
#include "services/api/account_service.h"
#include "services/api/authenticator.h"
#include "tasks/task_service.h"

namespace todo::services::api {

struct RecurrenceRouteDependencies {
  tasks::TaskService& tasks;
  AccountService& accounts;  // the user's time zone, the default of a preview
  const Authenticator& authenticator;
  const domain::ZoneCatalog& zones;
  const domain::Clock& clock;
};

void add_recurrence_routes(http::Router& router, const RecurrenceRouteDependencies& deps);

}  // namespace todo::services::api

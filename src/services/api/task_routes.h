// HTTP routes of tasks (/api/tasks…, /api/sync and the seed-compatible /api/{user_id}/tasks…).
#pragma once

#include "domain/user.h"
#include "http/router.h"
#include "services/api/account_service.h"
#include "services/api/authenticator.h"
#include "services/api/list_cursor.h"
#include "tasks/task_service.h"

namespace todo::services::api {

struct TaskRouteDependencies {
  tasks::TaskService& tasks;
  AccountService& accounts;  // the user's time zone for date filters
  const Authenticator& authenticator;
  const ListCursorCodec& cursors;
  const domain::ZoneCatalog& zones;
  const domain::Clock& clock;
};

void add_task_routes(http::Router& router, const TaskRouteDependencies& deps);

}  // namespace todo::services::api

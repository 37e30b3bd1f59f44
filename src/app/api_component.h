// The API service's component: accounts, tasks, recurrence previews; purges tombstones,
// idempotency keys and expired refresh tokens. (/health, /ready, /metrics and the API document are
// the operations component's, which every process runs.)
#pragma once

#include "app/component.h"
#include "app/core.h"
#include "auth/password.h"
#include "auth/admission.h"
#include "auth/login_guard.h"
#include "auth/rate_limiter.h"
#include "services/api/account_service.h"
#include "services/api/authenticator.h"
#include "services/api/list_cursor.h"
#include "tasks/task_service.h"

namespace todo::app {

class ApiComponent final : public Component {
 public:
  explicit ApiComponent(Core& core);

 private:
  void purge_old_rows(Core& core);

  auth::PasswordHasher hasher_;
  auth::LoginGuard login_guard_;
  auth::RateLimiter register_per_address_;
  auth::Admission register_hashing_;
  services::api::AccountService accounts_;
  services::api::Authenticator authenticator_;
  tasks::TaskService tasks_;
  services::api::ListCursorCodec cursors_;
};

}  // namespace todo::app

// The audit service's component: consumes task-events into the hash-chained audit log, serves
// the audit routes and purges entries after their retention period.
#pragma once

#include <chrono>

#include "app/component.h"
#include "app/core.h"
#include "services/api/authenticator.h"
#include "services/audit/audit_cursor.h"
#include "services/audit/audit_service.h"

namespace todo::app {

class AuditComponent final : public Component {
 public:
  explicit AuditComponent(Core& core);

 private:
  void purge_old_entries();

  services::api::Authenticator authenticator_;
  services::audit::AuditService audit_;
  services::audit::AuditCursorCodec cursors_;
  std::chrono::days retention_;
};

}  // namespace todo::app

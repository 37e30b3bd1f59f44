// HTTP routes of the audit service: GET /api/audit-logs, GET /api/audit-logs/verify (admins) and
// GET /api/tasks/{id}/history (the task's owner).
#pragma once

#include <functional>
#include <string>

#include "domain/error.h"
#include "http/router.h"
#include "services/audit/audit_cursor.h"
#include "services/audit/audit_service.h"

namespace todo::services::audit {

// The caller's user id from the request's access token, or the 401 problem.
using Authenticate = std::function<domain::Result<std::string>(const http::Request&)>;

struct AuditRouteDependencies {
  AuditService& audit;
  Authenticate authenticate;
  const AuditCursorCodec& cursors;
};

void add_audit_routes(http::Router& router, const AuditRouteDependencies& deps);

}  // namespace todo::services::audit

// The operator commands: read a topic of the event log, list and replay dead letters, set a
// user's role. Each opens the database `todo serve` would with the same flags (<data-dir>/todo.db,
// also while the server runs on it: WAL; or PostgreSQL at --database-url), prints and exits; none
// starts the HTTP server.
#pragma once

#include "app/config.h"

namespace todo::app {

// Each returns the process exit code: 0, or 1 after one line `todo: <reason>` on stderr.
int run_events(const Config& config);
int run_dlq_list(const Config& config);
int run_dlq_replay(const Config& config);
int run_admin_set_role(const Config& config);

}  // namespace todo::app

// The sync service's component: GET /ws/tasks, the task-updates fan-out of this replica (an
// ephemeral subscription sync-service-<instance id>) and its metrics. ADR 0014.
#pragma once

#include <string>

#include "app/component.h"
#include "app/core.h"
#include "services/sync/sync_service.h"

namespace todo::app {

class SyncComponent final : public Component {
 public:
  explicit SyncComponent(Core& core);
  ~SyncComponent() override;

 private:
  services::sync::SyncService sync_;
};

// --sync-instance-id, else <hostname>-<pid>.
std::string sync_instance_id(const Config& config);

}  // namespace todo::app

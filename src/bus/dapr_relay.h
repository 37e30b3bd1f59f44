// The outbox relay of the Dapr bus (ADR 0024): ships the outbox's unshipped rows through the Dapr
// sidecar's publish API, each partition in offset order, and marks a row shipped only after the
// sidecar answered 204. Like the Kafka relay (ADR 0021): one relay per database through the lease,
// no network call inside a transaction, writers never wait for the sidecar.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "bus/dapr_settings.h"
#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

struct DaprRelayOptions {
  int batch_size = 200;                           // rows of each partition read per round
  std::chrono::milliseconds poll_interval{1000};  // the safety net when no commit wakes it
  std::chrono::milliseconds lease_ttl{10000};
  // After a failed round (sidecar down, or it refused a row) the relay waits, doubling from the
  // first wait up to the last, and commits do not wake it meanwhile.
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
};

class DaprRelay {
 public:
  DaprRelay(store::Database& db, const domain::Clock& clock, domain::RandomSource& random,
            DaprSettings settings, DaprPublisher publisher, DaprRelayOptions options);
  ~DaprRelay();  // stops
  DaprRelay(const DaprRelay&) = delete;
  DaprRelay& operator=(const DaprRelay&) = delete;

  // Adds a commit listener and starts the relay thread. Nothing here waits for the sidecar.
  void start();
  // Stops after the publish in progress; what was not acknowledged stays unshipped.
  void stop();
  bool running() const;
  std::int64_t shipped() const;  // rows marked shipped since start

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace todo::bus

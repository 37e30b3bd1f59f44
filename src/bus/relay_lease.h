// The lease that makes one outbox relay per database ship (ADR 0021): the Kafka and the Dapr relay
// each hold it while they ship, in the partition_leases table (group "outbox-relay").
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "domain/clock.h"
#include "store/database.h"

namespace todo::bus {

class RelayLease {
 public:
  RelayLease(store::Database& db, const domain::Clock& clock, std::string member,
             std::chrono::milliseconds ttl);
  // Takes or renews the lease when due (every third of the ttl); true while this relay holds it.
  // Throws what the database throws.
  bool hold();
  // Gives the lease back (logged, not thrown, when the database refuses: it then expires).
  void release();
  const std::string& member() const { return member_; }

 private:
  store::Database& db_;
  const domain::Clock& clock_;
  const std::string member_;
  const std::chrono::milliseconds ttl_;
  std::optional<domain::Timestamp> until_;  // while held
  std::optional<domain::Timestamp> next_renewal_;
};

}  // namespace todo::bus

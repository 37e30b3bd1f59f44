// One relay per database: a lease on the pseudo-partition ("outbox-relay", "outbox", 0).
#include "bus/relay_lease.h"

#include <string_view>
#include <utility>

#include "log/log.h"
#include "store/consumer_repository.h"

namespace todo::bus {
namespace {

constexpr std::string_view kLeaseGroup = "outbox-relay";
constexpr std::string_view kLeaseTopic = "outbox";

}  // namespace

RelayLease::RelayLease(store::Database& db, const domain::Clock& clock, std::string member,
                       std::chrono::milliseconds ttl)
    : db_(db), clock_(clock), member_(std::move(member)), ttl_(ttl) {}

bool RelayLease::hold() {
  const auto now = clock_.now();
  if (next_renewal_ && now < *next_renewal_) return until_.has_value();
  const auto ttl = std::chrono::duration_cast<std::chrono::microseconds>(ttl_);
  bool held = false;
  db_.write([&](store::Transaction& s) {
    held = store::PartitionLeaseRepository{}.acquire(s, kLeaseGroup, kLeaseTopic, 0, member_, now,
                                                     now + ttl);
  });
  if (held != until_.has_value()) {
    log::info(
        held ? "relay: this process ships the outbox" : "relay: another process ships the outbox",
        {{"member", member_}});
  }
  until_ = held ? std::optional(now + ttl) : std::nullopt;
  next_renewal_ = now + ttl / 3;
  return held;
}

void RelayLease::release() {
  if (!until_) return;
  try {
    db_.write([&](store::Transaction& s) {
      store::PartitionLeaseRepository{}.release(s, kLeaseGroup, kLeaseTopic, 0, member_);
    });
  } catch (const std::exception& e) {
    log::warn("relay: could not give the lease back; it expires", {{"error", e.what()}});
  }
  until_.reset();
}

}  // namespace todo::bus

// Slot counting with one atomic: a compare-and-swap loop never lets in_use exceed slots.
#include "auth/admission.h"

#include <algorithm>

namespace todo::auth {

Admission::Admission(int slots) : slots_(std::max(1, slots)) {}

std::optional<Admission::Ticket> Admission::try_enter() {
  int current = in_use_.load();
  while (current < slots_) {
    if (in_use_.compare_exchange_weak(current, current + 1)) return Ticket(this);
  }
  return std::nullopt;
}

Admission::Ticket& Admission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void Admission::Ticket::release() noexcept {
  if (owner_ != nullptr) owner_->in_use_.fetch_sub(1);
  owner_ = nullptr;
}

}  // namespace todo::auth

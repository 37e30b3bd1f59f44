// A fixed number of slots for expensive work (password hashing of registrations): entering never
// waits, so a full house is answered at once instead of queueing in front of other work.
#pragma once

#include <atomic>
#include <optional>

namespace todo::auth {

class Admission {
 public:
  // Releases its slot when destroyed; move-only.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }

   private:
    friend class Admission;
    explicit Ticket(Admission* owner) : owner_(owner) {}
    void release() noexcept;
    Admission* owner_;
  };

  explicit Admission(int slots);  // slots >= 1
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // A ticket while a slot is free; nullopt when every slot is taken.
  std::optional<Ticket> try_enter();
  int slots() const { return slots_; }
  int in_use() const { return in_use_.load(); }

 private:
  const int slots_;
  std::atomic<int> in_use_{0};
};

}  // namespace todo::auth

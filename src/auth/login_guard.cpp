// Login throttling: sliding windows of recent failures per (address, account) and per account,
// and a bounded LRU of the (address, account) pairs that signed in successfully.
#include "auth/login_guard.h"

#include <algorithm>

namespace todo::auth {
namespace {

using std::chrono::seconds;

constexpr seconds kAtLeastOne{1};

std::string pair_key(const std::string& account, const std::string& address) {
  // Length-prefixed: no account text can make one pair alias another.
  return std::to_string(address.size()) + ':' + address + account;
}

seconds until(domain::Timestamp then, domain::Timestamp now) {
  return std::max(std::chrono::ceil<seconds>(then - now), kAtLeastOne);
}

void drop_expired(std::deque<domain::Timestamp>& times, domain::Timestamp now, seconds window) {
  while (!times.empty() && times.front() + window <= now) times.pop_front();
}

// Only the most recent `limit` failures matter: the window holds `limit` failures exactly when
// the oldest of them is still in it. Keeping no more bounds each key's memory.
void push_bounded(std::deque<domain::Timestamp>& times, domain::Timestamp now, int limit) {
  times.push_back(now);
  while (times.size() > static_cast<std::size_t>(limit)) times.pop_front();
}

LoginPolicy normalized(LoginPolicy p) {
  p.attempts_per_address = std::max(1, p.attempts_per_address);
  p.failures_per_account_address = std::max(1, p.failures_per_account_address);
  p.failures_per_account = std::max(1, p.failures_per_account);
  p.known_capacity = std::max<std::size_t>(1, p.known_capacity);
  return p;
}

}  // namespace

LoginGuard::LoginGuard(LoginPolicy policy, const domain::Clock& clock)
    : policy_(normalized(policy)),
      clock_(clock),
      per_address_(RateLimit{policy_.attempts_per_address, policy_.address_window}, clock) {}

std::optional<LoginRefusal> LoginGuard::admit(const std::string& account,
                                              const std::string& address) {
  using Reason = LoginRefusal::Reason;
  if (auto wait = per_address_.try_acquire(address)) return LoginRefusal{Reason::kAddress, *wait};

  const domain::Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  prune_locked(now);
  const std::string pair = pair_key(account, address);
  const bool known = known_locked(pair, now);

  if (auto it = pair_failures_.find(pair); it != pair_failures_.end()) {
    Failures& failures = it->second;
    drop_expired(failures.times, now, policy_.failure_window);
    if (failures.times.size() >= static_cast<std::size_t>(policy_.failures_per_account_address)) {
      // An unknown address waits until its oldest counted failure leaves the window; the owner's
      // own address is only slowed, so someone sharing it cannot lock the owner out.
      if (!known) {
        return LoginRefusal{Reason::kAccountAtAddress,
                            until(failures.times.front() + policy_.failure_window, now)};
      }
      if (auto wait = slowdown_locked(failures, now)) {
        return LoginRefusal{Reason::kAccountAtAddress, *wait};
      }
    }
  }
  if (known) return std::nullopt;  // distributed guessing elsewhere does not slow the owner

  if (auto it = account_failures_.find(account); it != account_failures_.end()) {
    Failures& failures = it->second;
    drop_expired(failures.times, now, policy_.failure_window);
    if (failures.times.size() >= static_cast<std::size_t>(policy_.failures_per_account)) {
      if (auto wait = slowdown_locked(failures, now)) {
        return LoginRefusal{Reason::kAccount, *wait};
      }
    }
  }
  return std::nullopt;
}

void LoginGuard::record_failure(const std::string& account, const std::string& address) {
  const domain::Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  push_bounded(pair_failures_[pair_key(account, address)].times, now,
               policy_.failures_per_account_address);
  push_bounded(account_failures_[account].times, now, policy_.failures_per_account);
}

void LoginGuard::record_success(const std::string& account, const std::string& address) {
  const domain::Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  std::string pair = pair_key(account, address);
  pair_failures_.erase(pair);
  if (auto it = known_index_.find(pair); it != known_index_.end()) {
    it->second->last_success = now;
    known_.splice(known_.begin(), known_, it->second);
    return;
  }
  known_.push_front(KnownPair{pair, now});
  known_index_.emplace(std::move(pair), known_.begin());
  while (known_.size() > policy_.known_capacity) {
    known_index_.erase(known_.back().key);
    known_.pop_back();
  }
}

bool LoginGuard::is_known(const std::string& account, const std::string& address) {
  const domain::Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  return known_locked(pair_key(account, address), now);
}

std::size_t LoginGuard::known_count() {
  std::lock_guard lock(mutex_);
  return known_.size();
}

bool LoginGuard::known_locked(const std::string& pair, domain::Timestamp now) {
  auto it = known_index_.find(pair);
  if (it == known_index_.end()) return false;
  if (it->second->last_success + policy_.known_lifetime > now) return true;
  known_.erase(it->second);
  known_index_.erase(it);
  return false;
}

// Lets one attempt through per slowdown interval; the others learn how long to wait.
std::optional<seconds> LoginGuard::slowdown_locked(Failures& failures, domain::Timestamp now) {
  if (failures.last_slowed && *failures.last_slowed + policy_.slowdown_interval > now) {
    return until(*failures.last_slowed + policy_.slowdown_interval, now);
  }
  failures.last_slowed = now;
  return std::nullopt;
}

// Once per failure window: forget failures that left it and known pairs that expired, so memory
// follows recent traffic only.
void LoginGuard::prune_locked(domain::Timestamp now) {
  if (now - last_prune_ < policy_.failure_window && now >= last_prune_) return;
  last_prune_ = now;
  auto sweep = [&](std::unordered_map<std::string, Failures>& by_key) {
    for (auto it = by_key.begin(); it != by_key.end();) {
      drop_expired(it->second.times, now, policy_.failure_window);
      const bool slowing =
          it->second.last_slowed && *it->second.last_slowed + policy_.slowdown_interval > now;
      it = it->second.times.empty() && !slowing ? by_key.erase(it) : std::next(it);
    }
  };
  sweep(pair_failures_);
  sweep(account_failures_);
  while (!known_.empty() && known_.back().last_success + policy_.known_lifetime <= now) {
    known_index_.erase(known_.back().key);
    known_.pop_back();
  }
}

}  // namespace todo::auth

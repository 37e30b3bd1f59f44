// Who may try a password now: throttles guessing without letting anyone lock an owner out.
// Failures count per (account, client address) and per account; an address that signed in to an
// account before ("known") is never locked for it, only slowed down (OWASP Authentication Cheat
// Sheet: account lockout must not become a denial-of-service switch). docs/security.md has the
// policy and its defaults.
#pragma once

#include "auth/rate_limiter.h"
#include "domain/clock.h"

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace todo::auth {

struct LoginPolicy {
  // Every attempt from one address, whatever the account: a plain throttle.
  int attempts_per_address = 30;
  std::chrono::seconds address_window{60};
  // Failures of one account from one address before that address must wait until the oldest
  // failure leaves the window (a known address is only slowed down instead).
  int failures_per_account_address = 10;
  // Failures of one account from every address together (distributed guessing) before unknown
  // addresses are slowed down; never a lock.
  int failures_per_account = 100;
  std::chrono::seconds failure_window{15 * 60};
  // Once slowed down: one attempt per this interval.
  std::chrono::seconds slowdown_interval{10};
  // A successful sign-in (or the registration) makes the address known to the account this long;
  // the least recently used pairs beyond the capacity are forgotten (memory stays bounded).
  std::chrono::seconds known_lifetime{std::chrono::hours(24 * 30)};
  std::size_t known_capacity = 100'000;
};

struct LoginRefusal {
  enum class Reason {
    kAddress,           // too many attempts from this address
    kAccountAtAddress,  // too many failures of this account from this address
    kAccount,           // too many failures of this account overall: slowed down
  };
  Reason reason;
  std::chrono::seconds retry_after;  // at least 1 s
};

class LoginGuard {
 public:
  LoginGuard(LoginPolicy policy, const domain::Clock& clock);

  // Before a password is verified. nullopt lets the attempt through (and counts it against the
  // address); otherwise the caller refuses with 429 and Retry-After.
  std::optional<LoginRefusal> admit(const std::string& account, const std::string& address);
  void record_failure(const std::string& account, const std::string& address);
  // Makes the address known to the account and forgets the failures of that pair.
  void record_success(const std::string& account, const std::string& address);

  bool is_known(const std::string& account, const std::string& address);
  std::size_t known_count();

 private:
  struct Failures {
    std::deque<domain::Timestamp> times;           // within the failure window, oldest first
    std::optional<domain::Timestamp> last_slowed;  // the last attempt let through while slowed
  };
  struct KnownPair {
    std::string key;
    domain::Timestamp last_success;
  };

  bool known_locked(const std::string& pair, domain::Timestamp now);
  std::optional<std::chrono::seconds> slowdown_locked(Failures& failures, domain::Timestamp now);
  void prune_locked(domain::Timestamp now);

  LoginPolicy policy_;
  const domain::Clock& clock_;
  RateLimiter per_address_;
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> pair_failures_;     // key: address and account
  std::unordered_map<std::string, Failures> account_failures_;  // key: account
  std::list<KnownPair> known_;                                  // most recent success first
  std::unordered_map<std::string, std::list<KnownPair>::iterator> known_index_;
  domain::Timestamp last_prune_{};
};

}  // namespace todo::auth

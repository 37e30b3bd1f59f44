// Sliding-window rate limiting of failed or attempted logins, per key (client address, account).
#pragma once

#include "domain/clock.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <deque>

namespace todo::auth {

struct RateLimit {
  int max_attempts;                // within the window
  std::chrono::seconds window;
};

class RateLimiter {
 public:
  RateLimiter(RateLimit limit, const domain::Clock& clock);

  // Records one attempt for `key` when allowed and returns nullopt; when the key is over its limit,
  // records nothing and returns how long until the next attempt is allowed (at least 1 s).
  std::optional<std::chrono::seconds> try_acquire(const std::string& key);

  // Forgets a key's attempts (e.g. after a successful login for the per-account limit).
  void reset(const std::string& key);

  // Drops keys whose attempts are all older than the window; keeps memory bounded.
  void prune();

 private:
  RateLimit limit_;
  const domain::Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<domain::Timestamp>> attempts_;
  domain::Timestamp last_prune_{};
};

}  // namespace todo::auth

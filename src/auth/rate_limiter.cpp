// Sliding-window rate limiter: each key keeps the times of its attempts within the last window.
#include "auth/rate_limiter.h"

#include <algorithm>

namespace todo::auth {

namespace {

using Attempts = std::deque<domain::Timestamp>;

// An attempt stops counting once a whole window has passed since it was made.
void drop_expired(Attempts& attempts, domain::Timestamp now, std::chrono::seconds window) {
  while (!attempts.empty() && attempts.front() + window <= now) attempts.pop_front();
}

// Forgets expired attempts of every key, and keys left with none.
void drop_all_expired(std::unordered_map<std::string, Attempts>& by_key, domain::Timestamp now,
                      std::chrono::seconds window) {
  for (auto it = by_key.begin(); it != by_key.end();) {
    drop_expired(it->second, now, window);
    it = it->second.empty() ? by_key.erase(it) : std::next(it);
  }
}

}  // namespace

RateLimiter::RateLimiter(RateLimit limit, const domain::Clock& clock)
    : limit_(limit), clock_(clock) {}

std::optional<std::chrono::seconds> RateLimiter::try_acquire(const std::string& key) {
  const domain::Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  // Sweeping all keys once a window bounds memory to the keys seen within about two windows.
  if (now - last_prune_ >= limit_.window || now < last_prune_) {
    drop_all_expired(attempts_, now, limit_.window);
    last_prune_ = now;
  }

  const std::chrono::seconds at_least_one{1};
  if (limit_.max_attempts <= 0) return std::max(limit_.window, at_least_one);

  Attempts& attempts = attempts_[key];
  drop_expired(attempts, now, limit_.window);
  if (attempts.size() < static_cast<std::size_t>(limit_.max_attempts)) {
    attempts.push_back(now);
    return std::nullopt;
  }
  const auto wait = std::chrono::ceil<std::chrono::seconds>(attempts.front() + limit_.window - now);
  return std::max(wait, at_least_one);
}

void RateLimiter::reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  attempts_.erase(key);
}

void RateLimiter::prune() {
  const domain::Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  drop_all_expired(attempts_, now, limit_.window);
  last_prune_ = now;
}

}  // namespace todo::auth

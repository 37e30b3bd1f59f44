// How a durable consumer retries a failed event: the schedule (configuration) and the monotonic
// clock it is measured on, so a wall-clock jump neither shortens nor stretches a backoff.
#pragma once

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace todo::bus {

// Thrown by a handler for an event that cannot succeed however often it is tried (it cannot be
// parsed, it names something that can never exist): the event is dead-lettered at once, without
// retries. The runtime treats a payload that is not a JSON object the same way.
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RetryPolicy {
  // The wait after the 1st, 2nd, ... failed attempt; the attempt after the last wait is the last
  // one, and its failure dead-letters the event. Empty: dead-letter at the first failure.
  std::vector<std::chrono::milliseconds> backoff{std::chrono::seconds(1), std::chrono::seconds(5),
                                                 std::chrono::seconds(25)};
  int max_attempts() const { return static_cast<int>(backoff.size()) + 1; }
};

// Parses a schedule such as "1s,5s,25s" or "200ms,1s": one to 20 comma-separated durations, each
// a positive whole number with the unit ms, s, m or h, none longer than a day. The error says why
// not, for a message naming the flag.
std::variant<RetryPolicy, std::string> parse_retry_backoff(std::string_view text);

// Time that only moves forward at a steady rate, for measuring waits.
class MonotonicClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~MonotonicClock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public MonotonicClock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// Moves only when told to; for tests.
class ManualMonotonicClock final : public MonotonicClock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void advance(std::chrono::microseconds by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace todo::bus

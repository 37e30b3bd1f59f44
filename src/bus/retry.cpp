// The retry schedule's text form, as the --bus-retry-backoff flag takes it.
#include "bus/retry.h"

#include <charconv>

namespace todo::bus {
namespace {

constexpr std::size_t kMaxSteps = 20;
constexpr std::chrono::milliseconds kMaxStep = std::chrono::hours(24);

std::variant<std::chrono::milliseconds, std::string> parse_step(std::string_view step) {
  while (!step.empty() && step.front() == ' ') step.remove_prefix(1);
  while (!step.empty() && step.back() == ' ') step.remove_suffix(1);
  const std::string quoted = "'" + std::string(step) + "'";
  long long count = 0;
  auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), count);
  const std::string_view unit(end, static_cast<std::size_t>(step.data() + step.size() - end));
  if (ec != std::errc() || end == step.data()) {
    return quoted + " is not a duration like 500ms, 5s, 2m or 1h";
  }
  std::chrono::milliseconds wait{};
  if (unit == "ms") {
    wait = std::chrono::milliseconds(count);
  } else if (unit == "s") {
    wait = std::chrono::seconds(count);
  } else if (unit == "m") {
    wait = std::chrono::minutes(count);
  } else if (unit == "h") {
    wait = std::chrono::hours(count);
  } else {
    return quoted + " needs a unit: ms, s, m or h";
  }
  // Compared as counts first: a huge count would overflow the conversion above otherwise.
  if (count <= 0) return quoted + " must be longer than zero";
  if (count > kMaxStep.count() || wait > kMaxStep) return quoted + " is longer than a day";
  return wait;
}

}  // namespace

std::variant<RetryPolicy, std::string> parse_retry_backoff(std::string_view text) {
  RetryPolicy policy;
  policy.backoff.clear();
  for (;;) {
    const auto comma = text.find(',');
    auto step = parse_step(text.substr(0, comma));
    if (auto* error = std::get_if<std::string>(&step)) return std::move(*error);
    policy.backoff.push_back(std::get<std::chrono::milliseconds>(step));
    if (policy.backoff.size() > kMaxSteps) {
      return "has more than " + std::to_string(kMaxSteps) + " waits";
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return policy;
}

}  // namespace todo::bus

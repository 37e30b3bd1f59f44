// Counters of the notification service for /metrics (Prometheus text): reminders scheduled,
// fired, late, missed and cancelled; deliveries by channel and status; the lateness histogram
// (fire time − instant).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace todo::notify {

class NotifyMetrics {
 public:
  void scheduled(std::int64_t n);
  void cancelled(std::int64_t n);
  void fired(double lateness_seconds, bool late);
  void missed();
  void delivery(std::string_view channel, std::string_view status);

  std::int64_t fired_count() const;
  std::int64_t deliveries(std::string_view channel, std::string_view status) const;
  std::string prometheus_text() const;

  // Upper bounds of the lateness buckets, in seconds.
  static constexpr std::array<double, 11> kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                      2,    5,    30,  300,  3600};

 private:
  mutable std::mutex mutex_;
  std::int64_t scheduled_ = 0, cancelled_ = 0, fired_ = 0, late_ = 0, missed_ = 0;
  std::map<std::pair<std::string, std::string>, std::int64_t, std::less<>> deliveries_;
  std::array<std::uint64_t, kBuckets.size()> buckets_{};
  double lateness_sum_ = 0;
};

}  // namespace todo::notify

// Prometheus text exposition of request counts and latency histograms.
#include "http/metrics.h"

#include <array>
#include <atomic>
#include <cstdio>

namespace todo::http {
namespace {

constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

std::atomic<std::uint64_t> next_registry_id{1};

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

Metrics::Metrics() : id_(next_registry_id.fetch_add(1)) {}

Metrics::Shard& Metrics::local_shard() {
  // A thread keeps the shard it got from each Metrics it records into, by registry id. While
  // this registry lives, its shards_ keep the shard alive, so the cached one is valid.
  thread_local std::map<std::uint64_t, std::weak_ptr<Shard>> mine;
  auto it = mine.find(id_);
  if (it != mine.end()) {
    if (auto shard = it->second.lock()) return *shard;
  }
  // Forget the shards of registries that are gone, so the cache does not grow without end.
  std::erase_if(mine, [](const auto& entry) { return entry.second.expired(); });
  std::lock_guard lock(mutex_);
  shards_.push_back(std::make_shared<Shard>());
  mine[id_] = shards_.back();
  return *shards_.back();
}

void Metrics::observe(std::string_view route, Method method, int status, double seconds) {
  Shard& shard = local_shard();
  std::lock_guard lock(shard.mutex);
  auto stats = shard.routes.find(route);
  if (stats == shard.routes.end()) {
    stats = shard.routes.emplace(std::string(route), RouteStats{}).first;
    stats->second.latency.buckets.assign(kBuckets.size(), 0);
  }
  ++stats->second.requests[{method, status}];
  Histogram& h = stats->second.latency;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_connection_error(std::string_view reason) {
  std::lock_guard lock(mutex_);
  auto it = connection_errors_.find(reason);
  if (it == connection_errors_.end()) it = connection_errors_.emplace(std::string(reason), 0).first;
  ++it->second;
}

void Metrics::add_collector(std::function<std::string()> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() const {
  std::string out;
  std::vector<std::function<std::string()>> collectors;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests;
  std::map<std::string, Histogram> latency;
  {
    std::lock_guard lock(mutex_);
    for (const auto& shard : shards_) {
      std::lock_guard shard_lock(shard->mutex);
      for (const auto& [route, stats] : shard->routes) {
        for (const auto& [key, count] : stats.requests) {
          requests[{route, std::string(to_string(key.first)), key.second}] += count;
        }
        const Histogram& h = stats.latency;
        auto& sum = latency[route];
        if (sum.buckets.empty()) sum.buckets.assign(kBuckets.size(), 0);
        for (std::size_t i = 0; i < kBuckets.size(); ++i) sum.buckets[i] += h.buckets[i];
        sum.count += h.count;
        sum.sum += h.sum;
      }
    }
    out += "# HELP todo_http_requests_total HTTP requests by route pattern, method and status.\n";
    out += "# TYPE todo_http_requests_total counter\n";
    for (const auto& [key, count] : requests) {
      const auto& [route, method, status] = key;
      out += "todo_http_requests_total{route=\"" + route + "\",method=\"" + method +
             "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
    }
    out += "# HELP todo_http_request_duration_seconds Time from request read to response ready.\n";
    out += "# TYPE todo_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out += "todo_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" +
               format_double(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
      }
      out += "todo_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " +
             std::to_string(h.count) + "\n";
      out += "todo_http_request_duration_seconds_sum{route=\"" + route + "\"} " +
             format_double(h.sum) + "\n";
      out += "todo_http_request_duration_seconds_count{route=\"" + route + "\"} " +
             std::to_string(h.count) + "\n";
    }
    out += "# HELP todo_http_connection_errors_total Connections ended by an error, by reason.\n";
    out += "# TYPE todo_http_connection_errors_total counter\n";
    for (const auto& [reason, count] : connection_errors_) {
      out += "todo_http_connection_errors_total{reason=\"" + reason + "\"} " +
             std::to_string(count) + "\n";
    }
    collectors = collectors_;
  }
  for (const auto& c : collectors) out += c();
  return out;
}

}  // namespace todo::http

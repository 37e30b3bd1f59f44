// Prometheus metrics of the HTTP server: requests by route and status, latency by route.
#pragma once

#include "http/message.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace todo::http {

class Metrics {
 public:
  void observe(std::string_view route, Method method, int status, double seconds);
  // A connection ended by an error (bad request, limit, exception), by reason.
  void count_connection_error(std::string_view reason);
  // Extra text appended by other parts (e.g. the bus later); each returns Prometheus text lines.
  void add_collector(std::function<std::string()> collector);
  std::string render() const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> buckets;  // per bucket; rendered cumulatively
    std::uint64_t count = 0;
    double sum = 0;
  };
  // Each I/O thread records into its own shard (its mutex is uncontended); render() sums them.
  struct Shard {
    std::mutex mutex;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t, std::less<>> requests;
    std::map<std::string, Histogram, std::less<>> latency;
  };
  Shard& local_shard();

  mutable std::mutex mutex_;  // guards shards_ and collectors_
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::function<std::string()>> collectors_;
  std::map<std::string, std::uint64_t, std::less<>> connection_errors_;  // guarded by mutex_
};

}  // namespace todo::http

// Prometheus metrics of the HTTP server: requests by route and status, latency by route.
#pragma once

#include "http/message.h"

#include <cstdint>
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
  Metrics();
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
  // What one shard counted for one route: found by the route's name without copying it, so a
  // request whose route and status were seen before records without allocating.
  struct RouteStats {
    std::map<std::pair<Method, int>, std::uint64_t> requests;  // by method and status
    Histogram latency;
  };
  // Each I/O thread records into its own shard (its mutex is uncontended); render() sums them.
  struct Shard {
    std::mutex mutex;
    std::map<std::string, RouteStats, std::less<>> routes;
  };
  Shard& local_shard();

  // Threads find their shard by this id, unique for the process's lifetime, never by address:
  // a registry created where a destroyed one lived must not find the destroyed one's shards.
  const std::uint64_t id_;
  mutable std::mutex mutex_;  // guards shards_ and collectors_
  // Shared with the threads' caches, which hold weak references: a shard outlived by a thread
  // is seen as expired there, never dereferenced.
  std::vector<std::shared_ptr<Shard>> shards_;
  std::vector<std::function<std::string()>> collectors_;
  std::map<std::string, std::uint64_t, std::less<>> connection_errors_;  // guarded by mutex_
};

}  // namespace todo::http

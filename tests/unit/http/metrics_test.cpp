// Prometheus rendering: series names and labels, histogram buckets, and shards merged across
// threads.
#include "http/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace todo::http {
namespace {

TEST(Metrics, RendersCountersAndHistogramsByRoute) {
  Metrics metrics;
  metrics.observe("/health", Method::kGet, 200, 0.0004);
  metrics.observe("/health", Method::kGet, 200, 0.02);
  metrics.observe("/api/me", Method::kGet, 401, 0.001);
  std::string text = metrics.render();
  EXPECT_NE(text.find("todo_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("todo_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"401\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("todo_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.0005\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("todo_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.025\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("todo_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("todo_http_request_duration_seconds_count{route=\"/health\"} 2"),
            std::string::npos);
}

TEST(Metrics, SumsWhatEveryThreadRecorded) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 250; ++i) metrics.observe("/health", Method::kGet, 200, 0.001);
    });
  }
  for (auto& t : threads) t.join();
  std::string text = metrics.render();
  EXPECT_NE(text.find("todo_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 1000"),
            std::string::npos)
      << text;
}

TEST(Metrics, AppendsCollectors) {
  Metrics metrics;
  metrics.add_collector([] { return std::string("todo_extra 1\n"); });
  EXPECT_NE(metrics.render().find("todo_extra 1\n"), std::string::npos);
}

}  // namespace
}  // namespace todo::http

namespace todo::http {
namespace {

// A thread caches its shard per registry. A registry created where a destroyed one lived (tests
// create several) must get shards of its own, never the destroyed one's (use after free).
TEST(Metrics, ARegistryAtTheAddressOfADestroyedOneNeverWritesThroughItsShards) {
  alignas(Metrics) unsigned char storage[sizeof(Metrics)];
  auto* first = new (storage) Metrics;
  first->observe("/first", Method::kGet, 200, 0.001);
  first->~Metrics();
  auto* second = new (storage) Metrics;
  second->observe("/second", Method::kGet, 200, 0.001);
  std::string text = second->render();
  second->~Metrics();
  EXPECT_NE(text.find("route=\"/second\""), std::string::npos) << text;
  EXPECT_EQ(text.find("route=\"/first\""), std::string::npos) << text;
}

TEST(Metrics, ThreadsOutliveRegistries) {
  for (int i = 0; i < 3; ++i) {
    Metrics metrics;
    std::thread t([&metrics] { metrics.observe("/health", Method::kGet, 200, 0.001); });
    t.join();
    metrics.observe("/health", Method::kGet, 200, 0.001);
    EXPECT_NE(metrics.render().find("status=\"200\"} 2"), std::string::npos);
  }
}

}  // namespace
}  // namespace todo::http

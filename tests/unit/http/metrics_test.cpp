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

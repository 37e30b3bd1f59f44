// Runs a function at a fixed interval on its own thread until destroyed; failures are logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace todo::app {

class PeriodicJob {
 public:
  PeriodicJob(std::string name, std::chrono::seconds interval, std::function<void()> job);
  ~PeriodicJob();
  PeriodicJob(const PeriodicJob&) = delete;
  PeriodicJob& operator=(const PeriodicJob&) = delete;

 private:
  void loop();

  std::string name_;
  std::chrono::seconds interval_;
  std::function<void()> job_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace todo::app

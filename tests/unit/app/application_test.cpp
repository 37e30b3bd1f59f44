// The component model: a process is the core plus the components it is given, so `todo serve`
// (every component) and a one-service role differ only in the list.
#include "app/application.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/housekeeping.h"

namespace todo::app {
namespace {

class ApplicationTest : public ::testing::Test {
 protected:
  ApplicationTest() {
    std::string pattern = (std::filesystem::temp_directory_path() / "todo-app-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    config_.data_dir = dir_;
    config_.jwt_secret = std::string(32, 's');
  }
  ~ApplicationTest() override { std::filesystem::remove_all(dir_); }

  // "GET /api/audit-logs", ... in the order the routes were added.
  std::vector<std::string> routes(std::span<const ComponentFactory> components) {
    Application app(config_, components);
    std::vector<std::string> out;
    for (const auto& route : app.router().routes()) {
      out.push_back(std::string(http::to_string(route.method)) + " " + route.pattern);
    }
    return out;
  }

  std::filesystem::path dir_;
  Config config_;
};

TEST_F(ApplicationTest, AComponentAddsItsOwnRoutesOnly) {
  constexpr ComponentFactory kAuditOnly[] = {make_audit_component};
  EXPECT_EQ(routes(kAuditOnly),
            (std::vector<std::string>{"GET /api/audit-logs", "GET /api/audit-logs/verify",
                                      "GET /api/tasks/{id}/history"}));
  constexpr ComponentFactory kRecurringOnly[] = {make_recurring_component};
  EXPECT_TRUE(routes(kRecurringOnly).empty());  // a consumer, no routes
}

TEST_F(ApplicationTest, ServeRunsEveryComponentInOrder) {
  const auto all = routes(every_component());
  constexpr ComponentFactory kApiOnly[] = {make_api_component};
  constexpr ComponentFactory kAuditOnly[] = {make_audit_component};
  auto expected = routes(kApiOnly);
  const auto audit = routes(kAuditOnly);
  expected.insert(expected.end(), audit.begin(), audit.end());
  constexpr ComponentFactory kNotifyOnly[] = {make_notify_component};
  const auto notify = routes(kNotifyOnly);  // recurring has no routes
  expected.insert(expected.end(), notify.begin(), notify.end());
  EXPECT_EQ(all, expected);
  EXPECT_NE(std::find(all.begin(), all.end(), "GET /health"), all.end());
}

TEST(HousekeepingTest, RunsEveryStepInTheOrderAdded) {
  domain::ManualClock clock{domain::Timestamp{}};
  Housekeeping housekeeping{clock};
  std::vector<std::string> ran;
  housekeeping.add("first", [&] { ran.push_back("first"); });
  housekeeping.add("second", [&] { ran.push_back("second"); });
  housekeeping.run_once();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second"}));
}

TEST(HousekeepingTest, StepsAreAddedBeforeItStarts) {
  domain::ManualClock clock{domain::Timestamp{}};
  Housekeeping housekeeping{clock};
  housekeeping.start();
  EXPECT_THROW(housekeeping.add("late", [] {}), std::logic_error);
  housekeeping.stop();
}

}  // namespace
}  // namespace todo::app

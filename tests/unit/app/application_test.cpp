// The component model: a process is the core plus the components it is given, so `todo serve`
// (every component) and a one-service role differ only in the list.
#include "app/application.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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
  constexpr ComponentFactory kOperationsOnly[] = {make_operations_component};
  auto expected = routes(kOperationsOnly);
  constexpr ComponentFactory kApiOnly[] = {make_api_component};
  const auto api = routes(kApiOnly);
  expected.insert(expected.end(), api.begin(), api.end());
  constexpr ComponentFactory kAuditOnly[] = {make_audit_component};
  const auto audit = routes(kAuditOnly);
  expected.insert(expected.end(), audit.begin(), audit.end());
  constexpr ComponentFactory kNotifyOnly[] = {make_notify_component};
  const auto notify = routes(kNotifyOnly);  // recurring has no routes
  expected.insert(expected.end(), notify.begin(), notify.end());
  EXPECT_EQ(all, expected);
  EXPECT_NE(std::find(all.begin(), all.end(), "GET /health"), all.end());
}

// What an ingress routes by path (ADR 0022): each role answers its own routes and the operations
// routes, and nothing else.
class RoleTest : public ApplicationTest {
 protected:
  struct Answers {
    std::vector<std::string> routes;
    bool websocket = false;     // GET /ws/tasks is a WebSocket route
    bool web_fallback = false;  // GET / (the web app) has a handler
  };

  Answers answers_of(std::string_view role) {
    const auto components = components_of(role);
    EXPECT_FALSE(components.empty()) << role;
    Application app(config_, components);
    Answers out;
    for (const auto& route : app.router().routes()) {
      out.routes.push_back(std::string(http::to_string(route.method)) + " " + route.pattern);
    }
    http::Params params;
    out.websocket = app.router().match_websocket("/ws/tasks", params) != nullptr;
    out.web_fallback = app.router().match(http::Method::kGet, "/").route != nullptr;
    return out;
  }

  static bool has(const Answers& a, const std::string& route) {
    return std::find(a.routes.begin(), a.routes.end(), route) != a.routes.end();
  }

  // A request the role's router has nothing for: a 404 (no route under any method, no fallback).
  bool not_found(std::string_view role, http::Method method, std::string_view path) {
    Application app(config_, components_of(role));
    const auto match = app.router().match(method, path);
    return match.route == nullptr && match.allowed.empty();
  }
};

TEST_F(RoleTest, EveryRoleServesHealthReadyAndMetrics) {
  for (const char* role : {"api", "recurring", "notify", "sync", "audit"}) {
    const auto a = answers_of(role);
    for (const char* route : {"GET /health", "GET /ready", "GET /metrics"}) {
      EXPECT_TRUE(has(a, route)) << role << " lacks " << route;
    }
  }
}

TEST_F(RoleTest, TheAuditRoleAnswersTheAuditApiOnly) {
  const auto audit = answers_of("audit");
  EXPECT_TRUE(has(audit, "GET /api/audit-logs"));
  EXPECT_TRUE(has(audit, "GET /api/audit-logs/verify"));
  EXPECT_TRUE(has(audit, "GET /api/tasks/{id}/history"));
  EXPECT_FALSE(audit.websocket);
  EXPECT_FALSE(audit.web_fallback);
  EXPECT_TRUE(not_found("audit", http::Method::kGet, "/api/tasks"));
  EXPECT_TRUE(not_found("audit", http::Method::kPost, "/api/auth/login"));
  EXPECT_TRUE(not_found("audit", http::Method::kGet, "/api/notification-targets"));
  EXPECT_TRUE(not_found("audit", http::Method::kGet, "/"));
}

TEST_F(RoleTest, TheApiRoleAnswersAccountsTasksAndTheWebApp) {
  const auto api = answers_of("api");
  for (const char* route :
       {"POST /api/auth/login", "GET /api/me", "GET /api/tasks", "POST /api/tasks/{id}/complete",
        "GET /api/sync", "POST /api/recurrence/preview", "GET /api/{user_id}/tasks",
        "GET /openapi.json"}) {
    EXPECT_TRUE(has(api, route)) << route;
  }
  EXPECT_TRUE(api.web_fallback);
  EXPECT_FALSE(api.websocket);
  EXPECT_FALSE(has(api, "GET /api/audit-logs"));
  EXPECT_FALSE(has(api, "GET /api/tasks/{id}/history"));
  EXPECT_FALSE(has(api, "GET /api/notification-targets"));
  EXPECT_FALSE(has(api, "GET /api/tasks/{id}/reminders"));
}

TEST_F(RoleTest, TheNotifyRoleAnswersTargetsAndReminders) {
  const auto notify = answers_of("notify");
  EXPECT_TRUE(has(notify, "GET /api/notification-targets"));
  EXPECT_TRUE(has(notify, "POST /api/notification-targets"));
  EXPECT_TRUE(has(notify, "GET /api/tasks/{id}/reminders"));
  EXPECT_TRUE(not_found("notify", http::Method::kGet, "/api/tasks"));
  EXPECT_FALSE(notify.websocket);
}

TEST_F(RoleTest, TheSyncRoleAnswersTheWebSocketOnly) {
  const auto sync = answers_of("sync");
  EXPECT_TRUE(sync.websocket);
  EXPECT_FALSE(sync.web_fallback);
  EXPECT_TRUE(not_found("sync", http::Method::kGet, "/api/tasks"));
  EXPECT_TRUE(not_found("sync", http::Method::kGet, "/api/audit-logs"));
}

TEST_F(RoleTest, TheRecurringRoleHasOnlyTheOperationsRoutes) {
  constexpr ComponentFactory kOperationsOnly[] = {make_operations_component};
  EXPECT_EQ(answers_of("recurring").routes, routes(kOperationsOnly));
  EXPECT_TRUE(not_found("recurring", http::Method::kGet, "/api/tasks"));
}

TEST_F(RoleTest, TheRolesTogetherServeWhatServeServes) {
  std::set<std::string> together;
  for (const char* role : {"api", "recurring", "notify", "sync", "audit"}) {
    const auto a = answers_of(role);
    together.insert(a.routes.begin(), a.routes.end());
  }
  const auto all = routes(every_component());
  EXPECT_EQ(together, std::set<std::string>(all.begin(), all.end()));
  EXPECT_TRUE(components_of("migrate").empty());
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

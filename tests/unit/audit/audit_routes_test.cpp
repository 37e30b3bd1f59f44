// The audit routes through the router, with a stand-in authenticator: who sees what, parameter
// errors, cursors, the history's 404 and the JSON of entries and of verify.
#include "services/audit/audit_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "audit/audit_test_support.h"

namespace todo::services::audit {
namespace {

namespace json = boost::json;
using domain::TaskAction;
using testing::AuditFixture;

constexpr std::string_view kAlice = "01900000-0000-7000-8000-0000000000a1";
constexpr std::string_view kBob = "01900000-0000-7000-8000-0000000000b0";
constexpr std::string_view kAdmin = "01900000-0000-7000-8000-0000000000ad";
constexpr std::string_view kTaskA = "01900000-0000-7000-8000-00000000000a";
constexpr std::string_view kTaskB = "01900000-0000-7000-8000-00000000000b";

struct Answer {
  int status = 0;
  json::value body;
};

class AuditRoutesTest : public AuditFixture {
 protected:
  AuditRoutesTest() {
    // The caller is the X-User header; none is the authenticator's 401.
    Authenticate authenticate = [](const http::Request& req) -> domain::Result<std::string> {
      auto user = req.header("x-user");
      if (!user) return domain::make_error(domain::ErrorCode::kTokenMissing, "no token");
      return std::string(*user);
    };
    add_audit_routes(router_, {audit_, authenticate, cursors_});
    database_->write([&](store::Transaction& s) {
      for (auto [id, role] :
           {std::pair{kAlice, domain::Role::kUser}, std::pair{kBob, domain::Role::kUser},
            std::pair{kAdmin, domain::Role::kAdmin}}) {
        domain::User u;
        u.id = std::string(id);
        u.email = std::string(id) + "@example.com";
        u.password_hash = "x";
        u.role = role;
        store::UserRepository{}.insert(s, u);
      }
    });
    // Alice: task A created, completed, deleted (ids 1-3); Bob: task B created (id 4).
    const auto a = change(TaskAction::kCreated, std::nullopt,
                          task(std::string(kTaskA), std::string(kAlice), "a"));
    domain::Task done = a;
    done.status = domain::TaskStatus::kCompleted;
    const auto completed = change(TaskAction::kCompleted, a, done);
    domain::Task gone = completed;
    gone.deleted_at = clock_.now();
    change(TaskAction::kDeleted, completed, gone);
    change(TaskAction::kCreated, std::nullopt, task(std::string(kTaskB), std::string(kBob), "b"));
  }

  Answer get(std::string_view caller, std::string path,
             std::vector<std::pair<std::string, std::string>> query = {}) {
    http::Request req;
    req.method = http::Method::kGet;
    req.path = path;
    req.query = std::move(query);
    if (!caller.empty()) req.headers.push_back({"x-user", std::string(caller)});
    auto match = router_.match(http::Method::kGet, path);
    if (match.route == nullptr) {
      ADD_FAILURE() << "no route for " << path;
      return {};
    }
    req.path_params = match.path_params;
    http::Response res = match.route->handler(req);
    return {res.status, json::parse(res.body)};
  }

  static std::vector<std::int64_t> ids(const Answer& a) {
    std::vector<std::int64_t> out;
    for (const auto& item : a.body.at("items").as_array()) out.push_back(item.at("id").as_int64());
    return out;
  }

  static void expect_problem(const Answer& a, int status, std::string_view type,
                             std::vector<std::string> fields = {}) {
    EXPECT_EQ(a.status, status) << json::serialize(a.body);
    EXPECT_EQ(a.body.at("type").as_string(), type) << json::serialize(a.body);
    if (fields.empty()) return;
    std::vector<std::string> named;
    for (const auto& e : a.body.at("errors").as_array()) {
      named.emplace_back(e.at("field").as_string());
    }
    EXPECT_EQ(named, fields) << json::serialize(a.body);
  }

  AuditCursorCodec cursors_{std::string(32, 'k')};
  http::Router router_;
};

TEST_P(AuditRoutesTest, AUserSeesOnlyTheirOwnEntries) {
  const Answer a = get(kAlice, "/api/audit-logs");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(ids(a), (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_TRUE(a.body.at("next_cursor").is_null());
  EXPECT_EQ(ids(get(kAlice, "/api/audit-logs", {{"user_id", std::string(kAlice)}})),
            (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_TRUE(ids(get(kAlice, "/api/audit-logs", {{"task_id", std::string(kTaskB)}})).empty());
}

TEST_P(AuditRoutesTest, AUserAskingForAnotherUserIsForbidden) {
  expect_problem(get(kAlice, "/api/audit-logs", {{"user_id", std::string(kBob)}}), 403,
                 "forbidden");
}

TEST_P(AuditRoutesTest, AnAdminSeesEveryoneOrOneUser) {
  EXPECT_EQ(ids(get(kAdmin, "/api/audit-logs")), (std::vector<std::int64_t>{4, 3, 2, 1}));
  EXPECT_EQ(ids(get(kAdmin, "/api/audit-logs", {{"user_id", std::string(kBob)}})),
            (std::vector<std::int64_t>{4}));
  EXPECT_EQ(ids(get(kAdmin, "/api/audit-logs",
                    {{"event_type", "task.created"},
                     {"start_date", "2026-11-01"},
                     {"end_date", "2026-11-01T09:04:00Z"}})),
            (std::vector<std::int64_t>{4, 1}));
  EXPECT_TRUE(ids(get(kAdmin, "/api/audit-logs", {{"start_date", "2026-11-02"}})).empty());
}

TEST_P(AuditRoutesTest, ARoleChangeAppliesAtOnce) {
  expect_problem(get(kBob, "/api/audit-logs/verify"), 403, "forbidden");
  database_->write(
      [&](store::Transaction& s) { store::UserRepository{}.set_role(s, kBob, domain::Role::kAdmin); });
  EXPECT_EQ(get(kBob, "/api/audit-logs/verify").status, 200);
}

TEST_P(AuditRoutesTest, EntriesCarryEveryMember) {
  const Answer a = get(kAlice, "/api/tasks/" + std::string(kTaskA) + "/history");
  ASSERT_EQ(a.status, 200);
  const json::object& first = a.body.at("items").at(0).as_object();
  for (const char* key : {"id", "event_id", "event_type", "user_id", "actor", "task_id", "sequence",
                          "event_time", "recorded_at", "task", "changes", "prev_hash", "hash"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_EQ(first.size(), 13u);
  EXPECT_EQ(first.at("event_type"), "task.created");
  EXPECT_EQ(first.at("event_time"), "2026-11-01T09:01:00.000Z");
  EXPECT_EQ(first.at("recorded_at"), "2026-11-01T09:01:00.000Z");
  EXPECT_EQ(first.at("task").at("title"), "a");
  EXPECT_EQ(first.at("prev_hash"), json::value(kGenesisHash));
  const json::object& second = a.body.at("items").at(1).as_object();
  EXPECT_EQ(second.at("changes"),
            json::parse(R"({"status": {"old": "pending", "new": "completed"}})"));
}

TEST_P(AuditRoutesTest, HistoryIsTheOwnersOldestFirstDeletedTasksIncluded) {
  const std::string path = "/api/tasks/" + std::string(kTaskA) + "/history";
  EXPECT_EQ(ids(get(kAlice, path)), (std::vector<std::int64_t>{1, 2, 3}));
  expect_problem(get(kBob, path), 404, "task-not-found");
  expect_problem(get(kAdmin, path), 404, "task-not-found");
  expect_problem(get(kAlice, "/api/tasks/nope/history"), 404, "task-not-found");
}

TEST_P(AuditRoutesTest, CursorsWalkThePagesAndBelongToTheirListing) {
  std::vector<std::int64_t> walked;
  std::vector<std::pair<std::string, std::string>> query = {{"limit", "1"}};
  for (int i = 0; i < 10; ++i) {
    const Answer a = get(kAdmin, "/api/audit-logs", query);
    ASSERT_EQ(a.status, 200);
    for (auto id : ids(a)) walked.push_back(id);
    if (a.body.at("next_cursor").is_null()) break;
    query = {{"limit", "1"}, {"cursor", std::string(a.body.at("next_cursor").as_string())}};
  }
  EXPECT_EQ(walked, (std::vector<std::int64_t>{4, 3, 2, 1}));

  const std::string history = "/api/tasks/" + std::string(kTaskA) + "/history";
  const Answer first = get(kAlice, history, {{"limit", "2"}});
  EXPECT_EQ(ids(first), (std::vector<std::int64_t>{1, 2}));
  const std::string cursor(first.body.at("next_cursor").as_string());
  EXPECT_EQ(ids(get(kAlice, history, {{"limit", "2"}, {"cursor", cursor}})),
            (std::vector<std::int64_t>{3}));
  expect_problem(get(kAlice, "/api/audit-logs", {{"cursor", cursor}}), 400, "bad-request",
                 {"cursor"});
  std::string tampered = cursor;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  expect_problem(get(kAlice, history, {{"cursor", tampered}}), 400, "bad-request", {"cursor"});
}

TEST_P(AuditRoutesTest, BadParametersAreNamed) {
  expect_problem(get(kAlice, "/api/audit-logs",
                     {{"event_type", "com.todo.task.created"},
                      {"start_date", "yesterday"},
                      {"end_date", "2026-13-01"},
                      {"limit", "501"}}),
                 400, "bad-request", {"event_type", "start_date", "end_date", "limit"});
  expect_problem(get(kAlice, "/api/audit-logs", {{"limit", "0"}}), 400, "bad-request", {"limit"});
  expect_problem(get(kAlice, "/api/audit-logs", {{"user_id", ""}}), 400, "bad-request",
                 {"user_id"});
}

TEST_P(AuditRoutesTest, WithoutATokenEveryRouteIs401) {
  expect_problem(get("", "/api/audit-logs"), 401, "token-missing");
  expect_problem(get("", "/api/audit-logs/verify"), 401, "token-missing");
  expect_problem(get("", "/api/tasks/x/history"), 401, "token-missing");
}

TEST_P(AuditRoutesTest, VerifyReportsTheChainAndTheFirstBrokenLink) {
  Answer ok = get(kAdmin, "/api/audit-logs/verify");
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, json::parse(R"({"valid": true, "entries_checked": 4, "oldest_id": 1,
    "newest_id": 4, "anchor": "0000000000000000000000000000000000000000000000000000000000000000"})"));
  execute("UPDATE audit_logs SET task_id = 'other' WHERE id = 3");
  Answer broken = get(kAdmin, "/api/audit-logs/verify");
  EXPECT_EQ(broken.body.at("valid"), false);
  EXPECT_EQ(broken.body.at("entries_checked"), 3);
  EXPECT_EQ(broken.body.at("first_broken"), json::parse(R"({"id": 3, "reason": "hash mismatch"})"));
}

TEST(AuditCursorCodec, RoundTripsAndRefusesAnotherKey) {
  const AuditCursorCodec codec(std::string(32, 'a'));
  const std::string cursor = codec.encode(CursorKind::kList, 42);
  EXPECT_EQ(codec.decode(cursor, CursorKind::kList).value(), 42);
  EXPECT_FALSE(codec.decode(cursor, CursorKind::kHistory));
  EXPECT_FALSE(AuditCursorCodec(std::string(32, 'b')).decode(cursor, CursorKind::kList));
  EXPECT_FALSE(codec.decode("no-dot", CursorKind::kList));
}

TODO_STORE_TEST_ON_EVERY_BACKEND(AuditRoutesTest);

}  // namespace
}  // namespace todo::services::audit

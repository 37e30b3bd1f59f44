// Handlers of the audit routes: query parameters, who may see what (the role is read from the
// users table on every request, so a role change applies at once), and the JSON of entries.
#include "services/audit/audit_routes.h"

#include <boost/json.hpp>

#include "domain/civil.h"
#include "domain/time_format.h"
#include "http/json.h"
#include "http/problem.h"
#include "http/query.h"

namespace todo::services::audit {
namespace {

namespace json = boost::json;
using domain::ErrorCode;
using domain::FieldError;
using http::Request;
using http::Response;

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

Response problem(const Request& req, const domain::Error& error) {
  return http::problem_response(error, req.path);
}

domain::Error forbidden(std::string detail) {
  return domain::make_error(ErrorCode::kForbidden, std::move(detail));
}

// ---- query parameters -------------------------------------------------------------------------

class QueryParser {
 public:
  explicit QueryParser(const Request& req) : req_(req) {}

  std::optional<std::string> text(std::string_view name) {
    auto v = req_.query_param(name);
    if (!v) return std::nullopt;
    if (v->empty()) {
      add(name, "must not be empty");
      return std::nullopt;
    }
    return std::string(*v);
  }

  std::optional<std::string> event_type() {
    auto v = text("event_type");
    if (v && !is_event_type(*v)) {
      add("event_type", "must be task.created, task.updated, task.completed or task.deleted");
      return std::nullopt;
    }
    return v;
  }

  // An RFC 3339 instant, or a date: the start (or end) of that day in UTC.
  std::optional<domain::Timestamp> bound(std::string_view name, bool end_of_day) {
    auto v = req_.query_param(name);
    if (!v) return std::nullopt;
    if (auto instant = domain::parse_rfc3339(*v)) return instant;
    if (auto date = domain::parse_date(*v)) {
      const std::int64_t day = domain::days_from_civil(*date) + (end_of_day ? 1 : 0);
      const domain::Timestamp midnight{std::chrono::days(day)};
      return end_of_day ? midnight - std::chrono::microseconds(1) : midnight;
    }
    add(name, "must be an RFC 3339 instant or a date YYYY-MM-DD");
    return std::nullopt;
  }

  int limit() {
    auto v = req_.query_param("limit");
    if (!v) return kDefaultLimit;
    auto n = http::parse_integer(*v);
    if (!n || *n < 1 || *n > kMaxLimit) {
      add("limit", "must be an integer from 1 to 500");
      return kDefaultLimit;
    }
    return static_cast<int>(*n);
  }

  // The position after which the page starts (checked last: it is only decoded when the other
  // parameters are valid, so one answer reports them all).
  domain::Result<std::optional<std::int64_t>> cursor(const AuditCursorCodec& cursors,
                                                     CursorKind kind) {
    auto v = req_.query_param("cursor");
    if (!v || v->empty()) return std::optional<std::int64_t>{};
    auto id = cursors.decode(*v, kind);
    if (!id) return id.error();
    return std::optional<std::int64_t>{*id};
  }

  std::optional<domain::Error> error() {
    if (errors_.empty()) return std::nullopt;
    return http::bad_query(std::move(errors_));
  }

 private:
  void add(std::string_view field, std::string reason) {
    errors_.push_back({std::string(field), std::move(reason)});
  }

  const Request& req_;
  std::vector<FieldError> errors_;
};

// ---- rendering --------------------------------------------------------------------------------

json::object entry_to_json(const store::AuditEntry& e) {
  // A payload that is not a JSON object (the row was edited) is shown as nulls, not hidden: the
  // entry still appears, and verify names it.
  boost::system::error_code ec;
  json::value payload = json::parse(e.payload, ec);
  json::value task = nullptr;
  json::value changes = nullptr;
  if (!ec && payload.is_object()) {
    if (const json::value* t = payload.as_object().if_contains("task")) task = *t;
    if (const json::value* c = payload.as_object().if_contains("changes")) changes = *c;
  }
  return json::object{
      {"id", e.id},
      {"event_id", e.event_id},
      {"event_type", e.event_type},
      {"user_id", e.user_id},
      {"actor", e.actor},
      {"task_id", e.task_id},
      {"sequence", e.sequence},
      {"event_time", domain::format_rfc3339(e.event_time)},
      {"recorded_at", domain::format_rfc3339(e.recorded_at)},
      {"task", std::move(task)},
      {"changes", std::move(changes)},
      {"prev_hash", e.prev_hash},
      {"hash", e.hash},
  };
}

Response page_response(const AuditPage& page, const AuditCursorCodec& cursors, CursorKind kind) {
  json::array items;
  items.reserve(page.items.size());
  for (const auto& e : page.items) items.push_back(entry_to_json(e));
  json::value next = nullptr;
  if (page.has_more) next = json::value(cursors.encode(kind, page.items.back().id));
  return http::json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

json::value optional_id(const std::optional<std::int64_t>& id) {
  if (!id) return nullptr;
  return *id;
}

// ---- handlers ---------------------------------------------------------------------------------

Response list_entries(const AuditRouteDependencies& deps, Request& req, const std::string& caller) {
  QueryParser params(req);
  store::AuditQuery query;
  query.user_id = params.text("user_id");
  query.task_id = params.text("task_id");
  query.event_type = params.event_type();
  query.from = params.bound("start_date", false);
  query.to = params.bound("end_date", true);
  query.limit = params.limit();
  if (auto e = params.error()) return problem(req, *e);
  auto after = params.cursor(deps.cursors, CursorKind::kList);
  if (!after) return problem(req, after.error());
  query.after_id = *after;

  if (!deps.audit.is_admin(caller)) {
    if (query.user_id && *query.user_id != caller) {
      return problem(req, forbidden("Only an admin may read another user's audit log."));
    }
    query.user_id = caller;
  }
  return page_response(deps.audit.list(std::move(query)), deps.cursors, CursorKind::kList);
}

Response task_history(const AuditRouteDependencies& deps, Request& req, const std::string& caller) {
  QueryParser params(req);
  store::AuditQuery query;
  query.user_id = caller;
  query.task_id = std::string(req.path_param("id"));
  query.ascending = true;
  query.limit = params.limit();
  if (auto e = params.error()) return problem(req, *e);
  auto after = params.cursor(deps.cursors, CursorKind::kHistory);
  if (!after) return problem(req, after.error());
  query.after_id = *after;

  AuditPage page = deps.audit.list(std::move(query));
  if (page.items.empty() && !*after) {
    return problem(req, domain::make_error(ErrorCode::kTaskNotFound, "No such task."));
  }
  return page_response(page, deps.cursors, CursorKind::kHistory);
}

Response verify_chain(const AuditRouteDependencies& deps, Request& req, const std::string& caller) {
  if (!deps.audit.is_admin(caller)) {
    return problem(req, forbidden("Only an admin may verify the audit log."));
  }
  const VerifyReport report = deps.audit.verify();
  json::object body{
      {"valid", report.valid},
      {"entries_checked", report.entries_checked},
      {"oldest_id", optional_id(report.oldest_id)},
      {"newest_id", optional_id(report.newest_id)},
      {"anchor", report.anchor},
  };
  if (report.first_broken) {
    body["first_broken"] =
        json::object{{"id", report.first_broken->id}, {"reason", report.first_broken->reason}};
  }
  return http::json_response(200, body);
}

}  // namespace

// The handlers keep a copy of `deps` (references and a function), so a temporary may be passed.
void add_audit_routes(http::Router& router, const AuditRouteDependencies& deps) {
  auto route = [&router, &deps](std::string pattern, auto handler) {
    router.add(http::Method::kGet, std::move(pattern), http::Executor::kDatabaseRead,
               [deps, handler](Request& req) {
                 auto caller = deps.authenticate(req);
                 if (!caller) return problem(req, caller.error());
                 return handler(deps, req, *caller);
               });
  };
  route("/api/audit-logs", list_entries);
  route("/api/audit-logs/verify", verify_chain);
  route("/api/tasks/{id}/history", task_history);
}

}  // namespace todo::services::audit

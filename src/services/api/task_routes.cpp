// Handlers of the task routes: request parsing (bodies, query parameters, If-Match,
// Idempotency-Key), the TaskService call, and JSON rendering with ETag and Location.
#include "services/api/task_routes.h"
#include "services/api/task_body.h"

#include "auth/tokens.h"
#include "domain/task_json.h"
#include "domain/text.h"
#include "domain/time_format.h"
#include "domain/time_zone.h"
#include "http/json.h"
#include "http/problem.h"
#include "http/query.h"

#include <boost/json.hpp>
#include <functional>
#include <type_traits>


namespace todo::services::api {
namespace {

namespace json = boost::json;
using domain::ErrorCode;
using domain::FieldError;
using domain::Patch;
using http::Request;
using http::Response;

Response problem(const Request& req, const domain::Error& error) {
  return http::problem_response(error, req.path);
}

std::string etag(const domain::Task& task) { return "\"" + std::to_string(task.version) + "\""; }

// How a family of routes shows a task: the tasks API's object, or the seed-compatible one.
using domain::TaskJsonStyle;

Response task_response(int status, const domain::Task& task,
                       TaskJsonStyle style = TaskJsonStyle::kApi) {
  Response res = http::json_text_response(status, domain::task_json_text(task, style));
  res.set_header("etag", etag(task));
  return res;
}

// ---- request bodies -------------------------------------------------------------------------

// Reads the task fields of a JSON body into a TaskInput, noting each field of the wrong type.
class TaskBodyReader {
 public:
  explicit TaskBodyReader(const json::object& body) : body_(body) {}

  domain::TaskInput read() {
    domain::TaskInput in;
    in.title = text("title");
    in.description = text("description");
    in.status = text("status");
    in.priority = text("priority");
    in.tags = text_list("tags");
    in.due_date = text("due_date");
    in.all_day = boolean("all_day");
    in.timezone = text("timezone");
    in.recurrence = text("recurrence");
    in.recurrence_mode = text("recurrence_mode");
    in.reminders = integer_list("reminders");
    return in;
  }
  std::vector<FieldError> take_errors() { return std::move(errors_); }

 private:
  // Absent → absent, null → null; otherwise `convert` reads the value, and a value it cannot
  // read is noted as a type error (the field then counts as absent).
  template <class T, class Convert>
  Patch<T> read_field(std::string_view name, Convert convert, const char* expected) {
    const json::value* v = body_.if_contains(name);
    if (!v) return Patch<T>::absent();
    if (v->is_null()) return Patch<T>::null();
    std::optional<T> value = convert(*v);
    if (!value) {
      errors_.push_back({std::string(name), expected});
      return Patch<T>::absent();
    }
    return Patch<T>::of(std::move(*value));
  }

  // An array whose every item `convert` can read.
  template <class T, class Convert>
  static std::optional<std::vector<T>> read_array(const json::value& v, Convert convert) {
    if (!v.is_array()) return std::nullopt;
    std::vector<T> out;
    for (const json::value& item : v.as_array()) {
      std::optional<T> one = convert(item);
      if (!one) return std::nullopt;
      out.push_back(std::move(*one));
    }
    return out;
  }

  static std::optional<std::string> as_text(const json::value& v) {
    if (!v.is_string()) return std::nullopt;
    return std::string(v.as_string());
  }
  static std::optional<std::int64_t> as_integer(const json::value& v) {
    if (v.is_int64()) return v.as_int64();
    if (v.is_uint64()) {
      return static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), INT64_MAX));
    }
    return std::nullopt;
  }

  Patch<std::string> text(std::string_view name) {
    return read_field<std::string>(name, as_text, "must be a string");
  }
  Patch<bool> boolean(std::string_view name) {
    return read_field<bool>(
        name,
        [](const json::value& v) { return v.is_bool() ? std::optional(v.as_bool()) : std::nullopt; },
        "must be true or false");
  }
  Patch<std::vector<std::string>> text_list(std::string_view name) {
    return read_field<std::vector<std::string>>(
        name, [](const json::value& v) { return read_array<std::string>(v, as_text); },
        "must be an array of strings");
  }
  Patch<std::vector<std::int64_t>> integer_list(std::string_view name) {
    return read_field<std::vector<std::int64_t>>(
        name, [](const json::value& v) { return read_array<std::int64_t>(v, as_integer); },
        "must be an array of integers");
  }

  const json::object& body_;
  std::vector<FieldError> errors_;
};

}  // namespace

domain::Result<domain::TaskInput> read_task_body(const http::Request& req) {
  auto body = http::parse_json_object(req);
  if (!body) return body.error();
  TaskBodyReader reader(*body);
  domain::TaskInput input = reader.read();
  input.type_errors = reader.take_errors();
  return input;
}

namespace {

// ---- headers ----------------------------------------------------------------------------------

// If-Match: "3", W/"3" or 3 → 3; * or absent → no condition.
domain::Result<std::optional<std::int64_t>> if_match(const Request& req) {
  auto header = req.header("if-match");
  if (!header) return std::optional<std::int64_t>{};
  std::string_view v = *header;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v == "*") return std::optional<std::int64_t>{};
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  const auto version = http::parse_integer(v);
  if (!version || *version < 1) {
    domain::Error e = domain::make_error(ErrorCode::kBadRequest, "If-Match must be an ETag like \"3\".");
    e.fields.push_back({"If-Match", "must be a version ETag such as \"3\""});
    return e;
  }
  return version;
}

// ---- query parameters -------------------------------------------------------------------------

// A task has at most this many tags, so more filters could never all match.
constexpr std::size_t kMaxTagFilters = domain::kMaxTags;
// Longer than any title or description: such a text matches nothing.
constexpr std::size_t kMaxSearchLength = domain::kMaxDescriptionLength;

// The query parameters of both lists, GET /api/tasks and the seed-compatible
// GET /api/{user_id}/tasks, with the filters they share read by the same code.
class ListQueryParser {
 public:
  ListQueryParser(const Request& req, const TaskRouteDependencies& deps, std::string user_id)
      : req_(req), deps_(deps), user_id_(std::move(user_id)) {}

  // GET /api/tasks; a bad parameter is 400 bad-request.
  domain::Result<store::TaskQuery> parse() {
    store::TaskQuery q;
    q.user_id = user_id_;
    if (auto v = req_.query_param("status")) q.status = status(*v);
    if (auto v = req_.query_param("priority")) q.priority = priority(*v);
    q.tags = tags("tag", req_.query_params("tag"));
    q.folded_text = search("q");
    q.due_after = bound("due_after", false);
    q.due_before = bound("due_before", true);
    if (auto v = req_.query_param("overdue")) q.overdue_at = overdue(*v);
    if (auto v = req_.query_param("sort")) {
      if (*v == "created_at") q.sort = store::TaskSort::kCreatedAt;
      else if (*v == "due_date") q.sort = store::TaskSort::kDueDate;
      else if (*v == "priority") q.sort = store::TaskSort::kPriority;
      else if (*v == "title") q.sort = store::TaskSort::kTitle;
      else if (*v == "updated_at") q.sort = store::TaskSort::kUpdatedAt;
      else add("sort", "must be created_at, due_date, priority, title or updated_at");
    }
    if (auto v = req_.query_param("order")) {
      if (*v == "desc") q.descending = true;
      else if (*v != "asc") add("order", "must be asc or desc");
    }
    if (auto v = req_.query_param("limit")) {
      auto n = http::parse_integer(*v);
      if (!n || *n < 1 || *n > 500) add("limit", "must be an integer from 1 to 500");
      else q.limit = static_cast<int>(*n);
    }
    if (!errors_.empty()) return http::bad_query(std::move(errors_));
    if (auto v = req_.query_param("cursor"); v && !v->empty()) {
      auto position = deps_.cursors.decode(*v, q.sort, q.descending);
      if (!position) return position.error();
      q.after = std::move(*position);
    }
    return q;
  }

  // GET /api/{user_id}/tasks: the previous system's parameters and defaults (ADR 0018). Its
  // enumerated values are read in any case, `tags` is one comma-separated list, `order` is asc or
  // else desc, and a bad parameter is 422 validation-error, as that system answered.
  domain::Result<store::TaskQuery> parse_seed() {
    store::TaskQuery q;
    q.user_id = user_id_;
    q.descending = true;
    q.ties = store::TaskTies::kByDueThenNewest;
    if (auto v = req_.query_param("status")) q.status = status(domain::lowercase(*v));
    if (auto v = req_.query_param("priority")) q.priority = priority(domain::lowercase(*v));
    if (auto v = req_.query_param("tags")) q.tags = tags("tags", split_list(*v));
    q.folded_text = search("search");
    q.due_after = bound("due_after", false);
    q.due_before = bound("due_before", true);
    if (auto v = req_.query_param("overdue")) q.overdue_at = overdue(domain::lowercase(*v));
    if (auto v = req_.query_param("sort")) {
      const std::string sort = domain::lowercase(*v);
      if (sort == "created_at") q.sort = store::TaskSort::kCreatedAt;
      else if (sort == "due_date") q.sort = store::TaskSort::kDueDate;
      else if (sort == "priority") q.sort = store::TaskSort::kPriority;
      else if (sort == "status") q.sort = store::TaskSort::kStatus;
      else add("sort", "must be created_at, due_date, priority or status");
    }
    if (auto v = req_.query_param("order")) q.descending = domain::lowercase(*v) != "asc";
    if (!errors_.empty()) {
      domain::Error e = domain::validation_error(std::move(errors_));
      e.detail = "Some query parameters are invalid.";
      return e;
    }
    return q;
  }

 private:
  void add(std::string field, std::string reason) {
    errors_.push_back({std::move(field), std::move(reason)});
  }

  // all (no filter), pending or completed.
  std::optional<domain::TaskStatus> status(std::string_view v) {
    if (v == "pending") return domain::TaskStatus::kPending;
    if (v == "completed") return domain::TaskStatus::kCompleted;
    if (v != "all") add("status", "must be all, pending or completed");
    return std::nullopt;
  }

  std::optional<domain::Priority> priority(std::string_view v) {
    auto p = domain::parse_priority(v);
    if (!p) add("priority", "must be high, medium or low");
    return p;
  }

  // "a, b,,c" → {"a", " b", "c"}: the items of a comma-separated list, empty ones left out.
  static std::vector<std::string_view> split_list(std::string_view v) {
    std::vector<std::string_view> items;
    while (true) {
      const auto comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      if (!domain::trim(item).empty()) items.push_back(item);
      if (comma == std::string_view::npos) return items;
      v.remove_prefix(comma + 1);
    }
  }

  // Every tag must be present. At most as many as a task may have: more could never all match,
  // and each is a condition of the query (hundreds would reach the database's limits).
  std::vector<std::string> tags(std::string_view name,
                                const std::vector<std::string_view>& values) {
    std::vector<std::string> out;
    if (values.size() > kMaxTagFilters) {
      add(std::string(name), "at most " + std::to_string(kMaxTagFilters) + " tag filters");
      return out;
    }
    for (auto tag : values) {
      auto normalized = domain::normalize_tag(tag);
      if (!normalized) add(std::string(name), "must be a tag of 1 to 50 characters");
      else out.push_back(std::move(*normalized));
    }
    return out;
  }

  // A case-insensitive substring of title or description, folded as the stored texts are.
  std::optional<std::string> search(std::string_view name) {
    auto v = req_.query_param(name);
    if (!v || v->empty()) return std::nullopt;
    if (!domain::is_valid_utf8(*v)) {
      add(std::string(name), "must be valid UTF-8");
    } else if (domain::code_point_count(*v) > kMaxSearchLength) {
      add(std::string(name), "must be at most " + std::to_string(kMaxSearchLength) + " characters");
    } else {
      return domain::casefold(*v);
    }
    return std::nullopt;
  }

  // true: pending tasks past due now; false: no filter.
  std::optional<domain::Timestamp> overdue(std::string_view v) {
    if (v == "true") return deps_.clock.now();
    if (v != "false") add("overdue", "must be true or false");
    return std::nullopt;
  }

  // An instant, or a date meaning the start (or end) of that day in the user's time zone.
  std::optional<domain::Timestamp> bound(std::string_view name, bool end_of_day) {
    auto v = req_.query_param(name);
    if (!v) return std::nullopt;
    if (auto instant = domain::parse_rfc3339(*v)) return instant;
    if (auto date = domain::parse_date(*v)) {
      auto zone = user_zone();
      if (!zone) return std::nullopt;
      domain::LocalDate day = *date;
      if (end_of_day) {
        auto next = domain::civil_from_days(domain::days_from_civil(day.year, day.month, day.day) + 1);
        auto start_next = zone->to_utc({next.year, next.month, next.day, 0, 0, 0, 0});
        return start_next - std::chrono::microseconds(1);
      }
      return zone->to_utc({day.year, day.month, day.day, 0, 0, 0, 0});
    }
    add(std::string(name), "must be an RFC 3339 instant or a date YYYY-MM-DD");
    return std::nullopt;
  }

  std::shared_ptr<const domain::TimeZone> user_zone() {
    auto user = deps_.accounts.get_user(user_id_);
    std::string name = user ? user->timezone : "UTC";
    auto zone = deps_.zones.find(name);
    return zone ? zone : deps_.zones.find("UTC");
  }

  const Request& req_;
  const TaskRouteDependencies& deps_;
  std::string user_id_;
  std::vector<FieldError> errors_;
};

}  // namespace
}  // namespace todo::services::api

namespace todo::services::api {
namespace {

// ---- handlers ---------------------------------------------------------------------------------

// How a write route answers once the service's outcome is known: `render` makes the response of
// a success, on the route's pool; an error is its problem.
template <class T, class Render>
tasks::Done<T> answer(const http::Reply& reply, std::string path, Render render) {
  return [reply, path = std::move(path), render = std::move(render)](tasks::Outcome<T> outcome) {
    reply([outcome = std::move(outcome), path, render]() -> Response {
      auto result = outcome();
      if (!result) return http::problem_response(result.error(), path);
      if constexpr (std::is_void_v<T>) {
        return render();
      } else {
        return render(*result);
      }
    });
  };
}

// A change read and computed again goes on on the route's pool.
tasks::Resume on_pool(const http::Reply& reply) {
  return [reply](std::function<void()> step) { reply.post(std::move(step)); };
}

Response render_created(const tasks::CreatedTask& created, TaskJsonStyle style,
                        const std::string& location) {
  if (created.replay) {
    Response res;
    res.status = created.replay->status;
    res.body = created.replay->body;
    std::string_view headers = created.replay->headers;
    while (!headers.empty()) {
      auto end = headers.find('\n');
      std::string_view line = headers.substr(0, end);
      if (auto colon = line.find(": "); colon != std::string_view::npos) {
        res.set_header(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
      }
      if (end == std::string_view::npos) break;
      headers.remove_prefix(end + 1);
    }
    res.set_header("idempotent-replayed", "true");
    return res;
  }
  Response res = task_response(201, created.task, style);
  res.set_header("location", location);
  return res;
}

// Where a task lives: /api/tasks/{id}, or under the seed-compatible /api/{user_id}/tasks.
std::string task_location(const domain::Task& task, bool seed) {
  return (seed ? "/api/" + task.user_id + "/tasks/" : std::string("/api/tasks/")) + task.id;
}

// The seed routes take the enumerated values in any case (the previous system stored them
// lower-cased): priority, status and a recurrence preset (an RRULE is left as it is).
domain::TaskInput lower_case_enumerations(domain::TaskInput input) {
  auto lower = [](domain::Patch<std::string>& field) {
    if (field.kind == domain::Patch<std::string>::Kind::kValue) {
      field.value = domain::lowercase(field.value);
    }
  };
  lower(input.priority);
  lower(input.status);
  if (input.recurrence.kind == domain::Patch<std::string>::Kind::kValue) {
    std::string preset = domain::lowercase(input.recurrence.value);
    for (std::string_view name : {"none", "daily", "weekly", "monthly", "yearly"}) {
      if (preset == name) input.recurrence.value = std::move(preset);
    }
  }
  return input;
}

void create_task(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
                 bool seed, const http::Reply& reply) {
  auto input = read_task_body(req);
  if (!input) return reply.send(problem(req, input.error()));
  if (seed) *input = lower_case_enumerations(std::move(*input));
  const TaskJsonStyle style = seed ? TaskJsonStyle::kSeed : TaskJsonStyle::kApi;
  std::optional<tasks::IdempotencyKey> key;
  if (auto header = req.header("idempotency-key")) {
    if (header->empty() || header->size() > 200 || !domain::is_valid_utf8(*header)) {
      domain::Error e = domain::make_error(ErrorCode::kBadRequest, "Idempotency-Key is invalid.");
      e.fields.push_back({"Idempotency-Key", "must be 1 to 200 characters"});
      return reply.send(problem(req, e));
    }
    key = tasks::IdempotencyKey{std::string(*header),
                         auth::sha256_hex("POST " + req.path + "\n" + req.body)};
  }
  auto render = [style, seed](const domain::Task& task) {
    store::StoredResponse r;
    r.status = 201;
    r.body = domain::task_json_text(task, style);
    r.headers = "content-type: application/json\netag: " + etag(task) +
                "\nlocation: " + task_location(task, seed);
    return r;
  };
  deps.tasks.create_async(user_id, *input, key, render,
                          answer<tasks::CreatedTask>(reply, req.path,
                                                     [style, seed](const tasks::CreatedTask& c) {
                                                       return render_created(
                                                           c, style, task_location(c.task, seed));
                                                     }));
}

// The response is made where the database answers (one task's JSON: short work), so a found
// task goes to the I/O thread without a hop through the pool; an exception is answered from the
// pool, as a handler's would be.
void get_task(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
              TaskJsonStyle style, const http::Reply& reply) {
  std::optional<std::string> none_match;
  if (auto header = req.header("if-none-match")) none_match = std::string(*header);
  auto answer = [reply, style, path = req.path,
                 none_match = std::move(none_match)](tasks::Outcome<domain::Task> outcome) {
    std::optional<domain::Result<domain::Task>> task;
    try {
      task.emplace(outcome());
    } catch (...) {
      return reply(
          [error = std::current_exception()]() -> Response { std::rethrow_exception(error); });
    }
    if (!*task) return reply.send(http::problem_response(task->error(), path));
    const domain::Task& found = **task;
    if (none_match && *none_match == etag(found)) {
      Response res;
      res.status = 304;
      res.set_header("etag", etag(found));
      return reply.send(std::move(res));
    }
    reply.send(task_response(200, found, style));
  };
  deps.tasks.get_async(user_id, std::string(req.path_param("id")), std::move(answer));
}

Response render_task(const domain::Task& task) { return task_response(200, task); }

void update_task(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
                 bool replace, const http::Reply& reply) {
  auto condition = if_match(req);
  if (!condition) return reply.send(problem(req, condition.error()));
  auto input = read_task_body(req);
  if (!input) return reply.send(problem(req, input.error()));
  deps.tasks.update_async(user_id, std::string(req.path_param("id")), *input, replace, *condition,
                          on_pool(reply), answer<domain::Task>(reply, req.path, render_task));
}

void set_status(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
                domain::TaskStatus status, const http::Reply& reply) {
  auto condition = if_match(req);
  if (!condition) return reply.send(problem(req, condition.error()));
  deps.tasks.set_status_async(user_id, std::string(req.path_param("id")), status, *condition,
                              on_pool(reply), answer<domain::Task>(reply, req.path, render_task));
}

void delete_task(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
                 const http::Reply& reply) {
  auto condition = if_match(req);
  if (!condition) return reply.send(problem(req, condition.error()));
  deps.tasks.remove_async(user_id, std::string(req.path_param("id")), *condition, on_pool(reply),
                          answer<void>(reply, req.path, [] {
                            Response res;
                            res.status = 204;
                            return res;
                          }));
}

Response list_tasks(const TaskRouteDependencies& deps, Request& req, const std::string& user_id) {
  auto query = ListQueryParser(req, deps, user_id).parse();
  if (!query) return problem(req, query.error());
  tasks::TaskPage page = deps.tasks.list(*query);
  std::string body;
  body.reserve(64 + domain::kTaskJsonSizeHint * page.items.size());
  domain::JsonWriter w(body);
  w.begin_object().key("items").begin_array();
  for (const auto& task : page.items) domain::write_task_json(w, task);
  w.end_array().key("next_cursor");
  if (page.has_more) {
    w.string(deps.cursors.encode(query->sort, query->descending,
                                 store::TaskRepository::position_of(page.items.back(), query->sort)));
  } else {
    w.null();
  }
  w.end_object();
  return http::json_text_response(200, std::move(body));
}

Response sync_tasks(const TaskRouteDependencies& deps, Request& req, const std::string& user_id) {
  std::vector<FieldError> errors;
  std::int64_t since = 0;
  if (auto v = req.query_param("since"); v && !v->empty()) {
    auto n = http::parse_integer(*v);
    if (!n || *n < 0) errors.push_back({"since", "must be a cursor returned by this route"});
    else since = *n;
  }
  int limit = 500;
  if (auto v = req.query_param("limit")) {
    auto n = http::parse_integer(*v);
    if (!n || *n < 1 || *n > 1000) errors.push_back({"limit", "must be an integer from 1 to 1000"});
    else limit = static_cast<int>(*n);
  }
  if (!errors.empty()) return problem(req, http::bad_query(std::move(errors)));
  auto page = deps.tasks.sync(user_id, since, limit);
  if (!page) return problem(req, page.error());
  std::string body;
  body.reserve(64 + domain::kTaskJsonSizeHint * page->items.size());
  domain::JsonWriter w(body);
  w.begin_object().key("items").begin_array();
  for (const auto& task : page->items) {
    if (task.deleted_at) {
      w.begin_object().key("id").string(task.id).key("deleted").boolean(true).end_object();
    } else {
      domain::write_task_json(w, task);
    }
  }
  w.end_array();
  w.key("cursor").string(std::to_string(page->cursor));
  w.key("has_more").boolean(page->has_more);
  w.end_object();
  return http::json_text_response(200, std::move(body));
}

// ---- seed-compatible routes: /api/{user_id}/tasks… ------------------------------------------

// The path's user must be the token's subject: another user id is 403, whether or not that user
// exists (their tasks are still 404 under the caller's own path: no existence leak).
domain::Error another_user() {
  return domain::make_error(ErrorCode::kForbidden,
                            "This path names another user; use the user id of your own token.");
}

// A bare array of every task that matches, unpaginated, serialized task by task.
Response seed_list(const TaskRouteDependencies& deps, Request& req, const std::string& user_id) {
  auto query = ListQueryParser(req, deps, user_id).parse_seed();
  if (!query) return problem(req, query.error());
  const std::vector<domain::Task> tasks = deps.tasks.list_all(std::move(*query));
  std::string body;
  body.reserve(2 + domain::kTaskJsonSizeHint * tasks.size());
  domain::JsonWriter w(body);
  w.begin_array();
  for (const auto& task : tasks) domain::write_task_json(w, task, TaskJsonStyle::kSeed);
  w.end_array();
  return http::json_text_response(200, std::move(body));
}

Response render_seed_task(const domain::Task& task) {
  return task_response(200, task, TaskJsonStyle::kSeed);
}

// The previous system's PUT is a partial update: an absent or null field is left as it is
// (`tags: []` clears the tags), and a body that names nothing to change is 422.
void seed_update(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
                 const http::Reply& reply) {
  auto condition = if_match(req);
  if (!condition) return reply.send(problem(req, condition.error()));
  auto body = read_task_body(req);
  if (!body) return reply.send(problem(req, body.error()));
  domain::TaskInput input = lower_case_enumerations(std::move(*body));
  bool changes_something = false;
  auto keep_if_null = [&changes_something](auto& field) {
    if (field.kind == std::decay_t<decltype(field)>::Kind::kNull) field = {};
    changes_something = changes_something || !field.is_absent();
  };
  keep_if_null(input.title);
  keep_if_null(input.description);
  keep_if_null(input.status);
  keep_if_null(input.priority);
  keep_if_null(input.tags);
  keep_if_null(input.due_date);
  keep_if_null(input.all_day);
  keep_if_null(input.timezone);
  keep_if_null(input.recurrence);
  keep_if_null(input.recurrence_mode);
  keep_if_null(input.reminders);
  if (!changes_something && input.type_errors.empty()) {
    domain::Error e = domain::validation_error(
        {{"body", "names no field to change (absent and null fields are left as they are)"}});
    e.detail = "The request changes nothing.";
    return reply.send(problem(req, e));
  }
  deps.tasks.update_async(user_id, std::string(req.path_param("id")), input, /*replace=*/false,
                          *condition, on_pool(reply),
                          answer<domain::Task>(reply, req.path, render_seed_task));
}

void seed_toggle(const TaskRouteDependencies& deps, Request& req, const std::string& user_id,
                 const http::Reply& reply) {
  deps.tasks.toggle_async(user_id, std::string(req.path_param("id")), on_pool(reply),
                          answer<domain::Task>(reply, req.path, render_seed_task));
}

// The user a request acts for: the token's subject, which a seed-compatible path must name.
domain::Result<std::string> acting_user(const TaskRouteDependencies& deps, const Request& req,
                                        bool seed) {
  auto claims = deps.authenticator.authenticate(req);
  if (!claims) return claims.error();
  if (seed && req.path_param("user_id") != claims->sub) return another_user();
  return std::move(claims->sub);
}

}  // namespace

// The handlers keep a copy of `deps` (references only), so a temporary may be passed.
void add_task_routes(http::Router& router, const TaskRouteDependencies& deps) {
  using http::Executor;
  using http::Method;
  // Each read route: the method, the pattern, whether it is a seed-compatible path naming the
  // user, and the handler that runs for the authenticated user.
  auto read_route = [&router, &deps](Method method, std::string pattern, bool seed, auto handler) {
    router.add(method, std::move(pattern), Executor::kDatabaseRead,
               [deps, handler, seed](Request& req) {
                 auto user = acting_user(deps, req, seed);
                 if (!user) return problem(req, user.error());
                 return handler(deps, req, *user);
               });
  };
  auto route = [&read_route](Method method, std::string pattern, auto handler) {
    read_route(method, std::move(pattern), false, handler);
  };
  auto seed_route = [&read_route](Method method, std::string pattern, auto handler) {
    read_route(method, std::move(pattern), true, handler);
  };
  // The write routes, and the read of one task, are asynchronous: a request holds no thread
  // while its write waits for the group commit, or its read for the database (http::Reply,
  // TaskService's *_async calls).
  auto async_route = [&router, &deps](Executor executor, Method method, std::string pattern,
                                      bool seed, auto start,
                                      http::AsyncStart where = http::AsyncStart::kOnPool) {
    router.add_async(
        method, std::move(pattern), executor,
        [deps, start, seed](Request& req, http::Reply reply) {
          auto user = acting_user(deps, req, seed);
          if (!user) return reply.send(problem(req, user.error()));
          start(deps, req, *user, reply);
        },
        where);
  };
  auto write_route = [&async_route](Method method, std::string pattern, bool seed, auto start) {
    async_route(Executor::kDatabaseWrite, method, std::move(pattern), seed, start);
  };
  // The read of one task starts on the I/O thread where the database only queues it (its token
  // is checked there too: CPU only); elsewhere the read runs on the read pool.
  const http::AsyncStart get_start = deps.tasks.get_async_returns_at_once()
                                         ? http::AsyncStart::kInline
                                         : http::AsyncStart::kOnPool;
  using D = const TaskRouteDependencies&;
  using R = const http::Reply&;
  route(Method::kGet, "/api/tasks", list_tasks);
  write_route(Method::kPost, "/api/tasks", false, [](D d, Request& r, const std::string& u, R y) {
    create_task(d, r, u, false, y);
  });
  async_route(
      Executor::kDatabaseRead, Method::kGet, "/api/tasks/{id}", false,
      [](D d, Request& r, const std::string& u, R y) { get_task(d, r, u, TaskJsonStyle::kApi, y); },
      get_start);
  write_route(Method::kPatch, "/api/tasks/{id}", false,
              [](D d, Request& r, const std::string& u, R y) { update_task(d, r, u, false, y); });
  write_route(Method::kPut, "/api/tasks/{id}", false,
              [](D d, Request& r, const std::string& u, R y) { update_task(d, r, u, true, y); });
  write_route(Method::kDelete, "/api/tasks/{id}", false, delete_task);
  write_route(Method::kPost, "/api/tasks/{id}/complete", false,
              [](D d, Request& r, const std::string& u, R y) {
                set_status(d, r, u, domain::TaskStatus::kCompleted, y);
              });
  write_route(Method::kPost, "/api/tasks/{id}/reopen", false,
              [](D d, Request& r, const std::string& u, R y) {
                set_status(d, r, u, domain::TaskStatus::kPending, y);
              });
  route(Method::kGet, "/api/sync", sync_tasks);

  seed_route(Method::kGet, "/api/{user_id}/tasks", seed_list);
  write_route(Method::kPost, "/api/{user_id}/tasks", true,
              [](D d, Request& r, const std::string& u, R y) { create_task(d, r, u, true, y); });
  async_route(
      Executor::kDatabaseRead, Method::kGet, "/api/{user_id}/tasks/{id}", true,
      [](D d, Request& r, const std::string& u, R y) {
        get_task(d, r, u, TaskJsonStyle::kSeed, y);
      },
      get_start);
  write_route(Method::kPut, "/api/{user_id}/tasks/{id}", true, seed_update);
  write_route(Method::kDelete, "/api/{user_id}/tasks/{id}", true, delete_task);
  write_route(Method::kPatch, "/api/{user_id}/tasks/{id}/complete", true, seed_toggle);
}

}  // namespace todo::services::api

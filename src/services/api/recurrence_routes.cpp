// Handlers of the recurrence previews: request parsing, the engine (domain/recurrence.h), and the
// JSON of the occurrences, each as wall time with its offset and as UTC.
#include "services/api/recurrence_routes.h"

#include <boost/json.hpp>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "domain/recurrence.h"
#include "domain/task.h"
#include "domain/time_format.h"
#include "domain/time_zone.h"
#include "http/json.h"
#include "http/problem.h"
#include "http/query.h"

namespace todo::services::api {
namespace {

namespace json = boost::json;
using domain::ErrorCode;
using domain::FieldError;
using domain::Patch;
using http::Request;
using http::Response;

constexpr int kDefaultCount = 10;
// Previews one account may run at once: each is bounded (domain::kRecurrenceWorkUnits), and one
// at a time keeps one account from taking more than one thread of the CPU pool (two by default),
// which logins and other accounts' previews also need. Another one meanwhile: 429.
constexpr int kPreviewsPerUser = 1;

// Counts the previews running per account.
class PreviewSlots {
 public:
  // A held slot, or none when the account already runs kPreviewsPerUser previews.
  class Slot {
   public:
    Slot(PreviewSlots* slots, std::string user) : slots_(slots), user_(std::move(user)) {}
    Slot(Slot&& other) noexcept
        : slots_(std::exchange(other.slots_, nullptr)), user_(std::move(other.user_)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (slots_ != nullptr) slots_->release(user_);
    }
    explicit operator bool() const { return slots_ != nullptr; }

   private:
    PreviewSlots* slots_;
    std::string user_;
  };

  Slot acquire(const std::string& user) {
    std::lock_guard lock(mutex_);
    int& running = running_[user];
    if (running >= kPreviewsPerUser) return Slot(nullptr, {});
    ++running;
    return Slot(this, user);
  }

 private:
  void release(const std::string& user) {
    std::lock_guard lock(mutex_);
    auto it = running_.find(user);
    if (it != running_.end() && --it->second <= 0) running_.erase(it);
  }

  std::mutex mutex_;
  std::unordered_map<std::string, int> running_;
};

domain::Error too_many_previews() {
  domain::Error e = domain::make_error(
      domain::ErrorCode::kRateLimited,
      "This account already runs a recurrence preview; wait for it to finish.");
  e.retry_after_seconds = 1;
  return e;
}

Response problem(const Request& req, const domain::Error& error) {
  return http::problem_response(error, req.path);
}

// Runs `handle` for the authenticated user while it holds one of the user's preview slots.
template <class Handle>
Response with_user(const RecurrenceRouteDependencies& deps, PreviewSlots& slots, Request& req,
                   Handle&& handle) {
  auto claims = deps.authenticator.authenticate(req);
  if (!claims) return problem(req, claims.error());
  const auto slot = slots.acquire(claims->sub);
  if (!slot) return problem(req, too_many_previews());
  return handle(claims->sub);
}

std::string date_text(const domain::LocalDate& date) {
  return domain::format_local_date_time({date.year, date.month, date.day}).substr(0, 10);
}

// {recurrence, rrule, timezone, mode, all_day, occurrences: [{local, utc}]}; an all-day
// occurrence's local value is its date.
json::object preview_json(const domain::Task& task, const domain::OccurrencePreview& preview,
                          const domain::TimeZone& zone) {
  json::array items;
  items.reserve(preview.occurrences.size());
  for (const domain::Occurrence& o : preview.occurrences) {
    const std::string local =
        preview.all_day ? date_text(o.local.date()) : domain::format_rfc3339_in_zone(o.at, zone);
    items.push_back(json::object{{"local", local}, {"utc", domain::format_rfc3339(o.at)}});
  }
  json::value recurrence = nullptr;
  if (task.recurrence) recurrence = json::string(*task.recurrence);
  json::value rrule = nullptr;
  if (!preview.rrule.empty()) rrule = json::string(preview.rrule);
  return json::object{
      {"recurrence", std::move(recurrence)}, {"rrule", std::move(rrule)},
      {"timezone", task.timezone},           {"mode", domain::to_string(task.recurrence_mode)},
      {"all_day", preview.all_day},          {"occurrences", std::move(items)}};
}

// The preview of `task` in its own zone, or the problem (an unknown zone is the server's fault:
// tasks are only saved with known ones).
Response render_preview(const RecurrenceRouteDependencies& deps, const Request& req,
                        const domain::Task& task, int count) {
  const auto zone = deps.zones.find(task.timezone);
  if (!zone) {
    return problem(req,
                   domain::make_error(ErrorCode::kInternal, "The task's time zone is not known."));
  }
  auto preview = domain::upcoming_occurrences(task, deps.clock.now(), *zone, count);
  if (!preview) return problem(req, preview.error());
  return http::json_response(200, preview_json(task, *preview, *zone));
}

bool in_count_range(std::int64_t n) { return n >= 1 && n <= domain::kMaxPreviewCount; }

const char* const kCountReason = "must be an integer from 1 to 100";

Response task_occurrences(const RecurrenceRouteDependencies& deps, Request& req,
                          const std::string& user_id) {
  int count = kDefaultCount;
  if (auto text = req.query_param("count")) {
    const auto n = http::parse_integer(*text);
    if (!n || !in_count_range(*n)) return problem(req, http::bad_query({{"count", kCountReason}}));
    count = static_cast<int>(*n);
  }
  auto task = deps.tasks.get(user_id, std::string(req.path_param("id")));
  if (!task) return problem(req, task.error());
  return render_preview(deps, req, *task, count);
}

// The body of a preview, read into the fields of a task so that each is validated exactly as
// when a task is saved.
struct PreviewRequest {
  domain::TaskInput input;
  int count = kDefaultCount;
  std::vector<FieldError> errors;  // type errors, a missing recurrence, a bad count
};

PreviewRequest read_preview(const json::object& body) {
  PreviewRequest out;
  out.input.title = Patch<std::string>::of("preview");
  const auto text = [&](std::string_view name, bool nullable) -> Patch<std::string> {
    const json::value* v = body.if_contains(name);
    if (!v) return Patch<std::string>::absent();
    if (v->is_null() && nullable) return Patch<std::string>::null();
    if (!v->is_string()) {
      out.errors.push_back({std::string(name), "must be a string"});
      return Patch<std::string>::absent();
    }
    return Patch<std::string>::of(std::string(v->as_string()));
  };
  out.input.recurrence = text("recurrence", false);
  if (out.input.recurrence.is_absent() && !body.contains("recurrence")) {
    out.errors.push_back({"recurrence", "is required"});
  }
  out.input.due_date = text("due_date", true);
  out.input.timezone = text("timezone", false);
  out.input.recurrence_mode = text("mode", false);
  if (const json::value* v = body.if_contains("all_day"); v && !v->is_null()) {
    if (v->is_bool()) {
      out.input.all_day = Patch<bool>::of(v->as_bool());
    } else {
      out.errors.push_back({"all_day", "must be true or false"});
    }
  }
  if (const json::value* v = body.if_contains("count")) {
    const bool integer = v->is_int64() || v->is_uint64();
    const std::int64_t n =
        v->is_int64() ? v->as_int64() : (v->is_uint64() ? std::int64_t{-1} : std::int64_t{0});
    if (!integer || !in_count_range(n)) {
      out.errors.push_back({"count", kCountReason});
    } else {
      out.count = static_cast<int>(n);
    }
  }
  return out;
}

Response preview_rule(const RecurrenceRouteDependencies& deps, Request& req,
                      const std::string& user_id) {
  auto body = http::parse_json_object(req);
  if (!body) return problem(req, body.error());
  PreviewRequest preview = read_preview(*body);
  auto owner = deps.accounts.get_user(user_id);
  if (!owner) return problem(req, owner.error());

  std::vector<FieldError> errors = std::move(preview.errors);
  auto task = domain::apply_task_input(domain::Task{}, preview.input, true, {deps.zones, *owner});
  if (!task) {
    for (FieldError e : task.error().fields) {
      if (e.field == "recurrence_mode") e.field = "mode";
      const bool seen = std::any_of(errors.begin(), errors.end(),
                                    [&](const FieldError& o) { return o.field == e.field; });
      if (!seen) errors.push_back(std::move(e));
    }
  } else if (!task->recurrence && preview.input.recurrence.has_value()) {
    errors.push_back(
        {"recurrence", "must be a preset (daily, weekly, monthly, yearly) or an RRULE"});
  }
  if (!errors.empty()) return problem(req, domain::validation_error(std::move(errors)));

  const domain::Task anchored = domain::anchor_series(*task, nullptr, deps.zones);
  return render_preview(deps, req, anchored, preview.count);
}

}  // namespace

void add_recurrence_routes(http::Router& router, const RecurrenceRouteDependencies& deps) {
  // Expanding rules is CPU work (bounded per rule): the CPU pool, not the read pool that every
  // list and get needs. Both read a little (the task, the user's default time zone), which the
  // CPU pool's threads may do.
  auto slots = std::make_shared<PreviewSlots>();
  router.add(http::Method::kGet, "/api/tasks/{id}/occurrences", http::Executor::kCpuHeavy,
             [deps, slots](Request& req) {
               return with_user(deps, *slots, req, [&](const std::string& user) {
                 return task_occurrences(deps, req, user);
               });
             });
  router.add(http::Method::kPost, "/api/recurrence/preview", http::Executor::kCpuHeavy,
             [deps, slots](Request& req) {
               return with_user(deps, *slots, req, [&](const std::string& user) {
                 return preview_rule(deps, req, user);
               });
             });
}

}  // namespace todo::services::api

// Next occurrences: the completed task as stored (content, due date, series state) goes through
// the recurrence engine (domain/recurrence.h); the new task is written with the owner's change
// counter and its events in the consumer's transaction.
#include "services/recurring/recurring_service.h"

#include "domain/recurrence.h"
#include "domain/time_format.h"
#include "log/log.h"
#include "store/recurrence_series_repository.h"
#include "store/user_repository.h"

#include <boost/json.hpp>

#include <stdexcept>

namespace todo::services::recurring {
namespace {

namespace json = boost::json;

const json::string& string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    throw std::invalid_argument("event lacks the string member " + std::string(name));
  }
  return v->get_string();
}

const json::object& object_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_object()) {
    throw std::invalid_argument("event lacks the object member " + std::string(name));
  }
  return v->get_object();
}

}  // namespace

RecurringService::RecurringService(tasks::TaskService& tasks, const domain::ZoneCatalog& zones,
                                   const domain::Clock& clock)
    : tasks_(tasks), zones_(zones), clock_(clock) {}

void RecurringService::handle(const bus::Event& event, store::Transaction& tx) {
  boost::system::error_code ec;
  auto parsed = json::parse(event.payload, ec);
  if (ec || !parsed.is_object()) throw std::invalid_argument("event is not a JSON object");
  const auto& cloud_event = parsed.get_object();
  const std::string type(string_member(cloud_event, "type"));
  const bool completed = type == "com.todo.task.completed";
  const bool deleted = type == "com.todo.task.deleted";
  if (!completed && !deleted) return;
  const auto& data = object_member(cloud_event, "data");
  const std::string user_id(string_member(data, "user_id"));
  const std::string task_id(string_member(data, "task_id"));
  if (deleted) return on_deleted(tx, user_id, task_id);
  auto time = domain::parse_rfc3339(string_member(cloud_event, "time"));
  if (!time) throw std::invalid_argument("event time is not RFC 3339");
  on_completed(tx, user_id, task_id, *time);
}

void RecurringService::on_completed(store::Transaction& tx, const std::string& user_id,
                                    const std::string& task_id, domain::Timestamp completed_at) {
  // The task as it is now: its series state is what counts, even if it was reopened since.
  auto task = tasks_.find_in(tx, user_id, task_id);
  if (!task || !task->recurrence || !task->series_id) return;
  const store::RecurrenceSeriesRepository series;
  const auto state = series.find(tx, *task->series_id);
  // Ended, or a newer occurrence exists (completed again after a reopen, or an old one completed).
  if (state && (state->ended || state->last_index > task->occurrence_index)) return;

  auto zone = zones_.find(task->timezone);
  if (!zone) throw std::runtime_error("unknown time zone " + task->timezone + " of task " + task_id);
  const auto now = clock_.now();
  auto next = domain::next_occurrence(*task, completed_at, now, *zone);
  if (!next) throw std::invalid_argument("recurrence of task " + task_id + ": " + next.error().detail);
  if (!next->has_value()) {
    series.end(tx, *task->series_id, task->occurrence_index, now);
    log::info("recurring series ended", {{"series_id", *task->series_id},
                                         {"occurrence_index", task->occurrence_index}});
    return;
  }
  auto owner = store::UserRepository{}.find_by_id(tx, user_id);
  if (!owner) return;  // the account is gone, and its tasks with it
  const auto created = tasks_.insert_generated(tx, domain::make_next_task(*task, **next), *owner,
                                               kActor, kSource);
  series.advance(tx, *task->series_id, created.occurrence_index, now);
  log::info("next occurrence created", {{"series_id", *task->series_id},
                                        {"task_id", created.id},
                                        {"occurrence_index", created.occurrence_index},
                                        {"due_date", domain::format_rfc3339(*created.due_at)}});
}

void RecurringService::on_deleted(store::Transaction& tx, const std::string& user_id,
                                  const std::string& task_id) {
  auto task = tasks_.find_in(tx, user_id, task_id);
  if (!task || !task->series_id || task->status != domain::TaskStatus::kPending) return;
  const store::RecurrenceSeriesRepository series;
  const auto state = series.find(tx, *task->series_id);
  if (state && (state->ended || state->last_index > task->occurrence_index)) return;
  // The series' pending occurrence is gone: nothing follows it, whatever is completed later.
  series.end(tx, *task->series_id, task->occurrence_index, clock_.now());
}

}  // namespace todo::services::recurring

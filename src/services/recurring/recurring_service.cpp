// Next occurrences: the completed task as stored (content, due date, series state) goes through
// the recurrence engine (domain/recurrence.h); the new task is written with the owner's change
// counter and its events in the consumer's transaction.
#include "services/recurring/recurring_service.h"

#include "domain/recurrence.h"
#include "domain/task_events.h"
#include "domain/time_format.h"
#include "bus/retry.h"
#include "log/log.h"
#include "store/recurrence_series_repository.h"
#include "store/user_repository.h"

#include <boost/json.hpp>

#include <any>
#include <stdexcept>
#include <string>

namespace todo::services::recurring {
namespace {

namespace json = boost::json;

const json::string& string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    throw bus::PermanentFailure("event lacks the string member " + std::string(name));
  }
  return v->get_string();
}

const json::object& object_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_object()) {
    throw bus::PermanentFailure("event lacks the object member " + std::string(name));
  }
  return v->get_object();
}

// A plan about `task` (a series' occurrence) as read with its series `state`; the action is the
// caller's.
Plan plan_for(const domain::Task& task, const std::optional<store::SeriesState>& state,
              domain::Timestamp now) {
  Plan plan;
  plan.user_id = task.user_id;
  plan.task_id = task.id;
  plan.series_id = *task.series_id;
  plan.occurrence_index = task.occurrence_index;
  plan.task_version = task.version;
  plan.series_state = state;
  plan.now = now;
  return plan;
}

}  // namespace

std::string RecurringService::prometheus_text() const {
  return "# HELP todo_recurring_skipped_total Next occurrences not created, by reason.\n"
         "# TYPE todo_recurring_skipped_total counter\n"
         "todo_recurring_skipped_total{reason=\"quota-exceeded\"} " +
         std::to_string(skipped_for_quota()) + "\n";
}

RecurringService::RecurringService(tasks::TaskService& tasks, const domain::ZoneCatalog& zones,
                                   const domain::Clock& clock)
    : tasks_(tasks), zones_(zones), clock_(clock) {}

void RecurringService::handle(const bus::Event& event, store::Transaction& tx) {
  // In one transaction nothing can change between the two; the loop is for a plan made earlier.
  for (int attempt = 0; attempt < tasks::kWriteAttempts; ++attempt) {
    if (apply(plan(event, tx), tx)) return;
  }
  throw std::runtime_error("the task of event " + event.id + " kept changing while planned");
}

bus::Subscription RecurringService::subscription(store::Database& database) {
  bus::Subscription s;
  s.topic = std::string(domain::kTaskEventsTopic);
  s.group = std::string(kConsumerGroup);
  s.prepare = [this, &database](const bus::Event& event) -> std::any {
    return store::read_value(database,
                             [&](store::Transaction& reads) { return plan(event, reads); });
  };
  s.apply = [this](const bus::Event& event, std::any& prepared, store::Transaction& tx) {
    // The snapshot went stale only when another write touched this task or series in between:
    // then (rarely) plan again inside the transaction, where nothing can change.
    if (!apply(std::any_cast<const Plan&>(prepared), tx)) handle(event, tx);
  };
  return s;
}

Plan RecurringService::plan(const bus::Event& event, store::Transaction& reads) {
  boost::system::error_code ec;
  auto parsed = json::parse(event.payload, ec);
  if (ec || !parsed.is_object()) throw bus::PermanentFailure("event is not a JSON object");
  const auto& cloud_event = parsed.get_object();
  const std::string type(string_member(cloud_event, "type"));
  const bool completed = type == "com.todo.task.completed";
  const bool deleted = type == "com.todo.task.deleted";
  if (!completed && !deleted) return Plan{};
  const auto& data = object_member(cloud_event, "data");
  const std::string user_id(string_member(data, "user_id"));
  const std::string task_id(string_member(data, "task_id"));
  if (deleted) return plan_deleted(reads, user_id, task_id);
  auto time = domain::parse_rfc3339(string_member(cloud_event, "time"));
  if (!time) throw bus::PermanentFailure("event time is not RFC 3339");
  return plan_completed(reads, user_id, task_id, *time);
}

Plan RecurringService::plan_completed(store::Transaction& reads, const std::string& user_id,
                                      const std::string& task_id,
                                      domain::Timestamp completed_at) {
  Plan plan;
  // The task as it is now: its series state is what counts, even if it was reopened since.
  auto task = tasks_.find_in(reads, user_id, task_id);
  if (!task || !task->recurrence || !task->series_id) return plan;
  const auto state = store::RecurrenceSeriesRepository{}.find(reads, *task->series_id);
  // Ended, or a newer occurrence exists (completed again after a reopen, or an old one completed).
  if (state && (state->ended || state->last_index > task->occurrence_index)) return plan;
  auto owner = store::UserRepository{}.find_by_id(reads, user_id);
  if (!owner) return plan;  // the account is gone, and its tasks with it

  auto zone = zones_.find(task->timezone);
  if (!zone) throw std::runtime_error("unknown time zone " + task->timezone + " of task " + task_id);
  const auto now = clock_.now();
  auto next = domain::next_occurrence(*task, completed_at, now, *zone);
  if (!next) throw bus::PermanentFailure("recurrence of task " + task_id + ": " + next.error().detail);
  plan = plan_for(*task, state, now);
  if (!next->has_value()) {
    plan.action = Plan::Action::kEndSeries;
    return plan;
  }
  plan.action = Plan::Action::kCreateNext;
  plan.next = tasks_.prepare_generated(domain::make_next_task(*task, **next), *owner, kActor,
                                       kSource);
  return plan;
}

Plan RecurringService::plan_deleted(store::Transaction& reads, const std::string& user_id,
                                    const std::string& task_id) {
  Plan plan;
  auto task = tasks_.find_in(reads, user_id, task_id);
  if (!task || !task->series_id || task->status != domain::TaskStatus::kPending) return plan;
  const auto state = store::RecurrenceSeriesRepository{}.find(reads, *task->series_id);
  if (state && (state->ended || state->last_index > task->occurrence_index)) return plan;
  // The series' pending occurrence is gone: nothing follows it, whatever is completed later.
  plan = plan_for(*task, state, clock_.now());
  plan.action = Plan::Action::kEndSeries;
  return plan;
}

namespace {

bool same_state(const std::optional<store::SeriesState>& a,
                const std::optional<store::SeriesState>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->last_index == b->last_index && a->ended == b->ended);
}

}  // namespace

bool RecurringService::apply(const Plan& plan, store::Transaction& tx) {
  if (plan.action == Plan::Action::kNothing) return true;
  const store::RecurrenceSeriesRepository series;
  // What the plan was computed from must still hold (a no-op when planned in this transaction).
  const auto task = tasks_.find_in(tx, plan.user_id, plan.task_id);
  if (!task || task->version != plan.task_version) return false;
  if (!same_state(series.find(tx, plan.series_id), plan.series_state)) return false;

  if (plan.action == Plan::Action::kEndSeries) {
    series.end(tx, plan.series_id, plan.occurrence_index, plan.now);
    log::info("recurring series ended",
              {{"series_id", plan.series_id}, {"occurrence_index", plan.occurrence_index}});
    return true;
  }
  const auto written = tasks_.write_prepared(tx, *plan.next);
  if (!written) {
    // A quota is full. Retrying cannot help and would dead-letter the event, so the occurrence is
    // skipped: the series neither advances nor ends, and completing this occurrence again (reopen,
    // complete) once there is room creates it.
    skipped_for_quota_.fetch_add(1, std::memory_order_relaxed);
    log::warn("next occurrence skipped", {{"series_id", plan.series_id},
                                          {"task_id", plan.task_id},
                                          {"user_id", plan.user_id},
                                          {"reason", "quota-exceeded"},
                                          {"detail", written.error().detail}});
    return true;
  }
  const auto& created = *written;
  if (!created) return false;  // cannot happen for an insert; plan again to be safe
  series.advance(tx, plan.series_id, created->occurrence_index, plan.now);
  log::info("next occurrence created", {{"series_id", plan.series_id},
                                        {"task_id", created->id},
                                        {"occurrence_index", created->occurrence_index},
                                        {"due_date", domain::format_rfc3339(*created->due_at)}});
  return true;
}

}  // namespace todo::services::recurring

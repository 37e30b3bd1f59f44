// Tasks: portable SQL with $N placeholders, run through Transaction only. The list query is built from
// the filters present, with every value passed as a parameter.
#include "store/task_repository.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "store/sql_values.h"

namespace todo::store {
namespace {

using sql::micros;
using sql::optional_time;
using sql::optional_value;
using sql::text;

// The columns task_from_row reads, in its order; task_values writes them in the same order as
// $1..$23, followed by the folded texts as $24 and $25.
#define TODO_TASK_COLUMNS                                                                      \
  "id, user_id, title, description, status, priority, tags, due_at, all_day, timezone, "       \
  "recurrence, recurrence_mode, series_id, occurrence_index, reminders, version, change_seq, " \
  "created_at, updated_at, completed_at, deleted_at, recurrence_anchor, recurrence_anchor_index"

constexpr std::string_view kInsertTask =
    "INSERT INTO tasks (" TODO_TASK_COLUMNS
    ", title_key, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)";
constexpr std::string_view kUpdateTask =
    "UPDATE tasks SET title = $3, description = $4, status = $5, priority = $6, tags = $7, "
    "due_at = $8, all_day = $9, timezone = $10, recurrence = $11, recurrence_mode = $12, "
    "series_id = $13, occurrence_index = $14, reminders = $15, version = $16, change_seq = $17, "
    "created_at = $18, updated_at = $19, completed_at = $20, deleted_at = $21, "
    "recurrence_anchor = $22, recurrence_anchor_index = $23, title_key = $24, search_text = $25 "
    "WHERE id = $1 AND user_id = $2";
constexpr std::string_view kTaskVersion =
    "SELECT version FROM tasks WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL";
constexpr std::string_view kAllDayZonesDueBetween =
    "SELECT DISTINCT timezone FROM tasks WHERE user_id = $1 AND deleted_at IS NULL "
    "AND status = 'pending' AND all_day = 1 AND due_at >= $2 AND due_at < $3";
constexpr std::string_view kFindTask =
    "SELECT " TODO_TASK_COLUMNS " FROM tasks WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL";
constexpr std::string_view kFindTaskOrTombstone =
    "SELECT " TODO_TASK_COLUMNS " FROM tasks WHERE id = $1 AND user_id = $2";
// The start of every list query; list() appends the filters, the position, ORDER BY and LIMIT.
constexpr std::string_view kListTasks =
    "SELECT " TODO_TASK_COLUMNS " FROM tasks WHERE user_id = $1 AND deleted_at IS NULL";
constexpr std::string_view kChangedSince =
    "SELECT " TODO_TASK_COLUMNS
    " FROM tasks WHERE user_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3";
#undef TODO_TASK_COLUMNS

// Raises each user's mark to the highest change_seq among the tombstones about to be purged
// (never lowers it), before kPurgeTombstones deletes them.
constexpr std::string_view kRecordPurge =
    "INSERT INTO user_sync_state (user_id, purged_through) "
    "SELECT user_id, MAX(change_seq) FROM tasks WHERE deleted_at IS NOT NULL AND deleted_at < $1 "
    "GROUP BY user_id "
    "ON CONFLICT (user_id) DO UPDATE SET purged_through = CASE "
    "WHEN excluded.purged_through > user_sync_state.purged_through "
    "THEN excluded.purged_through ELSE user_sync_state.purged_through END";
constexpr std::string_view kPurgeTombstones = "DELETE FROM tasks WHERE deleted_at < $1";
constexpr std::string_view kPurgedThrough =
    "SELECT purged_through FROM user_sync_state WHERE user_id = $1";

constexpr char kTagSeparator = '\n';

std::string_view status_text(domain::TaskStatus status) {
  switch (status) {
    case domain::TaskStatus::kPending:
      return "pending";
    case domain::TaskStatus::kCompleted:
      return "completed";
  }
  throw std::invalid_argument("unknown task status");
}

domain::TaskStatus status_from(std::string_view text) {
  if (text == "pending") return domain::TaskStatus::kPending;
  if (text == "completed") return domain::TaskStatus::kCompleted;
  throw DatabaseError("tasks.status holds an unknown status: " + std::string(text));
}

std::int64_t priority_rank(domain::Priority priority) {
  return static_cast<std::int64_t>(priority);
}

domain::Priority priority_from(std::int64_t rank) {
  if (rank < 1 || rank > 3) {
    throw DatabaseError("tasks.priority holds an unknown rank: " + std::to_string(rank));
  }
  return static_cast<domain::Priority>(rank);
}

std::string_view mode_text(domain::RecurrenceMode mode) {
  switch (mode) {
    case domain::RecurrenceMode::kDue:
      return "due";
    case domain::RecurrenceMode::kStrict:
      return "strict";
    case domain::RecurrenceMode::kCompletion:
      return "completion";
  }
  throw std::invalid_argument("unknown recurrence mode");
}

domain::RecurrenceMode mode_from(std::string_view text) {
  if (text == "due") return domain::RecurrenceMode::kDue;
  if (text == "strict") return domain::RecurrenceMode::kStrict;
  if (text == "completion") return domain::RecurrenceMode::kCompletion;
  throw DatabaseError("tasks.recurrence_mode holds an unknown mode: " + std::string(text));
}

bool storable_tag(std::string_view tag) {
  return !tag.empty() && tag.find(kTagSeparator) == std::string_view::npos;
}

// {"home", "work"} -> "\nhome\nwork\n", {} -> "": every tag is enclosed in separators, so
// "\n" + tag + "\n" is a substring exactly when the task has that tag.
std::string format_tags(const std::vector<std::string>& tags) {
  if (tags.empty()) return {};
  std::string out(1, kTagSeparator);
  for (const auto& tag : tags) {
    if (!storable_tag(tag)) {
      throw std::invalid_argument("a tag must be non-empty and hold no line feed");
    }
    out += tag;
    out += kTagSeparator;
  }
  return out;
}

std::vector<std::string> parse_tags(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  if (text.size() < 3 || text.front() != kTagSeparator || text.back() != kTagSeparator) {
    throw DatabaseError("tasks.tags is malformed: " + std::string(text));
  }
  text.remove_prefix(1);
  while (!text.empty()) {
    const auto end = text.find(kTagSeparator);
    if (end == 0) throw DatabaseError("tasks.tags holds an empty tag");
    out.emplace_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string tag_needle(std::string_view tag) {
  std::string needle(1, kTagSeparator);
  needle += tag;
  needle += kTagSeparator;
  return needle;
}

domain::Task task_from_row(const RowView& row) {
  domain::Task t;
  t.id = row.text(0);
  t.user_id = row.text(1);
  t.title = row.text(2);
  t.description = row.optional_text(3);
  t.status = status_from(row.text(4));
  t.priority = priority_from(row.integer(5));
  t.tags = parse_tags(row.text(6));
  t.due_at = optional_time(row, 7);
  t.all_day = row.integer(8) != 0;
  t.timezone = row.text(9);
  t.recurrence = row.optional_text(10);
  t.recurrence_mode = mode_from(row.text(11));
  t.series_id = row.optional_text(12);
  t.occurrence_index = row.integer(13);
  t.reminders = sql::parse_minutes(row.text(14), "tasks.reminders");
  t.version = row.integer(15);
  t.change_seq = row.integer(16);
  t.created_at = domain::from_micros(row.integer(17));
  t.updated_at = domain::from_micros(row.integer(18));
  t.completed_at = optional_time(row, 19);
  t.deleted_at = optional_time(row, 20);
  if (!row.is_null(21)) {
    const std::string_view anchor = row.text(21);
    t.recurrence_anchor = domain::parse_local_date_time(anchor);
    if (!t.recurrence_anchor) {
      throw DatabaseError("tasks.recurrence_anchor is not a local date-time: " +
                          std::string(anchor));
    }
  }
  t.recurrence_anchor_index = row.integer(22);
  return t;
}

// The tasks a query selects (TODO_TASK_COLUMNS), each read straight from its row.
std::vector<domain::Task> query_tasks(Transaction& s, std::string_view sql,
                                      std::span<const Value> params, std::size_t expected = 0) {
  std::vector<domain::Task> out;
  out.reserve(expected);
  s.query_each(sql, params, [&out](const RowView& row) { out.push_back(task_from_row(row)); });
  return out;
}

// $1..$25 of kInsertTask and kUpdateTask.
std::vector<Value> task_values(const domain::Task& t, TaskSearchKeys keys) {
  return {t.id,
          t.user_id,
          t.title,
          optional_value(t.description, text),
          text(status_text(t.status)),
          priority_rank(t.priority),
          format_tags(t.tags),
          optional_value(t.due_at, micros),
          std::int64_t{t.all_day ? 1 : 0},
          t.timezone,
          optional_value(t.recurrence, text),
          text(mode_text(t.recurrence_mode)),
          optional_value(t.series_id, text),
          t.occurrence_index,
          sql::format_minutes(t.reminders),
          t.version,
          t.change_seq,
          micros(t.created_at),
          micros(t.updated_at),
          optional_value(t.completed_at, micros),
          optional_value(t.deleted_at, micros),
          optional_value(t.recurrence_anchor,
                         [](const domain::LocalDateTime& local) {
                           return text(domain::format_local_date_time(local));
                         }),
          t.recurrence_anchor_index,
          std::move(keys.title_key),
          std::move(keys.search_text)};
}

std::string_view sort_column(TaskSort sort) {
  switch (sort) {
    case TaskSort::kCreatedAt:
      return "created_at";
    case TaskSort::kDueDate:
      return "due_at";
    case TaskSort::kPriority:
      return "priority";
    case TaskSort::kTitle:
      return "title_key";
    case TaskSort::kUpdatedAt:
      return "updated_at";
    case TaskSort::kStatus:
      return "status";
  }
  throw std::invalid_argument("unknown task sort");
}

// Appends conditions to a WHERE clause, each value as the next $N.
class Conditions {
 public:
  Conditions(std::string start, Value first, Dialect dialect)
      : sql_(std::move(start)), dialect_(dialect) {
    params_.push_back(std::move(first));
  }

  std::string param(Value v) {
    params_.push_back(std::move(v));
    // Appended rather than "$" + ...: GCC 12 at -O3 reports a false -Wrestrict for the latter.
    std::string name = "$";
    name += std::to_string(params_.size());
    return name;
  }
  void add(std::string_view condition) {
    sql_ += " AND ";
    sql_ += condition;
  }
  // `column` contains the parameter as a literal substring (no LIKE wildcards).
  void add_contains(std::string_view column, Value needle) {
    const auto p = param(std::move(needle));
    const std::string_view function = dialect_ == Dialect::kPostgres ? "strpos" : "instr";
    add(std::string(function) + "(" + std::string(column) + ", " + p + ") > 0");
  }
  void append(std::string_view tail) { sql_ += tail; }

  const std::string& sql() const { return sql_; }
  const std::vector<Value>& params() const { return params_; }

 private:
  std::string sql_;
  std::vector<Value> params_;
  Dialect dialect_;
};

// The part of the query's order strictly after `after`: (value, id) compared in the order's
// direction. For due_date, NULL due dates form a last group in both directions: a position with
// a date continues through the later dates and then the whole NULL group; a position inside the
// NULL group continues by id only.
void add_position(Conditions& where, const TaskQuery& query, const TaskPosition& after,
                  const std::function<std::string(std::string_view)>& fold) {
  const std::string_view op = query.descending ? "<" : ">";
  const auto column = std::string(sort_column(query.sort));
  const auto* number = std::get_if<std::int64_t>(&after.value);
  const auto* text_value = std::get_if<std::string>(&after.value);
  const bool null = std::holds_alternative<std::monostate>(after.value);

  if (query.sort == TaskSort::kDueDate && null) {
    where.add("due_at IS NULL AND id " + std::string(op) + " " + where.param(after.id));
    return;
  }
  Value value;
  const bool text_sort = query.sort == TaskSort::kTitle || query.sort == TaskSort::kStatus;
  if (query.sort == TaskSort::kTitle && text_value != nullptr) {
    value = fold(*text_value);
  } else if (query.sort == TaskSort::kStatus && text_value != nullptr) {
    value = *text_value;
  } else if (!text_sort && number != nullptr) {
    value = *number;
  } else {
    throw std::invalid_argument("the task position does not fit the sort order");
  }
  const auto value_param = where.param(std::move(value));
  const auto id_param = where.param(after.id);
  const auto row_after =
      "(" + column + ", id) " + std::string(op) + " (" + value_param + ", " + id_param + ")";
  if (query.sort == TaskSort::kDueDate) {
    where.add("(due_at IS NULL OR " + row_after + ")");
  } else {
    where.add(row_after);
  }
}

// Pending, and a timed task due before overdue_at, or an all-day one due before the start of the
// local day that holds overdue_at in its zone (which only the tasks of the last few days need).
void add_overdue(Conditions& where, const TaskQuery& query) {
  const domain::Timestamp now = query.overdue_at.value();
  const auto now_param = where.param(micros(now));
  std::string all_day = "due_at < " + where.param(micros(now - kAllDayOverdueWindow));
  if (!query.all_day_day_starts.empty()) {
    all_day += " OR due_at < CASE timezone";
    for (const auto& [zone, day_start] : query.all_day_day_starts) {
      const auto zone_param = where.param(zone);
      all_day += " WHEN " + zone_param + " THEN " + where.param(micros(day_start));
    }
    all_day += " ELSE " + now_param + " END";
  }
  where.add("status = 'pending' AND due_at < " + now_param + " AND (all_day = 0 OR " + all_day +
            ")");
}

}  // namespace

TaskRepository::TaskRepository(std::function<std::string(std::string_view)> fold)
    : fold_(std::move(fold)) {
  if (!fold_) throw std::invalid_argument("TaskRepository needs a case-folding function");
}

TaskSearchKeys TaskRepository::search_keys(const domain::Task& task) const {
  TaskSearchKeys keys;
  keys.title_key = fold_(task.title);
  keys.search_text = keys.title_key + "\n" + fold_(task.description.value_or(""));
  return keys;
}

void TaskRepository::insert(Transaction& s, const domain::Task& task) const {
  insert(s, task, search_keys(task));
}

void TaskRepository::update(Transaction& s, const domain::Task& task) const {
  update(s, task, search_keys(task));
}

void TaskRepository::insert(Transaction& s, const domain::Task& task,
                            const TaskSearchKeys& keys) const {
  const auto values = task_values(task, keys);
  s.execute_unread(kInsertTask, values);
}

void TaskRepository::update(Transaction& s, const domain::Task& task,
                            const TaskSearchKeys& keys) const {
  const auto values = task_values(task, keys);
  if (s.execute(kUpdateTask, values) != 1) {
    // The caller checked the task in this transaction; a missing row is a bug, not "not found".
    throw DatabaseError("update: no task " + task.id + " of user " + task.user_id);
  }
}

std::optional<std::int64_t> TaskRepository::version_of(Transaction& s, std::string_view user_id,
                                                       std::string_view id) const {
  auto row = s.query_one(kTaskVersion, {text(id), text(user_id)});
  if (!row) return std::nullopt;
  return row->integer(0);
}

std::optional<domain::Task> TaskRepository::find(Transaction& s, std::string_view user_id,
                                                 std::string_view id, bool include_deleted) const {
  const Value params[] = {text(id), text(user_id)};
  auto tasks = query_tasks(s, include_deleted ? kFindTaskOrTombstone : kFindTask, params, 1);
  if (tasks.empty()) return std::nullopt;
  return std::move(tasks.front());
}

void TaskRepository::find_async(Database& db, std::string_view user_id, std::string_view id,
                                FoundTask done) const {
  auto found = std::make_shared<std::optional<domain::Task>>();
  db.read_statement_async(
      std::string(kFindTask), {text(id), text(user_id)},
      [found](const RowView& row) { found->emplace(task_from_row(row)); },
      [found, done = std::move(done)](std::exception_ptr error) {
        done(error, error ? std::optional<domain::Task>() : std::move(*found));
      });
}

std::vector<domain::Task> TaskRepository::list(Transaction& s, const TaskQuery& query) const {
  if (query.limit <= 0) return {};
  // A tag that cannot be stored matches no task; as a needle it could match across two tags.
  for (const auto& tag : query.tags) {
    if (!storable_tag(tag)) return {};
  }

  Conditions where(std::string(kListTasks), query.user_id, s.dialect());
  if (query.status) {
    where.add("status = " + where.param(text(status_text(query.status.value()))));
  }
  if (query.priority) {
    where.add("priority = " + where.param(priority_rank(query.priority.value())));
  }
  for (const auto& tag : query.tags) where.add_contains("tags", tag_needle(tag));
  if (query.folded_text) where.add_contains("search_text", query.folded_text.value());
  if (query.due_before) where.add("due_at <= " + where.param(micros(query.due_before.value())));
  if (query.due_after) where.add("due_at >= " + where.param(micros(query.due_after.value())));
  if (query.overdue_at) add_overdue(where, query);
  if (query.after) {
    if (query.ties != TaskTies::kById) {
      throw std::invalid_argument("a list ordered with other ties than by id has no pages");
    }
    add_position(where, query, query.after.value(), fold_);
  }

  const std::string direction = query.descending ? " DESC" : " ASC";
  const std::string nulls = query.sort == TaskSort::kDueDate ? " NULLS LAST" : "";
  const std::string ties = query.ties == TaskTies::kById
                               ? ", id" + direction
                               : ", due_at ASC NULLS LAST, created_at DESC, id DESC";
  where.append(" ORDER BY " + std::string(sort_column(query.sort)) + direction + nulls + ties);
  where.append(" LIMIT " + where.param(std::int64_t{query.limit}));
  return query_tasks(s, where.sql(), where.params(),
                     static_cast<std::size_t>(std::min(query.limit, 100)));
}

std::vector<std::string> TaskRepository::all_day_zones_due_between(Transaction& s,
                                                                  std::string_view user_id,
                                                                  domain::Timestamp from,
                                                                  domain::Timestamp to) const {
  std::vector<std::string> zones;
  const auto rows = s.query(kAllDayZonesDueBetween, {text(user_id), micros(from), micros(to)});
  for (const auto& row : rows) {
    zones.push_back(row.text(0));
  }
  return zones;
}

TaskPosition TaskRepository::position_of(const domain::Task& task, TaskSort sort) {
  TaskPosition position;
  position.id = task.id;
  switch (sort) {
    case TaskSort::kCreatedAt:
      position.value = domain::to_micros(task.created_at);
      break;
    case TaskSort::kUpdatedAt:
      position.value = domain::to_micros(task.updated_at);
      break;
    case TaskSort::kPriority:
      position.value = priority_rank(task.priority);
      break;
    case TaskSort::kTitle:
      position.value = task.title;
      break;
    case TaskSort::kDueDate:
      if (task.due_at) position.value = domain::to_micros(task.due_at.value());
      break;
    case TaskSort::kStatus:
      position.value = std::string(status_text(task.status));
      break;
  }
  return position;
}

std::vector<domain::Task> TaskRepository::changed_since(Transaction& s, std::string_view user_id,
                                                        std::int64_t since, int limit) const {
  if (limit <= 0) return {};
  const Value params[] = {text(user_id), since, std::int64_t{limit}};
  return query_tasks(s, kChangedSince, params);
}

std::int64_t TaskRepository::purge_tombstones(Transaction& s, domain::Timestamp before) const {
  s.execute(kRecordPurge, {micros(before)});
  return s.execute(kPurgeTombstones, {micros(before)});
}

std::int64_t TaskRepository::purged_through(Transaction& s, std::string_view user_id) const {
  auto row = s.query_one(kPurgedThrough, {text(user_id)});
  return row ? row.value().integer(0) : 0;
}

}  // namespace todo::store

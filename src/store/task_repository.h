// Tasks of one user: writes, lookups, filtered and sorted pages, and the delta for sync.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/task.h"
#include "store/database.h"

namespace todo::store {

enum class TaskSort { kCreatedAt, kDueDate, kPriority, kTitle, kUpdatedAt, kStatus };

// How tasks with the same sort value are ordered. kById is the order pages use (positions are
// (value, id)); kByDueThenNewest is the order of the previous system's list — due date
// ascending (none last), then newest first, then id — for one unpaged list: a query with it
// has no position.
enum class TaskTies { kById, kByDueThenNewest };

// Keyset position: the sort value of the last row of the previous page and its id.
// The sort value is an integer (timestamps in µs, priority rank), a text (the title: the list folds
// it into the sort key itself; the status as stored) or NULL (a task without due date: these sort
// last in both directions).
struct TaskPosition {
  std::variant<std::monostate, std::int64_t, std::string> value;
  std::string id;
};

struct TaskQuery {
  std::string user_id;
  std::optional<domain::TaskStatus> status;  // nullopt: all
  std::optional<domain::Priority> priority;
  std::vector<std::string> tags;           // every one must be present (AND)
  std::optional<std::string> folded_text;  // domain::casefold(q): substring of title or description
  std::optional<domain::Timestamp> due_before;  // inclusive
  std::optional<domain::Timestamp> due_after;   // inclusive
  // Pending and past due at this instant: a timed task once its due date has passed, an all-day
  // one once its day has ended in its time zone (all_day_day_starts).
  std::optional<domain::Timestamp> overdue_at;
  // With overdue_at: for each zone of the all-day tasks due shortly before it
  // (all_day_zones_due_between over kAllDayOverdueWindow), the start of the local day holding
  // overdue_at. An all-day task is overdue when it is due before that; a zone not listed counts
  // like a timed task.
  std::vector<std::pair<std::string, domain::Timestamp>> all_day_day_starts;
  TaskSort sort = TaskSort::kCreatedAt;
  bool descending = false;
  TaskTies ties = TaskTies::kById;
  std::optional<TaskPosition> after;  // start after this position (kById only)
  int limit = 50;
};

// An all-day task due longer ago than this is past the end of its day in any time zone (a local
// day lasts at most 25 hours; the margin covers historical offset changes).
inline constexpr auto kAllDayOverdueWindow = std::chrono::hours(72);

// The folded texts stored beside a task: the title sort key and the text `q` searches.
struct TaskSearchKeys {
  std::string title_key;    // fold(title)
  std::string search_text;  // fold(title) + "\n" + fold(description or "")
};

class TaskRepository {
 public:
  // `fold` is domain::casefold in the application; the same function must fold TaskQuery's text.
  // Throws std::invalid_argument when it is empty.
  explicit TaskRepository(std::function<std::string(std::string_view)> fold);

  TaskSearchKeys search_keys(const domain::Task& task) const;

  // insert and update throw std::invalid_argument for a tag that is empty or holds a line feed:
  // the tags column separates tags with line feeds.
  void insert(Transaction& s, const domain::Task& task) const;
  // Writes every column of the task (the row must exist), including deleted_at.
  void update(Transaction& s, const domain::Task& task) const;
  // The same with the folded texts computed beforehand (search_keys), so a write transaction runs
  // statements only.
  void insert(Transaction& s, const domain::Task& task, const TaskSearchKeys& keys) const;
  void update(Transaction& s, const domain::Task& task, const TaskSearchKeys& keys) const;
  // The version of the owner's task (not a tombstone): a write computed from an earlier read
  // checks it is still the one it read.
  std::optional<std::int64_t> version_of(Transaction& s, std::string_view user_id,
                                         std::string_view id) const;
  // The owner's task; tombstones only when include_deleted.
  // find() of a live task without a thread waiting for it (Database::read_statement_async):
  // `done` gets the task, nullopt, or the error, on the thread the database answers on (so it
  // only hands the result on).
  using FoundTask = std::function<void(std::exception_ptr, std::optional<domain::Task>)>;
  void find_async(Database& db, std::string_view user_id, std::string_view id,
                  FoundTask done) const;
  std::optional<domain::Task> find(Transaction& s, std::string_view user_id, std::string_view id,
                                   bool include_deleted = false) const;
  // At most query.limit tasks, never tombstones, in the query's order (ties broken by id in the
  // same direction, or as query.ties says). Throws std::invalid_argument for a position with
  // kByDueThenNewest.
  std::vector<domain::Task> list(Transaction& s, const TaskQuery& query) const;
  // The time zones of the user's pending all-day tasks due in [from, to).
  std::vector<std::string> all_day_zones_due_between(Transaction& s, std::string_view user_id,
                                                     domain::Timestamp from,
                                                     domain::Timestamp to) const;
  // The sort value of a task under `sort`, to build the next page's position (for kTitle the
  // title itself, which list() folds; for kStatus its stored text).
  static TaskPosition position_of(const domain::Task& task, TaskSort sort);
  // Tasks (tombstones included) with change_seq > since, ascending by change_seq, at most limit.
  std::vector<domain::Task> changed_since(Transaction& s, std::string_view user_id, std::int64_t since,
                                          int limit) const;
  // Deletes tombstones older than `before`; records per user the highest change_seq purged.
  std::int64_t purge_tombstones(Transaction& s, domain::Timestamp before) const;
  // The highest change_seq of this user's purged tombstones (0 when none): a sync cursor below it
  // cannot be served as a delta.
  std::int64_t purged_through(Transaction& s, std::string_view user_id) const;

 private:
  std::function<std::string(std::string_view)> fold_;
};

}  // namespace todo::store

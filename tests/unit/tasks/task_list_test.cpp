// TaskService::list with overdue=true: a timed task is overdue once its due date has passed, an
// all-day task only once its day has ended in its own time zone.
#include "tasks/task_service.h"

#include "domain/time_format.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store_test_support.h"
#include "support/task_owner.h"
#include "support/seeded_random.h"
#include "support/tzdata_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace todo::tasks {
namespace {

using domain::Patch;

domain::Timestamp at(std::string_view text) { return domain::parse_rfc3339(text).value(); }

class TaskListTest : public ::testing::Test {
 protected:
  TaskListTest()
      : database_(store::open_sqlite({dir_.path() / "todo.db"})),
        tasks_({*database_, zones_, clock_, random_}) {
    owner_ = testing::insert_task_owner(*database_, clock_.now());
  }

  std::string create(std::string title, std::string due, std::string zone) {
    domain::TaskInput input;
    input.title = Patch<std::string>::of(std::move(title));
    input.due_date = Patch<std::string>::of(std::move(due));
    input.timezone = Patch<std::string>::of(std::move(zone));
    auto created = tasks_.create(owner_.id, input, std::nullopt,
                                 [](const domain::Task&) { return store::StoredResponse{}; });
    EXPECT_TRUE(created) << (created ? "" : created.error().detail);
    return created.value().task.title;
  }

  std::vector<std::string> overdue() {
    store::TaskQuery query;
    query.user_id = owner_.id;
    query.overdue_at = clock_.now();
    std::vector<std::string> titles;
    for (const auto& task : tasks_.list(query).items) titles.push_back(task.title);
    std::sort(titles.begin(), titles.end());
    return titles;
  }

  store::testing::TempDir dir_;
  domain::ManualClock clock_{at("2026-03-01T00:00:00Z")};
  todo::testing::SeededRandom random_;
  todo::testing::TzdataCatalog zones_;
  std::unique_ptr<store::Database> database_;
  TaskService tasks_;
  domain::User owner_;
};

TEST_F(TaskListTest, AnAllDayTaskIsOverdueOnlyOnceItsDayHasEndedInItsZone) {
  create("timed, an hour ago", "2026-03-10T11:00:00Z", "UTC");
  create("timed, in an hour", "2026-03-10T13:00:00Z", "UTC");
  create("all-day Auckland 10th", "2026-03-10", "Pacific/Auckland");        // UTC+13
  create("all-day Los Angeles 10th", "2026-03-10", "America/Los_Angeles");  // UTC-7
  create("all-day UTC 10th", "2026-03-10", "UTC");
  create("all-day UTC 9th", "2026-03-09", "UTC");
  create("all-day Berlin, long ago", "2026-01-05", "Europe/Berlin");
  create("all-day Berlin 11th", "2026-03-11", "Europe/Berlin");

  // Noon UTC on the 10th: the 11th has begun in Auckland; it is the 10th in UTC, and morning of
  // the 10th in Los Angeles.
  clock_.set(at("2026-03-10T12:00:00Z"));
  EXPECT_EQ(overdue(), (std::vector<std::string>{"all-day Auckland 10th",
                                                 "all-day Berlin, long ago", "all-day UTC 9th",
                                                 "timed, an hour ago"}));
  // Midnight UTC: the UTC day of the 10th has ended, the Los Angeles one has not.
  clock_.set(at("2026-03-11T00:00:00Z"));
  EXPECT_EQ(overdue(),
            (std::vector<std::string>{"all-day Auckland 10th", "all-day Berlin, long ago",
                                      "all-day UTC 10th", "all-day UTC 9th", "timed, an hour ago",
                                      "timed, in an hour"}));
  // Local midnight in Los Angeles (07:00 UTC, daylight time since the 8th); one microsecond
  // before it the task is still due today.
  clock_.set(at("2026-03-11T06:59:59.999999Z"));
  EXPECT_EQ(overdue().size(), 6U);
  clock_.set(at("2026-03-11T07:00:00Z"));
  EXPECT_EQ(overdue().size(), 7U);
  // Berlin's 11th ends at 23:00 UTC.
  clock_.set(at("2026-03-11T23:00:00Z"));
  EXPECT_EQ(overdue().size(), 8U);
}

}  // namespace
}  // namespace todo::tasks

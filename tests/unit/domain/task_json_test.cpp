// The task object of the API.
#include "domain/task_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/task_samples.h"

namespace todo::domain {
namespace {

using testing::at;

TEST(TaskToJson, HasEveryFieldOfTheTaskObject) {
  Task task = testing::sample_task();
  task.status = TaskStatus::kCompleted;
  task.completed_at = at("2026-11-03T07:00:00Z");
  task.recurrence_mode = RecurrenceMode::kStrict;
  const boost::json::value expected = boost::json::parse(R"({
    "id": "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
    "user_id": "0193a4b2-0000-7000-8000-00000000000a",
    "title": "Pay rent", "description": "Transfer to the landlord",
    "status": "completed", "priority": "high", "tags": ["home", "money"],
    "due_date": "2026-12-01T08:00:00.000Z", "all_day": false, "timezone": "Europe/Berlin",
    "recurrence": "monthly", "recurrence_mode": "strict",
    "series_id": "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b", "reminders": [15, 60], "version": 3,
    "created_at": "2026-11-01T10:00:00.000Z", "updated_at": "2026-11-02T11:30:00.250Z",
    "completed_at": "2026-11-03T07:00:00.000Z"})");
  EXPECT_EQ(boost::json::value(task_to_json(task)), expected);
}

TEST(TaskToJson, AbsentValuesAreNull) {
  const boost::json::object json = task_to_json(testing::bare_task());
  EXPECT_EQ(json.size(), 18u);
  for (const char* name : {"description", "due_date", "recurrence", "series_id", "completed_at"}) {
    ASSERT_TRUE(json.contains(name)) << name;
    EXPECT_TRUE(json.at(name).is_null()) << name;
  }
  EXPECT_EQ(json.at("tags"), boost::json::array());
  EXPECT_EQ(json.at("reminders"), boost::json::array());
  EXPECT_EQ(json.at("status"), "pending");
  EXPECT_EQ(json.at("priority"), "medium");
  EXPECT_EQ(json.at("recurrence_mode"), "due");
  EXPECT_EQ(json.at("version"), 1);
}

TEST(TaskToJson, AllDayAndRrule) {
  Task task = testing::sample_task();
  task.all_day = true;
  task.due_at = at("2026-11-30T23:00:00Z");
  task.recurrence = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU";
  const boost::json::object json = task_to_json(task);
  EXPECT_EQ(json.at("all_day"), true);
  EXPECT_EQ(json.at("due_date"), "2026-11-30T23:00:00.000Z");
  EXPECT_EQ(json.at("recurrence"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");
}

}  // namespace
}  // namespace todo::domain

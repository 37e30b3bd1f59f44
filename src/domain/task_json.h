// The JSON form of a task, shared by the API responses and the event snapshots. Kept apart from
// task.h so that only the files that render JSON include Boost.JSON.
#pragma once

#include "domain/task.h"

#include <boost/json/object.hpp>

namespace todo::domain {

// {id, user_id, title, description, status, priority, tags, due_date, all_day, timezone,
//  recurrence, recurrence_mode, series_id, reminders, version, created_at, updated_at,
//  completed_at}; absent values are null here (the API contract), unlike in event payloads.
boost::json::object task_to_json(const Task& task);

}  // namespace todo::domain

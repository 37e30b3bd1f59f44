// The JSON form of a task, shared by the API responses and the event snapshots. Kept apart from
// task.h so that only the files that render JSON include Boost.JSON.
#pragma once

#include "domain/json_writer.h"
#include "domain/task.h"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace todo::domain {

// {id, user_id, title, description, status, priority, tags, due_date, all_day, timezone,
//  recurrence, recurrence_mode, series_id, reminders, version, created_at, updated_at,
//  completed_at}; absent values are null here (the API contract), unlike in event payloads.
boost::json::object task_to_json(const Task& task);

// The seed-compatible routes (/api/{user_id}/tasks) show an absent recurrence as "none": the
// previous system's clients test it for that.
enum class TaskJsonStyle { kApi, kSeed };

// The same object written straight into `writer` (no DOM): byte for byte
// boost::json::serialize(task_to_json(task)) in the kApi style.
void write_task_json(JsonWriter& writer, const Task& task,
                     TaskJsonStyle style = TaskJsonStyle::kApi);
// The task's JSON text.
std::string task_json_text(const Task& task, TaskJsonStyle style = TaskJsonStyle::kApi);

// One member of the task object (kApi style), as write_task_json writes its value.
enum class TaskMember { kAbsent, kNull, kValue };
// Appends the value of member `name` to `out` ("null" for kNull); kAbsent, writing nothing, when
// the task object has no such member.
TaskMember append_task_member(std::string& out, const Task& task, std::string_view name);

}  // namespace todo::domain

// The task body reader: a JSON body of POST/PUT/PATCH /api/tasks as the routes read it
// (services/api read_task_body), then validated into a task (domain::apply_task_input) as a create
// and as a patch of an existing task, with a fixed catalog of real time zones.
// Properties: nothing crashes or leaks; a refused body or task names a problem (and a refused task
// names at least one field); an accepted task is within the documented limits and renders as JSON.
#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>

#include "domain/recurrence_rule.h"
#include "domain/task.h"
#include "domain/task_json.h"
#include "domain/text.h"
#include "fuzz_support.h"
#include "http/message.h"
#include "services/api/task_body.h"

namespace {

using namespace todo;

domain::User owner() {
  domain::User user;
  user.id = "0193a4b2-0000-7000-8000-00000000000a";
  user.email = "alice@example.com";
  user.timezone = "Europe/Berlin";
  user.default_reminders = {60, 15};
  return user;
}

// A stored task to patch: timed, recurring, with every optional field set.
domain::Task existing() {
  domain::Task task;
  task.id = "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b";
  task.user_id = "0193a4b2-0000-7000-8000-00000000000a";
  task.title = "Pay rent";
  task.description = "Transfer to the landlord";
  task.priority = domain::Priority::kHigh;
  task.tags = {"home", "money"};
  task.due_at = fuzz::at("2026-12-01T08:00:00Z");
  task.timezone = "Europe/Berlin";
  task.recurrence = "monthly";
  task.series_id = task.id;
  task.reminders = {15, 60};
  task.version = 3;
  return task;
}

void check_task(const domain::Task& task) {
  FUZZ_CHECK(!task.title.empty());
  FUZZ_CHECK(domain::is_valid_utf8(task.title));
  FUZZ_CHECK(task.tags.size() <= domain::kMaxTags);
  FUZZ_CHECK(fuzz::zones().contains(task.timezone));
  FUZZ_CHECK(std::is_sorted(task.reminders.begin(), task.reminders.end()));
  FUZZ_CHECK(std::adjacent_find(task.reminders.begin(), task.reminders.end()) ==
             task.reminders.end());
  FUZZ_CHECK(task.reminders.size() <= domain::kMaxReminders);
  if (task.recurrence) {
    // What a task stores is already normal: normalising it again changes nothing.
    const auto again = domain::normalize_recurrence(*task.recurrence);
    FUZZ_CHECK(again.has_value() && again->has_value() && **again == *task.recurrence);
  }
  const std::string json = boost::json::serialize(domain::task_to_json(task));
  FUZZ_CHECK(domain::is_valid_utf8(json));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const domain::User user = owner();
  static const domain::Task stored = existing();

  http::Request request;
  request.method = http::Method::kPost;
  request.target = request.path = "/api/tasks";
  request.headers.push_back({"content-type", "application/json"});
  request.body = std::string(fuzz::as_text(data, size));

  const auto input = services::api::read_task_body(request);
  if (!input) {
    FUZZ_CHECK(!input.error().detail.empty());
    return 0;
  }
  const domain::TaskRules rules{fuzz::zones(), user};
  for (const bool replace : {true, false}) {
    const domain::Task base = replace ? domain::Task{} : stored;
    const auto task = domain::apply_task_input(base, *input, replace, rules);
    if (!task) {
      FUZZ_CHECK(!task.error().fields.empty());
      for (const auto& field : task.error().fields) {
        FUZZ_CHECK(!field.field.empty() && !field.reason.empty());
      }
      continue;
    }
    check_task(*task);
  }
  return 0;
}

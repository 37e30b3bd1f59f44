// Tasks and users for the domain tests.
#pragma once

#include <string_view>

#include "domain/task.h"
#include "domain/time_format.h"

namespace todo::testing {

inline domain::Timestamp at(std::string_view rfc3339) {
  return domain::parse_rfc3339(rfc3339).value();
}

inline domain::User sample_owner() {
  domain::User owner;
  owner.id = "0193a4b2-0000-7000-8000-00000000000a";
  owner.email = "alice@example.com";
  owner.display_name = "Alice";
  owner.timezone = "Europe/Berlin";
  owner.default_reminders = {60, 15};
  return owner;
}

// A pending task with every optional field set.
inline domain::Task sample_task() {
  domain::Task task;
  task.id = "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b";
  task.user_id = "0193a4b2-0000-7000-8000-00000000000a";
  task.title = "Pay rent";
  task.description = "Transfer to the landlord";
  task.priority = domain::Priority::kHigh;
  task.tags = {"home", "money"};
  task.due_at = at("2026-12-01T08:00:00Z");
  task.timezone = "Europe/Berlin";
  task.recurrence = "monthly";
  task.series_id = task.id;
  task.reminders = {15, 60};
  task.version = 3;
  task.created_at = at("2026-11-01T10:00:00Z");
  task.updated_at = at("2026-11-02T11:30:00.250Z");
  return task;
}

// The same task with nothing optional: no description, due date, recurrence or series.
inline domain::Task bare_task() {
  domain::Task task = sample_task();
  task.description.reset();
  task.priority = domain::Priority::kMedium;
  task.tags.clear();
  task.due_at.reset();
  task.recurrence.reset();
  task.series_id.reset();
  task.reminders.clear();
  task.version = 1;
  return task;
}

}  // namespace todo::testing

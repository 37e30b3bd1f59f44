// The events the notification service reads and writes: `reminders` (com.todo.reminder.schedule
// and .cancel, published by the task write model) and `com.todo.reminder.fired` on task-updates.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "store/outbox.h"

namespace todo::notify {

inline constexpr std::string_view kScheduleType = "com.todo.reminder.schedule";
inline constexpr std::string_view kCancelType = "com.todo.reminder.cancel";
inline constexpr std::string_view kFiredType = "com.todo.reminder.fired";
inline constexpr std::string_view kEventSource = "notification-service";

// What one `reminders` event asks for.
struct ScheduleCommand {
  bool cancel = false;
  std::string task_id, user_id;
  domain::Timestamp event_time{};  // the change that produced it
  std::optional<domain::Timestamp> due_at;
  // The task's reminder instants after event_time, ascending and unique (an instant that had
  // already passed when the task was changed is not a reminder anyone can receive).
  std::vector<domain::Timestamp> instants;
};

// Parses the CloudEvent JSON. Throws bus::PermanentFailure for an event that can never be
// handled (not a reminders event, a missing or malformed member).
ScheduleCommand parse_reminder_event(std::string_view payload);

struct FiredReminder {
  std::string event_id;  // CloudEvents id (made by the caller, so the delivery log can name it)
  std::string reminder_id, task_id, user_id, title;
  domain::Timestamp fire_at{};
  std::optional<domain::Timestamp> due_at;
  bool late = false;
  domain::Timestamp time{};  // when it fired
};

// com.todo.reminder.fired for task-updates (key: the user id, like every task-updates event). It
// carries no user_seq: it changes no task, so it takes no place in the user's change sequence
// (ADR 0015).
store::OutboxMessage reminder_fired_message(const FiredReminder& fired);

}  // namespace todo::notify

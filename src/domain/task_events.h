// The CloudEvents a task change produces (DESIGN §5), ready for the outbox.
#pragma once

#include "domain/clock.h"
#include "domain/task.h"
#include "domain/user.h"

#include <optional>
#include <string>
#include <vector>

namespace todo::domain {

inline constexpr std::string_view kTaskEventsTopic = "task-events";    // 3 partitions, key task id
inline constexpr std::string_view kTaskUpdatesTopic = "task-updates";  // 3 partitions, key user id
inline constexpr std::string_view kRemindersTopic = "reminders";       // 1 partition, key task id
inline constexpr int kTaskEventsPartitions = 3;
inline constexpr int kTaskUpdatesPartitions = 3;
inline constexpr int kRemindersPartitions = 1;

// Kafka's default partitioner (murmur2 of the key, positive, modulo), so Kafka and the log bus
// route a key to the same partition.
int partition_for(std::string_view key, int partitions);

enum class TaskAction { kCreated, kUpdated, kCompleted, kDeleted };
std::string_view to_string(TaskAction action);  // "created" …

struct TaskChange {
  TaskAction action = TaskAction::kUpdated;
  std::optional<Task> before;  // nullopt for created
  Task after;                  // for deleted: the tombstoned task
  ChangedFields changed;       // API names of the fields that changed (empty for created/deleted)
  std::string actor;           // "user:<id>" or "system:recurring"
  std::string source;          // CloudEvents source, e.g. "todo-api" or "recurring-task-service"
  std::int64_t user_seq = 0;   // the owner's change counter after this change
  const User* owner = nullptr; // for reminders: e-mail and channels
  Timestamp time{};
};

struct OutgoingEvent {
  std::string topic;
  int partition = 0;
  std::string key;
  std::string id;    // CloudEvents id (UUIDv7)
  std::string type;  // e.g. com.todo.task.updated
  std::string json;  // the structured-mode CloudEvent
};

// task-events and task-updates always; reminders when the pending reminder instants changed:
// `com.todo.reminder.schedule` with the full set, or `.cancel` when none remain.
std::vector<OutgoingEvent> task_change_events(const TaskChange& change, RandomSource& random);

// An event rendered before the owner's change counter is known (it is allocated inside the write
// transaction, which should only run statements): the JSON in two pieces around task-updates'
// `user_seq`, spliced together by json(). Byte for byte what task_change_events renders.
struct PendingEvent {
  std::string topic;
  int partition = 0;
  std::string key;
  std::string id;
  std::string type;
  std::string json_head;  // the whole JSON when the event has no user_seq
  std::string json_tail;
  bool has_user_seq = false;

  std::string json(std::int64_t user_seq) const;
};

// As task_change_events, with change.user_seq left to PendingEvent::json.
std::vector<PendingEvent> pending_task_change_events(const TaskChange& change,
                                                     RandomSource& random);

}  // namespace todo::domain

// A real database on every backend (a SQLite file, a PostgreSQL schema), a manual clock and real
// task-events CloudEvents (domain::task_change_events) for the audit service's tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "bus/bus.h"
#include "domain/task_events.h"
#include "services/audit/audit_service.h"
#include "store/store_test_support.h"
#include "store/user_repository.h"
#include "support/seeded_random.h"
#include "support/task_samples.h"

namespace todo::services::audit::testing {

using std::chrono::hours;
using std::chrono::minutes;

// Instantiate each fixture derived from it with TODO_STORE_TEST_ON_EVERY_BACKEND.
class AuditFixture : public store::testing::BackendTest {
 protected:
  AuditFixture() : database_(open_database()), audit_(*database_, clock_) {}

  // The task-events message of one change, as the bus hands it to the consumer.
  bus::Event event_of(domain::TaskAction action, const std::optional<domain::Task>& before,
                      const domain::Task& after) {
    domain::TaskChange change;
    change.action = action;
    change.before = before;
    change.after = after;
    if (before) change.changed = domain::changed_fields(*before, after);
    change.actor = "user:" + after.user_id;
    change.source = "todo-api";
    change.time = clock_.now();
    for (auto& e : domain::task_change_events(change, random_)) {
      if (e.topic != domain::kTaskEventsTopic) continue;
      bus::Event out;
      out.topic = e.topic;
      out.partition = e.partition;
      out.offset = next_offset_++;
      out.key = e.key;
      out.id = e.id;
      out.payload = e.json;
      out.published_at = change.time;
      return out;
    }
    ADD_FAILURE() << "no task-events event";
    return {};
  }

  void deliver(const bus::Event& event) {
    database_->write([&](store::Transaction& s) { audit_.handle(event, s); });
  }

  // Delivers the change's event after moving the clock a minute on; returns the task after it.
  domain::Task change(domain::TaskAction action, const std::optional<domain::Task>& before,
                      domain::Task after) {
    clock_.advance(minutes(1));
    after.version = before ? before->version + 1 : 1;
    after.updated_at = clock_.now();
    deliver(event_of(action, before, after));
    return after;
  }

  domain::Task task(std::string id, std::string user_id, std::string title) {
    domain::Task t = todo::testing::bare_task();
    t.id = std::move(id);
    t.user_id = std::move(user_id);
    t.title = std::move(title);
    t.created_at = clock_.now();
    return t;
  }

  std::vector<store::AuditEntry> all(bool ascending = true) {
    store::AuditQuery q;
    q.ascending = ascending;
    q.limit = 10000;
    return audit_.list(q).items;
  }

  std::int64_t count() {
    return store::read_value(*database_, [](store::Transaction& s) {
      return s.query_one("SELECT count(*) FROM audit_logs").value().integer(0);
    });
  }

  void execute(std::string_view sql) {
    database_->write([&](store::Transaction& s) { s.execute(sql); });
  }

  domain::ManualClock clock_{todo::testing::at("2026-11-01T09:00:00Z")};
  todo::testing::SeededRandom random_;
  std::unique_ptr<store::Database> database_;
  AuditService audit_;
  std::int64_t next_offset_ = 0;
};

}  // namespace todo::services::audit::testing

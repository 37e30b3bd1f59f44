// The operator commands in-process, on every backend: `todo events`, `todo dlq list|replay` and
// `todo admin set-role` parsed from the command line (the SQLite file in --data-dir, or
// PostgreSQL at --database-url, as `todo serve` takes them), what they print and what they change.
#include "app/operator_commands.h"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "bus/log_bus.h"
#include "domain/time_format.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"
#include "store/postgres/postgres_database.h"
#include "store/store_test_support.h"
#include "store/user_repository.h"
#include "support/seeded_random.h"

namespace todo::app {
namespace {

using store::Transaction;

const domain::Timestamp kT0 = domain::parse_rfc3339("2026-03-01T12:00:00Z").value();

struct Output {
  int code = 0;
  std::string out;  // what the command printed on stdout
};

class OperatorCommandsTest : public store::testing::BackendTest {
 protected:
  // Creates the database (the SQLite file, or the test's schema) as `todo migrate` would.
  void SetUp() override { db_ = open_database(); }

  // `todo <args…>` with the database flags of this backend.
  Config config(std::vector<std::string> args) const {
    args.push_back("--data-dir");
    args.push_back(dir_.path().string());
    if (backend().dialect == store::Dialect::kPostgres) {
      args.push_back("--database-url");
      args.push_back(
          store::testing::PostgresTestServer::instance().url_for(database_options().path.string()));
    }
    auto parsed = parse_config(args, [](const char*) -> const char* { return nullptr; });
    if (const auto* error = std::get_if<ConfigError>(&parsed)) {
      ADD_FAILURE() << error->message;
      return Config{};
    }
    return std::get<Config>(parsed);
  }

  static Output run(int (*command)(const Config&), const Config& config) {
    std::ostringstream captured;
    auto* const previous = std::cout.rdbuf(captured.rdbuf());
    Output result;
    try {
      result.code = command(config);
    } catch (...) {
      std::cout.rdbuf(previous);
      throw;
    }
    std::cout.rdbuf(previous);
    result.out = captured.str();
    return result;
  }

  // Stores dead letter `id` of `group`: an event of `topic`, partition 0, offset 0.
  void insert_dead_letter(const std::string& id, const std::string& group,
                          const std::string& topic) {
    store::DeadLetter letter;
    letter.id = id;
    letter.group = group;
    letter.topic = topic;
    letter.key = "k";
    letter.event_id = "e0";
    letter.payload = R"({"id":"e0"})";
    letter.error = "cannot parse this";
    letter.attempts = 4;
    letter.failed_at = kT0;
    db_->write([&](Transaction& s) { store::DeadLetterRepository{}.insert(s, letter); });
  }

  std::unique_ptr<store::Database> db_;
};

TEST_P(OperatorCommandsTest, EventsPrintsTheStoredEventsOfATopic) {
  db_->write([](Transaction& s) {
    const store::OutboxRepository outbox;
    outbox.append(s, {"task-events", 0, "k0", "e0", R"({"id":"e0"})"}, kT0);
    outbox.append(s, {"task-events", 1, "k1", "e1", R"({"id":"e1"})"}, kT0);
    outbox.append(s, {"reminders", 0, "k2", "e2", R"({"id":"e2"})"}, kT0);
  });
  const auto output =
      run(run_events, config({"events", "--topic", "task-events", "--from-beginning"}));
  EXPECT_EQ(output.code, 0);
  EXPECT_EQ(output.out, "{\"id\":\"e0\"}\n{\"id\":\"e1\"}\n");
  // Without --from-beginning: only what comes after now, so nothing.
  EXPECT_EQ(run(run_events, config({"events", "--topic", "task-events"})).out, "");
}

TEST_P(OperatorCommandsTest, DlqListsAndMarksDeadLettersForReplay) {
  insert_dead_letter("dl-1", "audit-service", "task-events");

  const auto listed = run(run_dlq_list, config({"dlq", "list"}));
  EXPECT_EQ(listed.code, 0);
  EXPECT_NE(listed.out.find("\"dl-1\""), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("cannot parse this"), std::string::npos) << listed.out;

  const auto replayed = run(run_dlq_replay, config({"dlq", "replay", "--all"}));
  EXPECT_EQ(replayed.code, 0);
  EXPECT_EQ(replayed.out,
            "marked 1 dead letter for replay; the running server redelivers it to its group\n");
  const auto stored = store::read_value(
      *db_, [](Transaction& s) { return store::DeadLetterRepository{}.find(s, "dl-1"); });
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, store::DeadLetterStatus::kReplayRequested);

  // Only a dead letter in status dead can be marked: a refusal, exit code 1, nothing printed.
  const auto refused = run(run_dlq_replay, config({"dlq", "replay", "--id", "dl-1"}));
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.out, "");
}

TEST_P(OperatorCommandsTest, AdminSetsARoleByEmail) {
  domain::User user;
  user.id = "0190a0a0-0000-7000-8000-000000000001";
  user.email = "ada@example.com";
  user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  user.created_at = kT0;
  db_->write([&](Transaction& s) { store::UserRepository{}.insert(s, user); });

  const auto promoted =
      run(run_admin_set_role,
          config({"admin", "set-role", "--email", "Ada@Example.com", "--role", "admin"}));
  EXPECT_EQ(promoted.code, 0);
  EXPECT_EQ(promoted.out, "ada@example.com is now admin\n");
  const auto stored = store::read_value(*db_, [&](Transaction& s) {
    return store::UserRepository{}.find_by_email(s, "ada@example.com");
  });
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->role, domain::Role::kAdmin);

  EXPECT_EQ(run(run_admin_set_role,
                config({"admin", "set-role", "--email", "nobody@example.com", "--role", "admin"}))
                .code,
            1);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(OperatorCommandsTest);

// SQLite alone: a --data-dir without a database is an error, never a new empty database.
class OperatorCommandsSqliteTest : public OperatorCommandsTest {};

TEST_P(OperatorCommandsSqliteTest, AMissingDatabaseFileIsRefusedNotCreated) {
  db_.reset();
  std::filesystem::remove(dir_.path() / "todo.db");
  const auto output = run(run_dlq_list, config({"dlq", "list"}));
  EXPECT_EQ(output.code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "todo.db"));
}

TODO_STORE_TEST_ON_SQLITE(OperatorCommandsSqliteTest);

// PostgreSQL alone: a consumer in another process hears of a replay at once.
class OperatorCommandsPostgresTest : public OperatorCommandsTest {};

// The consumer, in a Database of its own, sleeps for an hour between polls: only the notification
// that the replay's commit sends can wake it in time to replay the dead letter.
TEST_P(OperatorCommandsPostgresTest, AReplayWakesTheConsumersOfOtherProcessesAtOnce) {
  insert_dead_letter("dl-1", "g1", "orders");
  auto other = open_database();  // the server's process
  const domain::SystemClock real;
  todo::testing::SeededRandom random;
  bus::LogBusOptions options;
  options.partitions = {{"orders", 1}};
  options.poll_interval = std::chrono::hours(1);
  bus::LogBus consumer(*other, real, random, options);
  std::atomic<int> handled = 0;
  consumer.subscribe({"orders", "g1", [&](const bus::Event&, Transaction&) { ++handled; }});
  consumer.start();
  // The first poll (which also looks for replays) is done, and the next is an hour away.
  ASSERT_TRUE(store::testing::eventually([&] { return !consumer.stats().empty(); }));
  ASSERT_TRUE(store::postgres_listening(*other));

  EXPECT_EQ(run(run_dlq_replay, config({"dlq", "replay", "--id", "dl-1"})).code, 0);
  EXPECT_TRUE(store::testing::eventually([&] { return handled.load() == 1; }));
  consumer.stop();
  const auto stored = store::read_value(
      *db_, [](Transaction& s) { return store::DeadLetterRepository{}.find(s, "dl-1"); });
  EXPECT_EQ(stored->status, store::DeadLetterStatus::kReplayed);
}

TODO_STORE_TEST_ON_POSTGRES(OperatorCommandsPostgresTest);

}  // namespace
}  // namespace todo::app

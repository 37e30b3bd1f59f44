// AuditService on every backend with a manual clock, fed the CloudEvents that
// domain::task_change_events makes: entries, snapshots and changes, the hash chain, idempotency,
// verification, retention, filters and pages, and malformed events.
#include "services/audit/audit_service.h"

#include <gmock/gmock.h>

#include <boost/json.hpp>

#include "audit/audit_test_support.h"

namespace todo::services::audit {
namespace {

namespace json = boost::json;
using domain::TaskAction;
using std::chrono::hours;
using std::chrono::minutes;
using testing::AuditFixture;
using todo::testing::at;

constexpr std::string_view kAlice = "01900000-0000-7000-8000-0000000000a1";
constexpr std::string_view kBob = "01900000-0000-7000-8000-0000000000b0";
constexpr std::string_view kTask1 = "01900000-0000-7000-8000-000000000001";
constexpr std::string_view kTask2 = "01900000-0000-7000-8000-000000000002";

json::object payload_of(const store::AuditEntry& e) { return json::parse(e.payload).as_object(); }

std::vector<std::int64_t> ids_of(const std::vector<store::AuditEntry>& entries) {
  std::vector<std::int64_t> ids;
  for (const auto& e : entries) ids.push_back(e.id);
  return ids;
}

class AuditServiceTest : public AuditFixture {
 protected:
  // created, updated (title, description cleared, recurrence and all_day), completed, deleted.
  std::vector<domain::Task> lifecycle(std::string_view task_id, std::string_view user_id) {
    std::vector<domain::Task> states;
    domain::Task created = task(std::string(task_id), std::string(user_id), "Pay rent");
    created.description = "by Friday";
    states.push_back(change(TaskAction::kCreated, std::nullopt, created));
    domain::Task updated = states.back();
    updated.title = "Pay the rent";
    updated.description.reset();
    updated.recurrence = "monthly";
    updated.due_at = at("2026-12-01T00:00:00Z");
    updated.all_day = true;
    states.push_back(change(TaskAction::kUpdated, states.back(), updated));
    domain::Task completed = states.back();
    completed.status = domain::TaskStatus::kCompleted;
    completed.completed_at = clock_.now();
    states.push_back(change(TaskAction::kCompleted, states.back(), completed));
    domain::Task deleted = states.back();
    deleted.deleted_at = clock_.now();
    states.push_back(change(TaskAction::kDeleted, states.back(), deleted));
    return states;
  }
};

TEST_P(AuditServiceTest, RecordsEveryKindOfChangeWithActorSequenceAndTimes) {
  const auto start = clock_.now();
  lifecycle(kTask1, kAlice);
  const auto entries = all();
  ASSERT_EQ(entries.size(), 4u);
  const std::vector<std::string> types = {"task.created", "task.updated", "task.completed",
                                          "task.deleted"};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    EXPECT_EQ(e.id, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(e.event_type, types[i]);
    EXPECT_EQ(e.user_id, kAlice);
    EXPECT_EQ(e.actor, "user:" + std::string(kAlice));
    EXPECT_EQ(e.task_id, kTask1);
    EXPECT_EQ(e.sequence, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(e.event_time, start + minutes(static_cast<int>(i + 1)));
    EXPECT_EQ(e.recorded_at, e.event_time);  // the clock did not move between change and delivery
    EXPECT_EQ(e.event_id.size(), 36u);
  }
}

TEST_P(AuditServiceTest, PayloadHoldsTheSnapshotAndEachChangedFieldsOldAndNewValues) {
  lifecycle(kTask1, kAlice);
  const auto entries = all();
  ASSERT_EQ(entries.size(), 4u);

  const json::object created = payload_of(entries[0]);
  EXPECT_EQ(created.at("task").at("title"), "Pay rent");
  EXPECT_EQ(created.at("task").at("description"), "by Friday");
  EXPECT_FALSE(created.at("task").as_object().contains("changed_fields"));
  EXPECT_TRUE(created.at("changes").as_object().empty());

  const json::object updated = payload_of(entries[1]);
  EXPECT_EQ(updated.at("task").at("title"), "Pay the rent");
  EXPECT_FALSE(updated.at("task").as_object().contains("description"));
  EXPECT_EQ(updated.at("task").at("rrule"), "FREQ=MONTHLY");
  EXPECT_EQ(json::value(updated.at("changes")), json::parse(R"({
    "title": {"old": "Pay rent", "new": "Pay the rent"},
    "description": {"old": "by Friday"},
    "due_date": {"new": "2026-12-01T00:00:00.000Z"},
    "all_day": {"old": false, "new": true},
    "recurrence": {"new": "FREQ=MONTHLY"}})"));

  const json::object completed = payload_of(entries[2]);
  EXPECT_EQ(completed.at("task").at("status"), "completed");
  EXPECT_EQ(json::value(completed.at("changes")),
            json::parse(R"({"status": {"old": "pending", "new": "completed"}})"));

  const json::object deleted = payload_of(entries[3]);
  EXPECT_EQ(deleted.at("task").at("title"), "Pay the rent");
  EXPECT_EQ(deleted.at("task").at("status"), "completed");
  EXPECT_TRUE(deleted.at("changes").as_object().empty());
}

TEST_P(AuditServiceTest, AnOldRecurrenceIsRecordedInTheSnapshotsRruleForm) {
  domain::Task t = task(std::string(kTask1), std::string(kAlice), "Water plants");
  t.recurrence = "weekly";
  const auto created = change(TaskAction::kCreated, std::nullopt, t);
  domain::Task daily = created;
  daily.recurrence = "FREQ=DAILY;INTERVAL=2";
  change(TaskAction::kUpdated, created, daily);
  EXPECT_EQ(json::value(payload_of(all().back()).at("changes")), json::parse(R"({
    "recurrence": {"old": "FREQ=WEEKLY", "new": "FREQ=DAILY;INTERVAL=2"}})"));
}

TEST_P(AuditServiceTest, EachEntryChainsToThePreviousOne) {
  lifecycle(kTask1, kAlice);
  lifecycle(kTask2, kBob);
  const auto entries = all();
  ASSERT_EQ(entries.size(), 8u);
  std::string prev(kGenesisHash);
  for (const auto& e : entries) {
    EXPECT_EQ(e.prev_hash, prev) << e.id;
    EXPECT_EQ(e.hash, entry_hash(e)) << e.id;
    EXPECT_EQ(e.hash.size(), 64u);
    EXPECT_EQ(e.hash.find_first_not_of("0123456789abcdef"), std::string::npos);
    prev = e.hash;
  }
}

// The bytes ADR 7 documents, and the hash an outside tool computes from them. Expected values
// from Python: json.dumps(entry, ensure_ascii=False, separators=(",", ":")), then
// hashlib.sha256((prev_hash + canonical).encode()).hexdigest().
TEST(CanonicalEntry, IsCompactJsonInColumnOrderWithThePayloadAsAString) {
  store::AuditEntry e;
  e.id = 1;
  e.event_id = "0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5c";
  e.event_type = "task.updated";
  e.user_id = "u-1";
  e.actor = "user:u-1";
  e.task_id = "t-1";
  e.sequence = 2;
  e.event_time = domain::from_micros(1764576000000000);
  e.recorded_at = domain::from_micros(1764576000123456);
  e.payload =
      "{\"task\":{\"title\":\"Pay \\\"rent\\\" \xE2\x80\x93 \xE2\x82\xAC\\n\\u0001\"},"
      "\"changes\":{}}";
  e.prev_hash = std::string(kGenesisHash);
  EXPECT_EQ(canonical_entry(e),
            "{\"id\":1,\"event_id\":\"0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5c\","
            "\"event_type\":\"task.updated\",\"user_id\":\"u-1\",\"actor\":\"user:u-1\","
            "\"task_id\":\"t-1\",\"sequence\":2,\"event_time\":1764576000000000,"
            "\"recorded_at\":1764576000123456,"
            "\"payload\":\"{\\\"task\\\":{\\\"title\\\":\\\"Pay \\\\\\\"rent\\\\\\\" "
            "\xE2\x80\x93 \xE2\x82\xAC\\\\n\\\\u0001\\\"},\\\"changes\\\":{}}\","
            "\"prev_hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
  EXPECT_EQ(entry_hash(e), "4bd6bb321efa0601a8224c80c836c37eaca8c3f4847a971e0ba3d98948297608");
}

// The consumer hashes from bytes prepared outside the transaction (prepare_entry, complete_entry):
// they must be canonical_entry()'s, whatever the strings hold, or verify() would fail them.
TEST_P(AuditServiceTest, APreparedEntryHashesToTheCanonicalBytesWhateverItsStringsHold) {
  domain::Task created =
      task(std::string(kTask1), std::string(kAlice), "Pay \"rent\" \xE2\x80\x93 \xE2\x82\xAC\n\x01 \\ /");
  created.description = std::string("\t<tab> \xF0\x9F\x93\x85 \x7F");
  change(TaskAction::kCreated, std::nullopt, created);
  const auto entries = all();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].hash, entry_hash(entries[0]));
  EXPECT_TRUE(audit_.verify().valid);

  PreparedEntry prepared;
  prepared.entry = entries[0];
  const std::string canonical = canonical_entry(entries[0]);
  const auto recorded = canonical.find(",\"recorded_at\":");
  const auto payload = canonical.find(",\"payload\":");
  const auto prev = canonical.find(",\"prev_hash\":");
  prepared.canonical_after_id =
      canonical.substr(canonical.find(','), recorded - canonical.find(',')) + ",\"recorded_at\":";
  prepared.canonical_after_recorded_at =
      canonical.substr(payload, prev - payload) + ",\"prev_hash\":";
  for (const std::int64_t head_id : {std::int64_t{0}, std::int64_t{41}, std::int64_t{1234567890123}}) {
    const auto completed = complete_entry(prepared, head_id, std::string(64, 'a'),
                                          domain::from_micros(-5));
    EXPECT_EQ(completed.id, head_id + 1);
    EXPECT_EQ(completed.hash, entry_hash(completed)) << head_id;
  }
}

TEST_P(AuditServiceTest, ASecondDeliveryOfAnEventAppendsNothing) {
  const domain::Task t = task(std::string(kTask1), std::string(kAlice), "once");
  const bus::Event event = event_of(TaskAction::kCreated, std::nullopt, t);
  deliver(event);
  clock_.advance(minutes(5));
  deliver(event);
  EXPECT_EQ(count(), 1);
  EXPECT_TRUE(audit_.verify().valid);
}

TEST_P(AuditServiceTest, VerifyReportsAnIntactChain) {
  lifecycle(kTask1, kAlice);
  const VerifyReport report = audit_.verify();
  EXPECT_TRUE(report.valid);
  EXPECT_EQ(report.entries_checked, 4);
  EXPECT_FALSE(report.first_broken);
  EXPECT_EQ(report.oldest_id, 1);
  EXPECT_EQ(report.newest_id, 4);
  EXPECT_EQ(report.anchor, kGenesisHash);
}

TEST_P(AuditServiceTest, VerifyOfAnEmptyLogIsValid) {
  const VerifyReport report = audit_.verify();
  EXPECT_TRUE(report.valid);
  EXPECT_EQ(report.entries_checked, 0);
  EXPECT_FALSE(report.oldest_id);
  EXPECT_FALSE(report.newest_id);
}

TEST_P(AuditServiceTest, VerifyNamesAnEditedPayload) {
  lifecycle(kTask1, kAlice);
  execute(
      R"(UPDATE audit_logs SET payload = '{"task":{"title":"forged"},"changes":{}}' WHERE id = 2)");
  const VerifyReport report = audit_.verify();
  EXPECT_FALSE(report.valid);
  ASSERT_TRUE(report.first_broken);
  EXPECT_EQ(report.first_broken->id, 2);
  EXPECT_EQ(report.first_broken->reason, kHashMismatch);
  EXPECT_EQ(report.entries_checked, 2);
  EXPECT_EQ(report.newest_id, 4);
}

TEST_P(AuditServiceTest, VerifyNamesAnEditedColumnEvenWithItsHashRecomputed) {
  lifecycle(kTask1, kAlice);
  // Rewriting entry 2 consistently breaks the link from entry 3 instead.
  auto second = all()[1];
  second.actor = "user:someone-else";
  const std::string forged = entry_hash(second);
  database_->write([&](store::Transaction& s) {
    s.execute("UPDATE audit_logs SET actor = $1, hash = $2 WHERE id = 2", {second.actor, forged});
  });
  const VerifyReport report = audit_.verify();
  ASSERT_TRUE(report.first_broken);
  EXPECT_EQ(report.first_broken->id, 3);
  EXPECT_EQ(report.first_broken->reason, kPrevHashMismatch);
}

TEST_P(AuditServiceTest, VerifyNamesTheEntryAfterADeletedOne) {
  lifecycle(kTask1, kAlice);
  execute("DELETE FROM audit_logs WHERE id = 2");
  const VerifyReport report = audit_.verify();
  EXPECT_FALSE(report.valid);
  ASSERT_TRUE(report.first_broken);
  EXPECT_EQ(report.first_broken->id, 3);
  EXPECT_EQ(report.first_broken->reason, kPrevHashMismatch);
}

TEST_P(AuditServiceTest, VerifyNamesTheOldestEntryWhenItNoLongerMatchesTheAnchor) {
  lifecycle(kTask1, kAlice);
  execute("DELETE FROM audit_logs WHERE id = 1");
  const VerifyReport report = audit_.verify();
  ASSERT_TRUE(report.first_broken);
  EXPECT_EQ(report.first_broken->id, 2);
  EXPECT_EQ(report.first_broken->reason, kPrevHashMismatch);
}

TEST_P(AuditServiceTest, PurgeKeepsTheChainVerifiableFromTheOldestKeptEntry) {
  lifecycle(kTask1, kAlice);  // recorded at +1..+4 minutes
  clock_.advance(hours(24 * 10));
  lifecycle(kTask2, kBob);  // ten days later
  const auto before = all();
  ASSERT_EQ(before.size(), 8u);

  clock_.advance(hours(24));
  EXPECT_EQ(audit_.purge(hours(24 * 5)), 4);
  const VerifyReport report = audit_.verify();
  EXPECT_TRUE(report.valid) << (report.first_broken ? report.first_broken->reason : "");
  EXPECT_EQ(report.entries_checked, 4);
  EXPECT_EQ(report.oldest_id, 5);
  EXPECT_EQ(report.anchor, before[3].hash);
  EXPECT_EQ(ids_of(all()), (std::vector<std::int64_t>{5, 6, 7, 8}));

  EXPECT_EQ(audit_.purge(hours(24 * 5)), 0);  // nothing older is left
  EXPECT_EQ(audit_.verify().anchor, before[3].hash);
}

TEST_P(AuditServiceTest, AfterPurgingEverythingTheChainContinuesFromTheAnchor) {
  lifecycle(kTask1, kAlice);
  const std::string last_hash = all().back().hash;
  clock_.advance(hours(24 * 100));
  EXPECT_EQ(audit_.purge(hours(24 * 90)), 4);
  EXPECT_EQ(audit_.verify().anchor, last_hash);
  EXPECT_EQ(audit_.verify().entries_checked, 0);

  change(TaskAction::kCreated, std::nullopt, task(std::string(kTask2), std::string(kBob), "new"));
  const auto entries = all();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, 5);  // ids keep ascending
  EXPECT_EQ(entries[0].prev_hash, last_hash);
  EXPECT_TRUE(audit_.verify().valid);
}

TEST_P(AuditServiceTest, PurgeAfterTamperingKeepsReportingIt) {
  lifecycle(kTask1, kAlice);
  clock_.advance(hours(24 * 10));
  lifecycle(kTask2, kBob);
  execute("UPDATE audit_logs SET sequence = 9 WHERE id = 7");
  audit_.purge(hours(24 * 5));
  const VerifyReport report = audit_.verify();
  ASSERT_TRUE(report.first_broken);
  EXPECT_EQ(report.first_broken->id, 7);
}

class AuditQueryTest : public AuditServiceTest {
 protected:
  // Alice: task 1 (4 entries, ids 1-4) then Bob: task 2 (ids 5-8) then Alice: task 2b (9-12).
  void SetUp() override {
    lifecycle(kTask1, kAlice);
    lifecycle(kTask2, kBob);
    lifecycle("01900000-0000-7000-8000-000000000003", kAlice);
  }

  std::vector<std::int64_t> ids(store::AuditQuery q) {
    q.limit = 500;
    return ids_of(audit_.list(q).items);
  }
};

TEST_P(AuditQueryTest, NewestFirstByDefaultAndOldestFirstOnRequest) {
  EXPECT_EQ(ids({}), (std::vector<std::int64_t>{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  store::AuditQuery q;
  q.ascending = true;
  q.task_id = std::string(kTask2);
  EXPECT_EQ(ids(q), (std::vector<std::int64_t>{5, 6, 7, 8}));
}

TEST_P(AuditQueryTest, FiltersByUserTaskTypeAndInclusiveDates) {
  store::AuditQuery q;
  q.user_id = std::string(kAlice);
  EXPECT_EQ(ids(q), (std::vector<std::int64_t>{12, 11, 10, 9, 4, 3, 2, 1}));
  q.task_id = std::string(kTask1);
  EXPECT_EQ(ids(q), (std::vector<std::int64_t>{4, 3, 2, 1}));
  q.event_type = "task.completed";
  EXPECT_EQ(ids(q), (std::vector<std::int64_t>{3}));

  const auto entries = all();
  store::AuditQuery dates;
  dates.from = entries[4].event_time;  // both bounds are inclusive
  dates.to = entries[6].event_time;
  EXPECT_EQ(ids(dates), (std::vector<std::int64_t>{7, 6, 5}));
  dates.event_type = "task.deleted";
  EXPECT_TRUE(ids(dates).empty());
  store::AuditQuery bob;
  bob.user_id = std::string(kBob);
  bob.event_type = "task.deleted";
  EXPECT_EQ(ids(bob), (std::vector<std::int64_t>{8}));
}

TEST_P(AuditQueryTest, WalkingPagesOfAnySizeYieldsTheWholeList) {
  for (const bool ascending : {false, true}) {
    store::AuditQuery full;
    full.ascending = ascending;
    full.user_id = std::string(kAlice);
    const auto expected = ids(full);
    for (int limit = 1; limit <= 3; ++limit) {
      std::vector<std::int64_t> walked;
      store::AuditQuery q = full;
      q.limit = limit;
      for (int pages = 0; pages < 100; ++pages) {
        const AuditPage page = audit_.list(q);
        EXPECT_LE(page.items.size(), static_cast<std::size_t>(limit));
        for (const auto& e : page.items) walked.push_back(e.id);
        if (!page.has_more) break;
        EXPECT_EQ(page.items.size(), static_cast<std::size_t>(limit));
        q.after_id = page.items.back().id;
      }
      EXPECT_EQ(walked, expected) << "limit " << limit << " ascending " << ascending;
    }
  }
}

TEST_P(AuditServiceTest, TheRoleComesFromTheUsersTable) {
  domain::User user;
  user.id = std::string(kAlice);
  user.email = "alice@example.com";
  user.password_hash = "x";
  database_->write([&](store::Transaction& s) { store::UserRepository{}.insert(s, user); });
  EXPECT_FALSE(audit_.is_admin(kAlice));
  database_->write([&](store::Transaction& s) {
    store::UserRepository{}.set_role(s, kAlice, domain::Role::kAdmin);
  });
  EXPECT_TRUE(audit_.is_admin(kAlice));
  EXPECT_FALSE(audit_.is_admin(kBob));  // no such user
}

// Each malformed event throws a permanent failure (the bus dead-letters it at once) and writes
// nothing.
TEST_P(AuditServiceTest, AMalformedEventThrowsAndWritesNothing) {
  const domain::Task t = task(std::string(kTask1), std::string(kAlice), "fine");
  const bus::Event good = event_of(TaskAction::kCreated, std::nullopt, t);
  const json::object ce = json::parse(good.payload).as_object();

  auto with = [&](auto edit) {
    json::object copy = ce;
    edit(copy);
    bus::Event e = good;
    e.payload = json::serialize(copy);
    return e;
  };
  auto data = [](json::object& o) -> json::object& { return o["data"].as_object(); };
  std::vector<std::pair<std::string, bus::Event>> bad;
  bad.emplace_back("not JSON", [&] {
    bus::Event e = good;
    e.payload = "{\"id\":";
    return e;
  }());
  bad.emplace_back("an array", [&] {
    bus::Event e = good;
    e.payload = "[]";
    return e;
  }());
  bad.emplace_back("another type", with([](json::object& o) { o["type"] = "com.todo.task.sync"; }));
  bad.emplace_back("no id", with([](json::object& o) { o.erase("id"); }));
  bad.emplace_back("bad time", with([](json::object& o) { o["time"] = "yesterday"; }));
  bad.emplace_back("no data", with([](json::object& o) { o.erase("data"); }));
  bad.emplace_back("no task_id", with([&](json::object& o) { data(o).erase("task_id"); }));
  bad.emplace_back("numeric user_id", with([&](json::object& o) { data(o)["user_id"] = 7; }));
  bad.emplace_back("text sequence", with([&](json::object& o) { data(o)["sequence"] = "1"; }));
  bad.emplace_back("no payload", with([&](json::object& o) { data(o).erase("payload"); }));
  bad.emplace_back("before not an object", with([&](json::object& o) { data(o)["before"] = 1; }));
  bad.emplace_back("changed_fields missing", with([&](json::object& o) {
                     data(o)["payload"].as_object().erase("changed_fields");
                   }));
  bad.emplace_back("changed_fields of numbers", with([&](json::object& o) {
                     data(o)["payload"].as_object()["changed_fields"] = json::array{1};
                   }));
  for (const auto& [what, event] : bad) {
    EXPECT_THROW(deliver(event), bus::PermanentFailure) << what;
  }
  EXPECT_EQ(count(), 0);
  deliver(good);  // the unedited event is fine
  EXPECT_EQ(count(), 1);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(AuditServiceTest);
TODO_STORE_TEST_ON_EVERY_BACKEND(AuditQueryTest);

}  // namespace
}  // namespace todo::services::audit

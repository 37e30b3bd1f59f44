// TaskRepository against a migrated SQLite file: the row mapping, filters, keyset pagination in
// every order, the sync delta and tombstone purging.
#include "store/task_repository.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <random>
#include <set>

#include "domain/time_format.h"
#include "store/user_repository.h"
#include "store_test_support.h"

namespace todo::store {
namespace {

using domain::from_micros;
using domain::Priority;
using domain::Task;
using domain::TaskStatus;

constexpr std::int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr std::string_view kAlice = "0190f8a0-0000-7000-8000-00000000000a";
constexpr std::string_view kBob = "0190f8a0-0000-7000-8000-00000000000b";

domain::Timestamp at(std::int64_t seconds_after_t0) {
  return from_micros(kT0 + seconds_after_t0 * 1'000'000);
}

// Stands in for domain::casefold: lower-cases ASCII and leaves every other byte alone.
std::string ascii_fold(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

domain::User user(std::string_view id, std::string email) {
  domain::User u;
  u.id = std::string(id);
  u.email = std::move(email);
  u.password_hash = "hash";
  u.created_at = at(0);
  return u;
}

void expect_same(const Task& a, const Task& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.due_at, b.due_at);
  EXPECT_EQ(a.all_day, b.all_day);
  EXPECT_EQ(a.timezone, b.timezone);
  EXPECT_EQ(a.recurrence, b.recurrence);
  EXPECT_EQ(a.recurrence_mode, b.recurrence_mode);
  EXPECT_EQ(a.series_id, b.series_id);
  EXPECT_EQ(a.occurrence_index, b.occurrence_index);
  EXPECT_EQ(a.reminders, b.reminders);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.change_seq, b.change_seq);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.completed_at, b.completed_at);
  EXPECT_EQ(a.deleted_at, b.deleted_at);
  EXPECT_EQ(a.recurrence_anchor, b.recurrence_anchor);
  EXPECT_EQ(a.recurrence_anchor_index, b.recurrence_anchor_index);
}

std::vector<std::string> ids_of(const std::vector<Task>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks) out.push_back(t.id);
  return out;
}

using Ids = std::vector<std::string>;

class TaskRepositoryTest : public testing::BackendTest {
 protected:
  void SetUp() override {
    db_ = open_database();
    db_->write([&](Transaction& s) {
      users_.insert(s, user(kAlice, "alice@example.com"));
      users_.insert(s, user(kBob, "bob@example.com"));
    });
  }

  // A pending medium task with a fresh change_seq, created and updated at t0.
  Task task(std::string id, std::string title, std::string_view owner = kAlice) {
    Task t;
    t.id = std::move(id);
    t.user_id = std::string(owner);
    t.title = std::move(title);
    t.change_seq = ++last_seq_;
    t.created_at = at(0);
    t.updated_at = at(0);
    return t;
  }

  void insert(const std::vector<Task>& tasks) {
    db_->write([&](Transaction& s) {
      for (const auto& t : tasks) tasks_.insert(s, t);
    });
  }
  void update(const Task& t) {
    db_->write([&](Transaction& s) { tasks_.update(s, t); });
  }
  std::optional<Task> find(std::string_view id, bool include_deleted = false,
                           std::string_view owner = kAlice) {
    return read_value(*db_, [&](Transaction& s) { return tasks_.find(s, owner, id, include_deleted); });
  }
  std::vector<Task> list(const TaskQuery& q) {
    return read_value(*db_, [&](Transaction& s) { return tasks_.list(s, q); });
  }
  Ids ids(const TaskQuery& q) { return ids_of(list(q)); }
  static TaskQuery query() {
    TaskQuery q;
    q.user_id = std::string(kAlice);
    return q;
  }

  std::unique_ptr<Database> db_;
  UserRepository users_;
  TaskRepository tasks_{ascii_fold};
  std::int64_t last_seq_ = 0;
};

Task full_task() {
  Task t;
  t.id = "0190f8a0-0000-7000-8000-0000000000f1";
  t.user_id = std::string(kAlice);
  t.title = "Pay rent \xF0\x9F\x8F\xA0";
  t.description = "Bank transfer\nreference 42";
  t.status = TaskStatus::kCompleted;
  t.priority = Priority::kHigh;
  t.tags = {"home", "money",
            "\xC3\xBC"
            "ber"};
  t.due_at = from_micros(kT0 + 86'400'000'000 + 123);  // microseconds survive
  t.all_day = true;
  t.timezone = "Europe/Berlin";
  t.recurrence = "FREQ=MONTHLY;BYMONTHDAY=1";
  t.recurrence_mode = domain::RecurrenceMode::kCompletion;
  t.series_id = "0190f8a0-0000-7000-8000-0000000000f0";
  t.occurrence_index = 3;
  t.recurrence_anchor = domain::LocalDateTime{2026, 1, 31, 9, 30, 0, 250};  // µs survive too
  t.recurrence_anchor_index = 2;
  t.reminders = {0, 15, 1440};
  t.version = 7;
  t.change_seq = 41;
  t.created_at = at(1);
  t.updated_at = at(2);
  t.completed_at = at(3);
  t.deleted_at = std::nullopt;
  return t;
}

TEST(TaskRepositoryConstructionTest, NeedsAFoldingFunction) {
  EXPECT_THROW(TaskRepository(nullptr), std::invalid_argument);
}

TEST(TaskRepositoryConstructionTest, SearchKeysAreTheFoldedTitleAndDescription) {
  const TaskRepository repo(ascii_fold);
  auto t = full_task();
  t.title = "Pay RENT";
  t.description = "Bank Transfer";
  auto keys = repo.search_keys(t);
  EXPECT_EQ(keys.title_key, "pay rent");
  EXPECT_EQ(keys.search_text, "pay rent\nbank transfer");
  t.description = std::nullopt;
  keys = repo.search_keys(t);
  EXPECT_EQ(keys.search_text, "pay rent\n");
}

TEST_P(TaskRepositoryTest, InsertedTaskIsFoundWithEveryField) {
  const auto full = full_task();
  auto bare = task("0190f8a0-0000-7000-8000-0000000000f2", "x");  // every optional empty
  insert({full, bare});
  const auto found = find(full.id);
  ASSERT_TRUE(found);
  expect_same(found.value(), full);
  const auto found_bare = find(bare.id);
  ASSERT_TRUE(found_bare);
  expect_same(found_bare.value(), bare);
  EXPECT_TRUE(found_bare.value().tags.empty());
  EXPECT_TRUE(found_bare.value().reminders.empty());
  EXPECT_EQ(found_bare.value().description, std::nullopt);
}

TEST_P(TaskRepositoryTest, AnotherUsersTaskIsNotFound) {
  insert({task("t1", "mine")});
  EXPECT_TRUE(find("t1"));
  EXPECT_FALSE(find("t1", false, kBob));
  EXPECT_FALSE(find("t1", true, kBob));
  EXPECT_FALSE(find("unknown"));
}

TEST_P(TaskRepositoryTest, ATaskNeedsAnExistingOwner) {
  EXPECT_THROW(insert({task("t1", "orphan", "nobody")}), ConstraintViolation);
}

TEST_P(TaskRepositoryTest, DeletingTheOwnerDeletesTheTasks) {
  insert({task("t1", "a"), task("t2", "b", kBob)});
  db_->write(
      [](Transaction& s) { s.execute("DELETE FROM users WHERE id = $1", {std::string(kAlice)}); });
  EXPECT_FALSE(find("t1", true));
  EXPECT_TRUE(find("t2", false, kBob));
}

TEST_P(TaskRepositoryTest, UpdateWritesEveryColumnAndTheSearchKeys) {
  auto t = task("t1", "Old title");
  t.description = "old words";
  insert({t});
  auto changed = full_task();
  changed.id = "t1";
  changed.title = "New TITLE";
  changed.description = "fresh words";
  update(changed);
  expect_same(find("t1").value(), changed);

  auto q = query();
  q.folded_text = "new title";
  EXPECT_EQ(ids(q), Ids{"t1"});
  q.folded_text = "fresh";
  EXPECT_EQ(ids(q), Ids{"t1"});
  q.folded_text = "old";
  EXPECT_EQ(ids(q), Ids{});
}

TEST_P(TaskRepositoryTest, UpdateOfAMissingTaskIsAnError) {
  insert({task("t1", "a")});
  EXPECT_THROW(update(task("t2", "never inserted")), DatabaseError);
  auto foreign = task("t1", "a");
  foreign.user_id = std::string(kBob);
  EXPECT_THROW(update(foreign), DatabaseError);  // id matches, owner does not
  EXPECT_EQ(find("t1").value().title, "a");
}

TEST_P(TaskRepositoryTest, TombstonesAreFoundOnlyWhenAskedFor) {
  auto t = task("t1", "a");
  insert({t, task("t2", "b")});
  t.deleted_at = at(60);
  t.version = 2;
  t.change_seq = ++last_seq_;
  update(t);
  EXPECT_FALSE(find("t1"));
  const auto tombstone = find("t1", true);
  ASSERT_TRUE(tombstone);
  EXPECT_EQ(tombstone.value().deleted_at, at(60));
  EXPECT_EQ(ids(query()), Ids{"t2"});
}

TEST_P(TaskRepositoryTest, TagsThatCannotBeStoredAreRefused) {
  auto t = task("t1", "a");
  t.tags = {"home", "two\nlines"};
  EXPECT_THROW(insert({t}), std::invalid_argument);
  t.tags = {""};
  EXPECT_THROW(insert({t}), std::invalid_argument);
  EXPECT_FALSE(find("t1"));
}

TEST_P(TaskRepositoryTest, CorruptStoredValuesAreReportedNotGuessed) {
  insert({task("t1", "a")});
  const auto corrupt = [&](std::string_view sql) {
    db_->write([&](Transaction& s) { s.execute(sql); });
    EXPECT_THROW(find("t1"), DatabaseError) << sql;
  };
  corrupt("UPDATE tasks SET tags = 'home' WHERE id = 't1'");
  corrupt(backend().dialect == Dialect::kPostgres
              ? "UPDATE tasks SET tags = chr(10) || chr(10) WHERE id = 't1'"
              : "UPDATE tasks SET tags = char(10) || char(10) WHERE id = 't1'");
  corrupt("UPDATE tasks SET tags = '', reminders = '15,' WHERE id = 't1'");
  corrupt(
      "UPDATE tasks SET reminders = '', recurrence_anchor = '2026-02-30T09:00:00' "
      "WHERE id = 't1'");
}

TEST_P(TaskRepositoryTest, SchemaRefusesUnknownEnumValues) {
  insert({task("t1", "a")});
  for (const auto* sql : {"UPDATE tasks SET status = 'done' WHERE id = 't1'",
                          "UPDATE tasks SET priority = 4 WHERE id = 't1'",
                          "UPDATE tasks SET recurrence_mode = 'often' WHERE id = 't1'",
                          "UPDATE tasks SET all_day = 2 WHERE id = 't1'"}) {
    EXPECT_THROW(db_->write([&](Transaction& s) { s.execute(sql); }), ConstraintViolation) << sql;
  }
  // Text in an integer column: SQLite's STRICT tables report a datatype constraint; PostgreSQL
  // refuses the text itself (SQLSTATE 22P02) before any constraint: a DatabaseError there.
  const auto* wrong_type = "UPDATE tasks SET due_at = 'tomorrow' WHERE id = 't1'";
  if (backend().dialect == Dialect::kSqlite) {
    EXPECT_THROW(db_->write([&](Transaction& s) { s.execute(wrong_type); }), ConstraintViolation);
  } else {
    EXPECT_THROW(db_->write([&](Transaction& s) { s.execute(wrong_type); }), DatabaseError);
  }
}

TEST_P(TaskRepositoryTest, SeriesOccurrenceIsUnique) {
  auto first = task("t1", "weekly");
  first.series_id = "t1";
  auto second = task("t2", "weekly");
  second.series_id = "t1";
  second.occurrence_index = 1;
  insert({first, second});
  auto twin = task("t3", "weekly");
  twin.series_id = "t1";
  twin.occurrence_index = 1;
  EXPECT_THROW(insert({twin}), ConstraintViolation);
  // Tasks outside any series never collide.
  insert({task("t4", "once"), task("t5", "once")});
  EXPECT_FALSE(find("t3"));
  EXPECT_TRUE(find("t5"));
}

TEST_P(TaskRepositoryTest, ChangeSeqIsUniquePerUser) {
  auto a = task("t1", "a");
  auto b = task("t2", "b");
  b.change_seq = a.change_seq;
  insert({a});
  EXPECT_THROW(insert({b}), ConstraintViolation);
  b.user_id = std::string(kBob);
  insert({b});  // another user's counter
  EXPECT_TRUE(find("t2", false, kBob));
}

// The filter tests share one small data set; the list order is created_at, then id.
class TaskFilterTest : public TaskRepositoryTest {
 protected:
  void SetUp() override {
    TaskRepositoryTest::SetUp();
    auto t1 = task("t1", "Pay rent");
    t1.description = "Bank transfer";
    t1.priority = Priority::kHigh;
    t1.tags = {"home", "money"};
    t1.due_at = at(10);
    auto t2 = task("t2", "Buy milk");
    t2.status = TaskStatus::kCompleted;
    t2.priority = Priority::kLow;
    t2.tags = {"home"};
    t2.due_at = at(20);
    auto t3 = task("t3", "Write report");
    t3.tags = {"work"};
    auto t4 = task("t4", "100% done");
    t4.description = "a_b and c";
    t4.due_at = at(5);
    auto t5 = task("t5", "Call MOM");
    t5.priority = Priority::kLow;
    t5.tags = {"home", "family"};
    t5.due_at = at(30);
    auto deleted = task("t6", "Pay rent twice");
    deleted.priority = Priority::kHigh;
    deleted.tags = {"home"};
    deleted.due_at = at(10);
    deleted.deleted_at = at(1);
    auto bobs = task("b1", "Pay rent", kBob);
    bobs.priority = Priority::kHigh;
    bobs.tags = {"home", "money"};
    bobs.due_at = at(10);
    insert({t1, t2, t3, t4, t5, deleted, bobs});
  }
};

TEST_P(TaskFilterTest, NoFilterListsEveryLiveTaskOfTheUser) {
  EXPECT_EQ(ids(query()), (Ids{"t1", "t2", "t3", "t4", "t5"}));
}

TEST_P(TaskFilterTest, Status) {
  auto q = query();
  q.status = TaskStatus::kPending;
  EXPECT_EQ(ids(q), (Ids{"t1", "t3", "t4", "t5"}));
  q.status = TaskStatus::kCompleted;
  EXPECT_EQ(ids(q), (Ids{"t2"}));
}

TEST_P(TaskFilterTest, Priority) {
  auto q = query();
  q.priority = Priority::kHigh;
  EXPECT_EQ(ids(q), (Ids{"t1"}));
  q.priority = Priority::kMedium;
  EXPECT_EQ(ids(q), (Ids{"t3", "t4"}));
  q.priority = Priority::kLow;
  EXPECT_EQ(ids(q), (Ids{"t2", "t5"}));
}

TEST_P(TaskFilterTest, TagsMustAllBePresent) {
  auto q = query();
  q.tags = {"home"};
  EXPECT_EQ(ids(q), (Ids{"t1", "t2", "t5"}));
  q.tags = {"home", "money"};
  EXPECT_EQ(ids(q), (Ids{"t1"}));
  q.tags = {"money", "home"};
  EXPECT_EQ(ids(q), (Ids{"t1"}));
  q.tags = {"home", "work"};
  EXPECT_EQ(ids(q), Ids{});
  q.tags = {"family"};
  EXPECT_EQ(ids(q), (Ids{"t5"}));
}

TEST_P(TaskFilterTest, ATagMatchesOnlyAWholeTag) {
  auto q = query();
  for (const auto* tag : {"hom", "ome", "money\nhome", "home\nmoney", "", "\n"}) {
    q.tags = {tag};
    EXPECT_EQ(ids(q), Ids{}) << "tag " << tag;
  }
}

TEST_P(TaskFilterTest, TextIsASubstringOfTitleOrDescription) {
  auto q = query();
  q.folded_text = "rent";
  EXPECT_EQ(ids(q), (Ids{"t1"}));  // not t6 (deleted), not b1 (Bob's)
  q.folded_text = "bank";
  EXPECT_EQ(ids(q), (Ids{"t1"}));
  q.folded_text = "call mom";  // stored folded: "Call MOM"
  EXPECT_EQ(ids(q), (Ids{"t5"}));
  q.folded_text = "r";
  EXPECT_EQ(ids(q), (Ids{"t1", "t3"}));  // Pay rent, Write report
}

TEST_P(TaskFilterTest, TextSearchHasNoWildcards) {
  auto q = query();
  for (const auto* literal : {"%", "0%", "100% done", "_", "a_b"}) {
    q.folded_text = literal;
    EXPECT_EQ(ids(q), (Ids{"t4"})) << literal;
  }
  // Each would match something as a LIKE pattern.
  for (const auto* pattern : {"1%", "%done", "1_0", "p_y", "a%c", "pay%"}) {
    q.folded_text = pattern;
    EXPECT_EQ(ids(q), Ids{}) << pattern;
  }
}

TEST_P(TaskFilterTest, DueBeforeAndAfterAreInclusiveAndSkipTasksWithoutDueDate) {
  auto q = query();
  q.due_before = at(10);
  EXPECT_EQ(ids(q), (Ids{"t1", "t4"}));
  q.due_before = std::nullopt;
  q.due_after = at(20);
  EXPECT_EQ(ids(q), (Ids{"t2", "t5"}));
  q.due_before = at(20);
  q.due_after = at(10);
  EXPECT_EQ(ids(q), (Ids{"t1", "t2"}));
  q.due_after = at(21);
  EXPECT_EQ(ids(q), Ids{});
}

TEST_P(TaskFilterTest, OverdueIsPendingAndDueStrictlyBefore) {
  auto q = query();
  q.overdue_at = at(20);
  EXPECT_EQ(ids(q), (Ids{"t1", "t4"}));  // t2 is due at 20 and completed
  q.overdue_at = at(10);
  EXPECT_EQ(ids(q), (Ids{"t4"}));
  q.overdue_at = at(1000);
  EXPECT_EQ(ids(q), (Ids{"t1", "t4", "t5"}));
}

TEST_P(TaskFilterTest, FiltersCombine) {
  auto q = query();
  q.status = TaskStatus::kPending;
  q.tags = {"home"};
  q.due_before = at(30);
  EXPECT_EQ(ids(q), (Ids{"t1", "t5"}));
  q.folded_text = "mom";
  EXPECT_EQ(ids(q), (Ids{"t5"}));
  q.folded_text = std::nullopt;
  q.priority = Priority::kHigh;
  EXPECT_EQ(ids(q), (Ids{"t1"}));
  q.overdue_at = at(10);
  EXPECT_EQ(ids(q), Ids{});
  q.overdue_at = at(11);
  q.due_after = at(10);
  EXPECT_EQ(ids(q), (Ids{"t1"}));
}

TEST_P(TaskFilterTest, LimitCutsTheList) {
  auto q = query();
  q.limit = 2;
  EXPECT_EQ(ids(q), (Ids{"t1", "t2"}));
  q.limit = 0;
  EXPECT_EQ(ids(q), Ids{});
  q.limit = 500;
  EXPECT_EQ(ids(q).size(), 5U);
}

TEST_P(TaskFilterTest, AnotherUsersListIsTheirOwn) {
  auto q = query();
  q.user_id = std::string(kBob);
  EXPECT_EQ(ids(q), (Ids{"b1"}));
  q.user_id = "nobody";
  EXPECT_EQ(ids(q), Ids{});
}

TEST(TaskPositionTest, PositionOfIsTheSortValueAndTheId) {
  auto t = full_task();
  using V = decltype(TaskPosition::value);
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kCreatedAt).value,
            V{domain::to_micros(t.created_at)});
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kUpdatedAt).value,
            V{domain::to_micros(t.updated_at)});
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kPriority).value, V{std::int64_t{3}});
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kTitle).value, V{t.title});
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kDueDate).value,
            V{domain::to_micros(t.due_at.value())});
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kDueDate).id, t.id);
  t.due_at = std::nullopt;
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kDueDate).value, V{});
  t.status = TaskStatus::kCompleted;
  EXPECT_EQ(TaskRepository::position_of(t, TaskSort::kStatus).value, V{std::string("completed")});
}

TEST_P(TaskFilterTest, APositionThatDoesNotFitTheSortIsRefused) {
  auto q = query();
  q.after = TaskPosition{std::string("Pay rent"), "t1"};
  EXPECT_THROW(list(q), std::invalid_argument);  // created_at needs an integer
  q.sort = TaskSort::kTitle;
  q.after = TaskPosition{std::int64_t{1}, "t1"};
  EXPECT_THROW(list(q), std::invalid_argument);
  q.sort = TaskSort::kPriority;
  q.after = TaskPosition{std::monostate{}, "t1"};  // only due dates may be NULL
  EXPECT_THROW(list(q), std::invalid_argument);
  q.sort = TaskSort::kStatus;
  q.after = TaskPosition{std::int64_t{1}, "t1"};  // a status is a text
  EXPECT_THROW(list(q), std::invalid_argument);
  q.after = TaskPosition{std::string("pending"), "t1"};
  q.ties = TaskTies::kByDueThenNewest;  // one unpaged list: no position
  EXPECT_THROW(list(q), std::invalid_argument);
}

// Keyset pagination: a seeded data set full of equal sort values and missing due dates, paged
// through in every order and with several page sizes, must come out exactly as the whole list
// ordered independently here.
class TaskPaginationTest : public TaskRepositoryTest {
 protected:
  void SetUp() override {
    TaskRepositoryTest::SetUp();
    std::mt19937 rng(20260101);
    const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    // "\xC3\xA1pple" (á) is above every ASCII title as bytes: the order is bytewise, unsigned.
    const std::vector<std::string> titles = {"apple",        "Apple",  "APPLE pie",
                                             "banana",       "Banana", "cherry",
                                             "\xC3\xA1pple", "Zebra",  "zebra"};
    std::vector<int> numbers(kTasks);
    for (int i = 0; i < kTasks; ++i) numbers[static_cast<std::size_t>(i)] = i;
    std::shuffle(numbers.begin(), numbers.end(), rng);  // id order unrelated to insert order
    std::vector<Task> all;
    for (int n : numbers) {
      auto t = task("task-" + std::to_string(100 + n),
                    titles[static_cast<std::size_t>(pick(static_cast<int>(titles.size())))]);
      t.created_at = at(pick(5));
      t.updated_at = at(pick(4));
      t.priority = static_cast<Priority>(1 + pick(3));
      if (pick(3) != 0) t.due_at = at(3600 * pick(4));
      t.status = pick(2) == 0 ? TaskStatus::kPending : TaskStatus::kCompleted;
      if (pick(2) == 0) t.tags.push_back("home");
      if (pick(2) == 0) t.tags.push_back("work");
      all.push_back(t);
    }
    for (std::size_t i = 0; i < 4; ++i) {  // tombstones and another user's tasks stay out
      auto gone = all[i];
      gone.id = "gone-" + std::to_string(i);
      gone.change_seq = ++last_seq_;
      gone.deleted_at = at(1);
      all.push_back(gone);
      auto other = all[i];
      other.id = "bobs-" + std::to_string(i);
      other.user_id = std::string(kBob);
      other.change_seq = ++last_seq_;
      all.push_back(other);
    }
    insert(all);
    live_ = {all.begin(), all.begin() + kTasks};
  }

  // The query's order computed here, independently of the SQL.
  static bool before(const Task& a, const Task& b, TaskSort sort, bool descending) {
    const auto by = [&](const auto& x, const auto& y) {
      if (x != y) return descending ? y < x : x < y;
      return descending ? b.id < a.id : a.id < b.id;
    };
    switch (sort) {
      case TaskSort::kCreatedAt:
        return by(a.created_at, b.created_at);
      case TaskSort::kUpdatedAt:
        return by(a.updated_at, b.updated_at);
      case TaskSort::kPriority:
        return by(static_cast<int>(a.priority), static_cast<int>(b.priority));
      case TaskSort::kTitle:
        return by(ascii_fold(a.title), ascii_fold(b.title));
      case TaskSort::kDueDate:
        if (a.due_at.has_value() != b.due_at.has_value()) return a.due_at.has_value();
        return by(a.due_at.value_or(at(0)), b.due_at.value_or(at(0)));
      case TaskSort::kStatus:
        return by(std::string(domain::to_string(a.status)),
                  std::string(domain::to_string(b.status)));
    }
    return false;
  }

  // The previous system's order: the sort value in the query's direction, then due date
  // ascending (none last), then newest first, then id descending.
  static bool before_by_due_then_newest(const Task& a, const Task& b, TaskSort sort,
                                        bool descending) {
    if (TaskRepository::position_of(a, sort).value != TaskRepository::position_of(b, sort).value) {
      return before(a, b, sort, descending);  // which orders by the sort value first
    }
    if (a.due_at.has_value() != b.due_at.has_value()) return a.due_at.has_value();
    if (a.due_at != b.due_at) return *a.due_at < *b.due_at;
    if (a.created_at != b.created_at) return b.created_at < a.created_at;
    return b.id < a.id;
  }

  Ids expected(const TaskQuery& q, const std::function<bool(const Task&)>& keep) const {
    std::vector<Task> tasks;
    std::copy_if(live_.begin(), live_.end(), std::back_inserter(tasks), keep);
    std::sort(tasks.begin(), tasks.end(),
              [&](const Task& a, const Task& b) { return before(a, b, q.sort, q.descending); });
    return ids_of(tasks);
  }

  // Every page of `q` with `page_size`, each one starting after the last task of the previous.
  Ids paginate(TaskQuery q, int page_size) {
    Ids out;
    q.limit = page_size;
    q.after = std::nullopt;
    for (int pages = 0; pages <= kTasks + 1; ++pages) {
      const auto page = list(q);
      for (const auto& t : page) out.push_back(t.id);
      if (page.size() < static_cast<std::size_t>(page_size)) return out;
      q.after = TaskRepository::position_of(page.back(), q.sort);
    }
    ADD_FAILURE() << "pagination does not end";
    return out;
  }

  static constexpr int kTasks = 40;
  std::vector<Task> live_;
};

constexpr TaskSort kSorts[] = {TaskSort::kCreatedAt, TaskSort::kDueDate, TaskSort::kPriority,
                               TaskSort::kTitle,     TaskSort::kUpdatedAt, TaskSort::kStatus};

TEST_P(TaskPaginationTest, TheDataSetHasTiesAndMissingDueDates) {
  std::set<std::int64_t> created;
  std::set<std::string> titles;
  int without_due = 0;
  for (const auto& t : live_) {
    created.insert(domain::to_micros(t.created_at));
    titles.insert(ascii_fold(t.title));
    if (!t.due_at) ++without_due;
  }
  EXPECT_LT(created.size(), live_.size() / 4);
  EXPECT_LT(titles.size(), live_.size() / 4);
  EXPECT_GE(without_due, 5);
  EXPECT_LE(without_due, kTasks - 5);
}

TEST_P(TaskPaginationTest, EveryOrderPagesThroughEveryTaskOnce) {
  for (const TaskSort sort : kSorts) {
    for (const bool descending : {false, true}) {
      auto q = query();
      q.sort = sort;
      q.descending = descending;
      const auto whole = expected(q, [](const Task&) { return true; });
      ASSERT_EQ(whole.size(), static_cast<std::size_t>(kTasks));
      q.limit = kTasks + 10;
      EXPECT_EQ(ids(q), whole) << "sort " << static_cast<int>(sort) << " desc " << descending;
      for (const int page_size : {1, 2, 3, 7}) {
        EXPECT_EQ(paginate(q, page_size), whole)
            << "sort " << static_cast<int>(sort) << " desc " << descending << " page " << page_size;
      }
    }
  }
}

TEST_P(TaskPaginationTest, PagesOfAFilteredList) {
  for (const TaskSort sort : kSorts) {
    for (const bool descending : {false, true}) {
      auto q = query();
      q.sort = sort;
      q.descending = descending;
      q.status = TaskStatus::kPending;
      q.tags = {"home"};
      const auto whole = expected(q, [](const Task& t) {
        return t.status == TaskStatus::kPending &&
               std::find(t.tags.begin(), t.tags.end(), "home") != t.tags.end();
      });
      ASSERT_GE(whole.size(), 3U);
      for (const int page_size : {1, 3}) {
        EXPECT_EQ(paginate(q, page_size), whole)
            << "sort " << static_cast<int>(sort) << " desc " << descending << " page " << page_size;
      }
    }
  }
}

TEST_P(TaskPaginationTest, TiesByDueDateThenNewestOrderEqualSortValues) {
  for (const TaskSort sort : kSorts) {
    if (sort == TaskSort::kTitle) continue;  // folded in SQL: equal keys are not equal titles here
    for (const bool descending : {false, true}) {
      auto q = query();
      q.sort = sort;
      q.descending = descending;
      q.ties = TaskTies::kByDueThenNewest;
      q.limit = kTasks + 10;
      std::vector<Task> tasks = live_;
      std::sort(tasks.begin(), tasks.end(), [&](const Task& a, const Task& b) {
        return before_by_due_then_newest(a, b, sort, descending);
      });
      EXPECT_EQ(ids(q), ids_of(tasks))
          << "sort " << static_cast<int>(sort) << " desc " << descending;
    }
  }
}

TEST_P(TaskPaginationTest, DueDatePositionInsideTheNullGroupContinuesById) {
  for (const bool descending : {false, true}) {
    auto q = query();
    q.sort = TaskSort::kDueDate;
    q.descending = descending;
    q.limit = kTasks;
    const auto whole = expected(q, [](const Task&) { return true; });
    // The first task without due date: the rest of the NULL group follows it.
    const auto first_null = std::find_if(whole.begin(), whole.end(), [&](const std::string& id) {
      return !std::find_if(live_.begin(), live_.end(), [&](const Task& t) {
                return t.id == id;
              })->due_at.has_value();
    });
    ASSERT_NE(first_null, whole.end());
    q.after = TaskPosition{std::monostate{}, *first_null};
    EXPECT_EQ(ids(q), Ids(first_null + 1, whole.end())) << "desc " << descending;
  }
}

class TaskSyncTest : public TaskRepositoryTest {
 protected:
  std::vector<Task> changed(std::int64_t since, int limit = 100, std::string_view owner = kAlice) {
    return read_value(*db_,
                      [&](Transaction& s) { return tasks_.changed_since(s, owner, since, limit); });
  }
  std::int64_t purge(domain::Timestamp before) {
    return write_value(*db_, [&](Transaction& s) { return tasks_.purge_tombstones(s, before); });
  }
  std::int64_t purged_through(std::string_view owner) {
    return read_value(*db_, [&](Transaction& s) { return tasks_.purged_through(s, owner); });
  }
  // Marks the task deleted at `when` with the owner's next change.
  void remove(Task& t, domain::Timestamp when) {
    t.deleted_at = when;
    t.change_seq = ++last_seq_;
    ++t.version;
    update(t);
  }
};

TEST_P(TaskSyncTest, ChangedSinceIsInChangeOrderWithTombstones) {
  auto a = task("a", "a");  // seq 1
  auto b = task("b", "b");  // seq 2
  auto c = task("c", "c");  // seq 3
  insert({a, b, c, task("bobs", "x", kBob) /* seq 4 */});
  a.title = "a2";
  a.change_seq = ++last_seq_;  // 5
  update(a);
  remove(b, at(10));  // seq 6

  const auto all = changed(0);
  EXPECT_EQ(ids_of(all), (Ids{"c", "a", "b"}));
  EXPECT_EQ(all[1].title, "a2");
  EXPECT_EQ(all[2].deleted_at, at(10));
  EXPECT_EQ(ids_of(changed(3)), (Ids{"a", "b"}));
  EXPECT_EQ(ids_of(changed(5)), (Ids{"b"}));
  EXPECT_EQ(ids_of(changed(6)), Ids{});
  EXPECT_EQ(ids_of(changed(0, 2)), (Ids{"c", "a"}));
  EXPECT_EQ(ids_of(changed(0, 0)), Ids{});
  EXPECT_EQ(ids_of(changed(0, 100, kBob)), (Ids{"bobs"}));
}

TEST_P(TaskSyncTest, PurgeDeletesOldTombstonesAndRecordsTheHighestChange) {
  auto a = task("a", "a");
  auto b = task("b", "b");
  auto c = task("c", "c");
  auto d = task("d", "d", kBob);
  auto live = task("live", "live");
  insert({a, b, c, d, live});
  remove(a, at(100));
  remove(b, at(200));
  remove(c, at(300));
  remove(d, at(150));
  EXPECT_EQ(purged_through(kAlice), 0);
  EXPECT_EQ(purged_through(kBob), 0);

  EXPECT_EQ(purge(at(200)), 2);  // a (Alice) and d (Bob); b is not older than 200
  EXPECT_EQ(purged_through(kAlice), a.change_seq);
  EXPECT_EQ(purged_through(kBob), d.change_seq);
  EXPECT_FALSE(find("a", true));
  EXPECT_TRUE(find("b", true));
  EXPECT_TRUE(find("live"));

  EXPECT_EQ(purge(at(200)), 0);
  EXPECT_EQ(purged_through(kAlice), a.change_seq);

  EXPECT_EQ(purge(at(1000)), 2);
  EXPECT_EQ(purged_through(kAlice), c.change_seq);
  EXPECT_EQ(purged_through(kBob), d.change_seq);
  EXPECT_EQ(ids_of(changed(0)), (Ids{"live"}));
  EXPECT_EQ(purged_through("nobody"), 0);
}

TEST_P(TaskSyncTest, PurgedThroughNeverGoesDown) {
  auto late = task("late", "late");
  auto early = task("early", "early");
  insert({late, early});
  remove(early, at(200));
  remove(late, at(100));  // the higher change_seq, yet deleted earlier (a clock stepped back)
  EXPECT_EQ(purge(at(150)), 1);
  EXPECT_EQ(purged_through(kAlice), late.change_seq);
  EXPECT_EQ(purge(at(250)), 1);
  EXPECT_EQ(purged_through(kAlice), late.change_seq);
}

TODO_STORE_TEST_ON_EVERY_BACKEND(TaskRepositoryTest);
TODO_STORE_TEST_ON_EVERY_BACKEND(TaskFilterTest);
TODO_STORE_TEST_ON_EVERY_BACKEND(TaskPaginationTest);
TODO_STORE_TEST_ON_EVERY_BACKEND(TaskSyncTest);

}  // namespace
}  // namespace todo::store

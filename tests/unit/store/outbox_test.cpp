// OutboxRepository against a migrated SQLite file: gapless offsets per partition across
// transactions, rollbacks and concurrent writers; reads; offsets never reused.
#include "store/outbox.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "domain/time_format.h"
#include "store/sqlite/sqlite_database.h"
#include "store_test_support.h"

namespace todo::store {
namespace {

using domain::from_micros;

constexpr std::int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

OutboxMessage message(std::string event_id, int partition = 0, std::string topic = "task-events") {
  OutboxMessage m;
  m.topic = std::move(topic);
  m.partition = partition;
  m.key = "key-of-" + event_id;
  m.payload = R"({"id":")" + event_id + R"("})";
  m.event_id = std::move(event_id);
  return m;
}

std::vector<std::int64_t> offsets_of(const std::vector<LoggedMessage>& messages) {
  std::vector<std::int64_t> out;
  for (const auto& m : messages) out.push_back(m.offset);
  return out;
}

using Offsets = std::vector<std::int64_t>;

// prefix + n, spelled with += because GCC 12 at -O3 reports a false -Wrestrict for "e" + string.
std::string numbered(std::string prefix, std::int64_t n) {
  prefix += std::to_string(n);
  return prefix;
}

class OutboxTest : public testing::BackendTest {
 protected:
  void SetUp() override { db_ = open_database(); }

  std::int64_t append(const OutboxMessage& m) {
    return write_value(*db_, [&](Transaction& s) { return outbox_.append(s, m, from_micros(kT0)); });
  }
  std::vector<LoggedMessage> read(std::string_view topic, int partition, std::int64_t from = 0,
                                  int limit = 1000) {
    return read_value(*db_,
                      [&](Transaction& s) { return outbox_.read(s, topic, partition, from, limit); });
  }
  std::int64_t next_offset(std::string_view topic, int partition) {
    return read_value(*db_, [&](Transaction& s) { return outbox_.next_offset(s, topic, partition); });
  }

  std::unique_ptr<Database> db_;
  OutboxRepository outbox_;
};

TEST_P(OutboxTest, OffsetsAreGaplessPerPartitionAcrossTransactions) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(append(message(numbered("a", i))), i);
  EXPECT_EQ(append(message("p1-0", 1)), 0);  // another partition counts on its own
  EXPECT_EQ(append(message("r-0", 0, "reminders")), 0);
  EXPECT_EQ(append(message("a5")), 5);
  EXPECT_EQ(append(message("p1-1", 1)), 1);
  EXPECT_EQ(offsets_of(read("task-events", 0)), (Offsets{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(offsets_of(read("task-events", 1)), (Offsets{0, 1}));
  EXPECT_EQ(offsets_of(read("reminders", 0)), (Offsets{0}));
}

TEST_P(OutboxTest, AppendsInOneTransactionAreConsecutive) {
  const auto offsets = write_value(*db_, [&](Transaction& s) {
    Offsets out;
    for (int i = 0; i < 4; ++i) {
      out.push_back(outbox_.append(s, message(numbered("e", i)), from_micros(kT0)));
    }
    return out;
  });
  EXPECT_EQ(offsets, (Offsets{0, 1, 2, 3}));
}

TEST_P(OutboxTest, ReadReturnsARangeWithEveryField) {
  db_->write([&](Transaction& s) {
    for (int i = 0; i < 5; ++i) {
      outbox_.append(s, message(numbered("e", i)), from_micros(kT0 + i * 1'000'001));
    }
    outbox_.append(s, message("other", 1), from_micros(kT0));
  });
  const auto range = read("task-events", 0, 2, 2);
  ASSERT_EQ(range.size(), 2U);
  const auto& m = range.front();
  EXPECT_EQ(m.topic, "task-events");
  EXPECT_EQ(m.partition, 0);
  EXPECT_EQ(m.offset, 2);
  EXPECT_EQ(m.key, "key-of-e2");
  EXPECT_EQ(m.event_id, "e2");
  EXPECT_EQ(m.payload, R"({"id":"e2"})");
  EXPECT_EQ(m.created_at, from_micros(kT0 + 2'000'002));
  EXPECT_EQ(m.shipped_at, std::nullopt);
  EXPECT_EQ(range.back().offset, 3);

  EXPECT_EQ(offsets_of(read("task-events", 0, 3)), (Offsets{3, 4}));
  EXPECT_TRUE(read("task-events", 0, 5).empty());
  EXPECT_TRUE(read("task-events", 0, 0, 0).empty());
  EXPECT_TRUE(read("task-events", 2).empty());
  EXPECT_TRUE(read("no-such-topic", 0).empty());
  EXPECT_EQ(read("task-events", 1).front().event_id, "other");
}

TEST_P(OutboxTest, ShippedAtIsRead) {
  append(message("e0"));
  db_->write([&](Transaction& s) { s.execute("UPDATE outbox SET shipped_at = $1", {kT0 + 5}); });
  EXPECT_EQ(read("task-events", 0).front().shipped_at, from_micros(kT0 + 5));
}

// The relays' queries (bus/kafka_relay, bus/dapr_relay): unshipped rows in (topic, partition,
// offset) order, at most so many of each partition, a partition's range marked shipped, and
// retention of shipped rows only.
TEST_P(OutboxTest, TheRelayReadsUnshippedRowsInOrderAndMarksRangesShipped) {
  append(message("b0", 1));
  append(message("a0", 0));
  append(message("b1", 1));
  append(message("d0", 0, "task-events.dlq"));
  append(message("a1", 0));
  auto unshipped = [&](int limit) {
    std::vector<std::string> ids;
    for (const auto& m : read_value(*db_, [&](Transaction& s) { return outbox_.unshipped(s, limit); })) {
      ids.push_back(m.event_id);
    }
    return ids;
  };
  EXPECT_EQ(unshipped(100), (std::vector<std::string>{"a0", "a1", "b0", "b1", "d0"}));
  // The limit is per partition: a partition with a long backlog leaves room for the others.
  EXPECT_EQ(unshipped(1), (std::vector<std::string>{"a0", "b0", "d0"}));
  EXPECT_EQ(unshipped(2), (std::vector<std::string>{"a0", "a1", "b0", "b1", "d0"}));
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) {
              return outbox_.mark_shipped(s, "task-events", 1, 0, 0, from_micros(kT0 + 7));
            }),
            1);
  EXPECT_EQ(unshipped(100), (std::vector<std::string>{"a0", "a1", "b1", "d0"}));
  EXPECT_EQ(read("task-events", 1).front().shipped_at, from_micros(kT0 + 7));
  // Already shipped rows keep their time; the range covers only its partition.
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) {
              return outbox_.mark_shipped(s, "task-events", 1, 0, 1, from_micros(kT0 + 9));
            }),
            1);
  EXPECT_EQ(read("task-events", 1).front().shipped_at, from_micros(kT0 + 7));
  EXPECT_EQ(unshipped(100), (std::vector<std::string>{"a0", "a1", "d0"}));

  // Retention deletes shipped rows created before the cutoff, never unshipped ones.
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) {
              return outbox_.purge_shipped(s, from_micros(kT0 + 1));
            }),
            2);
  EXPECT_EQ(write_value(*db_, [&](Transaction& s) {
              return outbox_.purge_shipped(s, from_micros(kT0 + 1));
            }),
            0);
  EXPECT_EQ(unshipped(100), (std::vector<std::string>{"a0", "a1", "d0"}));
}

TEST_P(OutboxTest, NextOffsetIsWhatTheNextAppendGets) {
  EXPECT_EQ(next_offset("task-events", 0), 0);
  append(message("e0"));
  append(message("e1"));
  EXPECT_EQ(next_offset("task-events", 0), 2);
  EXPECT_EQ(next_offset("task-events", 1), 0);
  EXPECT_EQ(append(message("e2")), 2);
}

TEST_P(OutboxTest, ARolledBackAppendLeavesNoGap) {
  append(message("e0"));
  EXPECT_THROW(db_->write([&](Transaction& s) {
    outbox_.append(s, message("lost"), from_micros(kT0));
    throw std::runtime_error("the task write failed after its event");
  }),
               std::runtime_error);
  EXPECT_EQ(next_offset("task-events", 0), 1);
  EXPECT_EQ(append(message("e1")), 1);
  EXPECT_EQ(offsets_of(read("task-events", 0)), (Offsets{0, 1}));
}

// The commit listeners hear which partitions a commit appended to (what wakes their consumers);
// on PostgreSQL without the LISTEN connection, which would add "anything" for the same commit.
TEST_P(OutboxTest, TheCommitListenersHearEachPartitionAppendedTo) {
  auto options = database_options();
  options.hear_other_processes = false;
  auto db = open_database(options);
  std::vector<LogAppends> heard;  // called on the writer thread before write() returns
  ScopedCommitListener listener(*db, [&](const LogAppends& a) { heard.push_back(a); });
  db->write([&](Transaction& s) {
    outbox_.append(s, message("e0", 2, "reminders"), from_micros(kT0));
    outbox_.append(s, message("e1", 0), from_micros(kT0));
    outbox_.append(s, message("e2", 2, "reminders"), from_micros(kT0));
  });
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_FALSE(heard[0].is_anything());
  ASSERT_EQ(heard[0].partitions().size(), 2u);
  EXPECT_TRUE(heard[0].touches("reminders", 2));
  EXPECT_TRUE(heard[0].touches("task-events", 0));
  EXPECT_FALSE(heard[0].touches("task-events", 2));
}

TEST_P(OutboxTest, OffsetsAreNotReusedAfterOldRowsAreDeleted) {
  for (int i = 0; i < 3; ++i) append(message(numbered("e", i)));
  db_->write([](Transaction& s) { s.execute("DELETE FROM outbox"); });
  EXPECT_TRUE(read("task-events", 0).empty());
  EXPECT_EQ(next_offset("task-events", 0), 3);
  EXPECT_EQ(append(message("e3")), 3);
  EXPECT_EQ(offsets_of(read("task-events", 0)), (Offsets{3}));
}

TEST_P(OutboxTest, EventIdsAreUnique) {
  append(message("e0"));
  EXPECT_THROW(append(message("e0")), ConstraintViolation);
  EXPECT_THROW(append(message("e0", 2, "reminders")), ConstraintViolation);
  // The schema enforces it too, whoever writes.
  EXPECT_THROW(db_->write([](Transaction& s) {
    s.execute(
        "INSERT INTO outbox (topic, \"partition\", \"offset\", key, event_id, payload, "
        "created_at) VALUES ('x', 0, 0, 'k', 'e0', '{}', 0)");
  }),
               ConstraintViolation);
  EXPECT_EQ(next_offset("task-events", 0), 1);
  EXPECT_EQ(next_offset("reminders", 2), 0);
}

TEST_P(OutboxTest, ACaughtDuplicateLeavesNoGap) {
  append(message("e0"));
  const auto offsets = write_value(*db_, [&](Transaction& s) {
    Offsets out;
    out.push_back(outbox_.append(s, message("e1"), from_micros(kT0)));
    EXPECT_THROW(outbox_.append(s, message("e0"), from_micros(kT0)), ConstraintViolation);
    out.push_back(outbox_.append(s, message("e2"), from_micros(kT0)));
    return out;
  });
  EXPECT_EQ(offsets, (Offsets{1, 2}));
  EXPECT_EQ(offsets_of(read("task-events", 0)), (Offsets{0, 1, 2}));
}

// Sixteen threads append through db.write (so appends share group commits), some of their writes
// fail after appending, and every partition still reads back gapless, with each offset belonging
// to the message it was returned for and each thread's offsets rising in its own call order.
TEST_P(OutboxTest, ConcurrentWritersGetGaplessOffsets) {
  constexpr int kThreads = 16;
  constexpr int kWritesPerThread = 30;
  constexpr int kPartitions = 3;
  struct Appended {
    std::string event_id;
    int partition;
    std::int64_t offset;
  };
  std::vector<std::vector<Appended>> appended(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        const auto id = numbered(numbered("t", t) + "-", i);
        const int partition = (t + i) % kPartitions;
        const bool fails = i % 7 == 3;
        try {
          const auto offset = write_value(*db_, [&](Transaction& s) {
            const auto o = outbox_.append(s, message(id, partition), from_micros(kT0));
            if (fails) throw std::runtime_error("rolled back");
            return o;
          });
          appended[static_cast<std::size_t>(t)].push_back({id, partition, offset});
        } catch (const std::runtime_error&) {
          if (!fails) throw;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::map<std::pair<int, std::int64_t>, std::string> expected;  // (partition, offset) -> event
  for (const auto& list : appended) {
    std::map<int, std::int64_t> last;
    for (const auto& a : list) {
      const auto previous = last.find(a.partition);
      if (previous != last.end()) {
        EXPECT_GT(a.offset, previous->second);
      }
      last[a.partition] = a.offset;
      EXPECT_TRUE(expected.emplace(std::pair(a.partition, a.offset), a.event_id).second)
          << "offset " << a.offset << " of partition " << a.partition << " given twice";
    }
  }
  std::size_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const auto messages = read("task-events", p);
    total += messages.size();
    for (std::size_t i = 0; i < messages.size(); ++i) {
      EXPECT_EQ(messages[i].offset, static_cast<std::int64_t>(i)) << "partition " << p;
      EXPECT_EQ(expected[std::pair(p, messages[i].offset)], messages[i].event_id);
    }
    EXPECT_EQ(next_offset("task-events", p), static_cast<std::int64_t>(messages.size()));
  }
  EXPECT_EQ(total, expected.size());
  EXPECT_EQ(total,
            static_cast<std::size_t>(kThreads * (kWritesPerThread - 4)));  // i = 3, 10, 17, 24 fail
}

TODO_STORE_TEST_ON_EVERY_BACKEND(OutboxTest);

// SQLite compiles a statement again when a value is bound to a parameter its plan depends on; the
// log's reads bind a new topic and offset on every call, so none of their parameters may be such
// a one. (The predicate of the partial index outbox_user_changes, topic = 'task-updates', made
// the topic one until the connections enabled the query planner stability guarantee.)
class OutboxSqliteTest : public OutboxTest {};

TEST_P(OutboxSqliteTest, ReadingTheLogNeverCompilesItsStatementsAgain) {
  for (const char* topic : {"task-events", "task-updates", "reminders"}) {
    for (int partition = 0; partition < 2; ++partition) append(message(std::string(topic) + std::to_string(partition), partition, topic));
  }
  const auto before = sqlite_stats(*db_)->reprepared;
  for (int round = 0; round < 5; ++round) {
    for (const char* topic : {"task-events", "task-updates", "reminders"}) {
      for (int partition = 0; partition < 2; ++partition) {
        EXPECT_EQ(read(topic, partition, round % 2).size(), round % 2 == 0 ? 1u : 0u);
        // The same read inside a write (the writer's connection), and the relays' read.
        write_value(*db_, [&](Transaction& s) { return outbox_.read(s, topic, partition, 0, 10); });
      }
    }
    EXPECT_EQ(read_value(*db_, [&](Transaction& s) { return outbox_.unshipped(s, 10); }).size(),
              6u);
  }
  EXPECT_EQ(sqlite_stats(*db_)->reprepared, before);
}

TODO_STORE_TEST_ON_SQLITE(OutboxSqliteTest);

}  // namespace
}  // namespace todo::store

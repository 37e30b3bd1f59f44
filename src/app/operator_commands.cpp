// `todo events`, `todo dlq list|replay` and `todo admin set-role`: short-lived processes next to
// the server, over the same database (the SQLite file, or PostgreSQL at --database-url). `events`
// only reads; it never commits a group's offsets.
#include "app/operator_commands.h"

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bus/consumer_runtime.h"
#include "domain/clock.h"
#include "domain/time_format.h"
#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/open_database.h"
#include "store/outbox.h"
#include "store/user_repository.h"

namespace todo::app {
namespace {

namespace json = boost::json;

constexpr int kPageSize = 500;  // log rows read at once per partition
constexpr auto kFollowPollInterval = std::chrono::milliseconds(200);

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_stop_signal(int) { stop_requested = 1; }

int fail(const std::string& message) {
  std::cerr << "todo: " << message << "\n";
  return 1;
}

std::filesystem::path database_path(const Config& config) { return config.data_dir / "todo.db"; }

// The database `serve` uses with the same flags: PostgreSQL at --database-url (DATABASE_URL),
// else the SQLite file in --data-dir. Pending migrations are applied, as the server would.
// nullptr when that SQLite file does not exist: an operator who mistyped --data-dir must not get
// a new, empty database (and an empty answer) instead of an error. A PostgreSQL server that
// cannot be reached, or a database that does not exist, is an error from open_database.
// Only `todo events --follow` waits for other processes' appends (on PostgreSQL, through a LISTEN
// connection); the other commands open none.
std::unique_ptr<store::Database> open_existing(const Config& config, bool hear_appends = false) {
  store::DatabaseOptions options;
  options.reader_connections = 1;
  options.hear_other_processes = hear_appends;
  if (!config.database_url.empty()) {
    options.dialect = store::Dialect::kPostgres;
    options.url = config.database_url;
    return store::open_database(options);
  }
  const auto path = database_path(config);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
  options.path = path;
  return store::open_database(options);
}

std::string no_database(const Config& config) {
  return "no database at " + database_path(config).string() +
         " (is --data-dir right? `todo serve` or `todo migrate` creates it; for PostgreSQL give "
         "--database-url)";
}

// The stored CloudEvent as a JSON value; the text itself as a string in the unexpected case that
// it does not parse, so nothing is hidden from the operator.
json::value event_value(const std::string& payload) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec) return json::value(payload);
  return v;
}

// ---------------------------------------------------------------------------------------------
// events

// The merged order of a topic's partitions: append time, then partition, then offset.
bool earlier(const store::LoggedMessage& a, const store::LoggedMessage& b) {
  return std::tie(a.created_at, a.partition, a.offset) <
         std::tie(b.created_at, b.partition, b.offset);
}

// Reads one topic's partitions from given offsets and hands out the messages merged by
// (created_at, partition, offset), always in offset order within a partition, a page at a time.
class TopicReader {
 public:
  TopicReader(store::Database& db, std::string topic, std::map<int, std::int64_t> start)
      : db_(db), topic_(std::move(topic)) {
    for (const auto& [partition, offset] : start) cursors_[partition].next = offset;
  }

  // Emits every message below `ends` (partition -> offset) not emitted yet. A partition not seen
  // before starts at its beginning: all of it is new.
  void drain(const std::map<int, std::int64_t>& ends,
             const std::function<void(const store::LoggedMessage&)>& emit) {
    for (const auto& [partition, end] : ends) cursors_[partition].end = end;
    for (;;) {
      refill();
      Cursor* first = nullptr;
      for (auto& [_, cursor] : cursors_) {
        if (cursor.buffered.empty()) continue;
        if (!first || earlier(cursor.buffered.front(), first->buffered.front())) {
          first = &cursor;
        }
      }
      if (!first) return;
      emit(first->buffered.front());
      first->buffered.pop_front();
    }
  }

 private:
  struct Cursor {
    std::int64_t next = 0;  // the next offset to read
    std::int64_t end = 0;   // read below this
    std::deque<store::LoggedMessage> buffered;
  };

  // Reads the next page of every partition whose buffer ran dry, in one read transaction.
  void refill() {
    bool needed = false;
    for (const auto& [_, c] : cursors_) needed = needed || (c.buffered.empty() && c.next < c.end);
    if (!needed) return;
    db_.read([&](store::Transaction& s) {
      for (auto& [partition, c] : cursors_) {
        if (!c.buffered.empty() || c.next >= c.end) continue;
        for (auto& m : outbox_.read(s, topic_, partition, c.next, kPageSize)) {
          if (m.offset >= c.end) break;
          c.buffered.push_back(std::move(m));
        }
        // Nothing left below `end` (retention may have removed rows): the partition is done.
        c.next = c.buffered.empty() ? c.end : c.buffered.back().offset + 1;
      }
    });
  }

  store::Database& db_;
  std::string topic_;
  store::OutboxRepository outbox_;
  std::map<int, Cursor> cursors_;
};

void print_event(const store::LoggedMessage& m, bool envelope) {
  if (!envelope) {
    std::cout << m.payload << '\n';
    return;
  }
  json::object o;
  o["topic"] = m.topic;
  o["partition"] = m.partition;
  o["offset"] = m.offset;
  o["key"] = m.key;
  o["timestamp"] = domain::format_rfc3339(m.created_at);
  o["event"] = event_value(m.payload);
  std::cout << json::serialize(o) << '\n';
}

std::map<int, std::int64_t> read_heads(store::Database& db, const std::string& topic) {
  return store::read_value(
      db, [&](store::Transaction& s) { return store::OutboxRepository().heads(s, topic); });
}

// Where reading starts in each existing partition: the oldest kept offset, the group's committed
// offsets (0 where it never committed), or the end.
std::map<int, std::int64_t> start_offsets(store::Database& db, const Config& config) {
  return store::read_value(db, [&](store::Transaction& s) {
    auto heads = store::OutboxRepository().heads(s, config.topic);
    std::map<int, std::int64_t> committed;
    if (config.group && !config.from_beginning) {
      committed = store::ConsumerOffsetRepository().committed(s, *config.group, config.topic);
    }
    std::map<int, std::int64_t> start;
    for (const auto& [partition, head] : heads) {
      if (config.from_beginning) {
        start[partition] = 0;
      } else if (config.group) {
        auto it = committed.find(partition);
        start[partition] = it == committed.end() ? 0 : it->second;
      } else {
        start[partition] = head;
      }
    }
    return start;
  });
}

// ---------------------------------------------------------------------------------------------
// dead letters

std::string dead_letters_marked(std::int64_t count) {
  if (count == 0) return "no dead letter is in status dead; nothing marked for replay";
  return "marked " + std::to_string(count) + (count == 1 ? " dead letter" : " dead letters") +
         " for replay; the running server redelivers " + (count == 1 ? "it" : "them") + " to " +
         (count == 1 ? "its group" : "their groups");
}

}  // namespace

int run_events(const Config& config) {
  auto db = open_existing(config, config.follow);
  if (!db) return fail(no_database(config));
  if (config.follow) {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
  }
  TopicReader reader(*db, config.topic, start_offsets(*db, config));
  const auto emit = [&](const store::LoggedMessage& m) { print_event(m, config.envelope); };
  // The end is fixed before reading, so without --follow the output is the log as it was then.
  reader.drain(read_heads(*db, config.topic), emit);
  std::cout.flush();
  // On stderr, so a person (or a script) knows everything that existed has been printed.
  if (config.follow) log::info("following", {{"topic", config.topic}});
  // Woken by a commit that appended to the topic: on PostgreSQL, by every append of the other
  // processes (heard as "anything": a notification names no partition); on SQLite, which hears
  // only its own process's commits, and between wake-ups, the poll finds new events (and the stop
  // signal).
  std::mutex mutex;
  std::condition_variable appended;
  bool woken = false;
  std::optional<store::ScopedCommitListener> listener;
  if (config.follow) {
    listener.emplace(*db, [&](const store::LogAppends& appends) {
      if (!appends.touches(config.topic)) return;
      {
        std::lock_guard lock(mutex);
        woken = true;
      }
      appended.notify_one();
    });
  }
  while (config.follow && !stop_requested) {
    {
      std::unique_lock lock(mutex);
      appended.wait_for(lock, kFollowPollInterval, [&] { return woken; });
      woken = false;
    }
    if (stop_requested) break;
    reader.drain(read_heads(*db, config.topic), emit);
    std::cout.flush();
  }
  return 0;
}

int run_dlq_list(const Config& config) {
  auto db = open_existing(config);
  if (!db) return fail(no_database(config));
  auto letters = store::read_value(*db, [&](store::Transaction& s) {
    return store::DeadLetterRepository().list(
        s, config.group ? std::optional<std::string_view>(*config.group) : std::nullopt);
  });
  for (const auto& letter : letters) std::cout << bus::dead_letter_json(letter) << '\n';
  std::cout.flush();
  return 0;
}

int run_dlq_replay(const Config& config) {
  auto db = open_existing(config);
  if (!db) return fail(no_database(config));
  const store::DeadLetterRepository letters;
  const auto now = domain::SystemClock().now();
  std::optional<std::string> refusal;
  std::int64_t marked = 0;
  std::string group;
  db->write([&](store::Transaction& s) {  // may run more than once (PostgreSQL)
    refusal.reset();
    marked = 0;
    if (config.all) {
      marked = letters.request_replay(s, "", now);
      return;
    }
    const std::string& id = *config.dead_letter_id;
    auto letter = letters.find(s, id);
    if (!letter) {
      refusal = "no dead letter with id " + id;
    } else if (letter->status != store::DeadLetterStatus::kDead) {
      refusal = "dead letter " + id + " has status " +
                std::string(store::to_string(letter->status)) +
                "; only a dead letter in status dead can be marked for replay";
    } else {
      marked = letters.request_replay(s, id, now);
      group = letter->group;
    }
  });
  if (refusal) return fail(*refusal);
  if (config.all) {
    std::cout << dead_letters_marked(marked) << "\n";
  } else {
    std::cout << "marked dead letter " << *config.dead_letter_id
              << " for replay; the running server redelivers it to group " << group << "\n";
  }
  return 0;
}

int run_admin_set_role(const Config& config) {
  auto db = open_existing(config);
  if (!db) return fail(no_database(config));
  const store::UserRepository users;
  const domain::Role role = *config.role;
  bool found = false;
  bool changed = false;
  db->write([&](store::Transaction& s) {
    auto user = users.find_by_email(s, config.email);
    if (!user) return;
    found = true;
    if (user->role == role) return;
    users.set_role(s, user->id, role);
    changed = true;
  });
  if (!found) return fail("no user with e-mail " + config.email);
  std::cout << config.email << (changed ? " is now " : " is already ") << domain::to_string(role)
            << "\n";
  return 0;
}

}  // namespace todo::app

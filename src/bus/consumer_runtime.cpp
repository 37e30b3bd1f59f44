// Delivery with exactly-once effect: per event a savepoint holding the handler's writes and the
// dedupe row; per batch one offset commit, all in the same transaction.
#include "bus/consumer_runtime.h"

#include "domain/ids.h"
#include "domain/time_format.h"
#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"

#include <boost/json.hpp>

#include <exception>

namespace todo::bus {
namespace {

constexpr int kMaxFailures = static_cast<int>(std::size(kRetryBackoff)) + 1;  // 1 try + 3 retries

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Runs the handler unless the group already processed the event, and records the dedupe row, in
// a savepoint that is rolled back (and the exception rethrown) when the handler fails.
void handle_once(store::Transaction& tx, const Subscription& subscription, const Event& event,
                 domain::Timestamp now) {
  static const store::ProcessedEventRepository processed;
  tx.savepoint([&] {
    if (processed.contains(tx, subscription.group, event.id)) return;
    subscription.handler(event, tx);
    processed.record(tx, subscription.group, event.id, now);
  });
}

Event event_of(const store::DeadLetter& d) {
  return Event{d.topic, d.partition, d.offset, d.key, d.event_id, d.payload, d.failed_at};
}

}  // namespace

PartitionConsumer::PartitionConsumer(store::Database& db, const domain::Clock& clock,
                                     domain::RandomSource& random,
                                     const Subscription& subscription, int partition,
                                     std::int64_t next_offset)
    : db_(db),
      clock_(clock),
      random_(random),
      subscription_(subscription),
      partition_(partition),
      next_offset_(next_offset) {}

int PartitionConsumer::deliver(std::span<const Event> events) {
  if (events.empty()) return 0;
  const auto now = clock_.now();
  std::size_t consumed = 0;
  std::optional<std::string> failure;
  bool dead_lettered = false;
  int prior_failures = 0;
  try {
    db_.write([&](store::Transaction& tx) {
      consumed = 0;
      failure.reset();
      dead_lettered = false;
      for (const Event& event : events) {
        try {
          handle_once(tx, subscription_, event, now);
          ++consumed;
        } catch (...) {
          failure = describe_current_exception();
          prior_failures = event.offset == failing_offset_ ? failures_ : 0;
          if (prior_failures + 1 < kMaxFailures) break;  // retried later; nothing after it yet
          dead_letter(tx, event, *failure, prior_failures + 1);
          dead_lettered = true;
          failure.reset();
          ++consumed;  // the partition moves on past it
        }
      }
      if (consumed > 0) {
        store::ConsumerOffsetRepository{}.commit(tx, subscription_.group, subscription_.topic,
                                                 partition_, events[consumed - 1].offset + 1, now);
      }
    });
  } catch (...) {
    // The transaction itself failed (commit, savepoint, or a handler that broke it): nothing was
    // kept. Count it against the first event so a deterministic failure still ends in the DLQ.
    const auto error = "the consumer transaction failed: " + describe_current_exception();
    record_failure(events.front(), error,
                   events.front().offset == failing_offset_ ? failures_ : 0);
    return 0;
  }

  if (consumed > 0) next_offset_ = events[consumed - 1].offset + 1;
  counters_.handled += static_cast<std::int64_t>(consumed) - (dead_lettered ? 1 : 0);
  if (dead_lettered) ++counters_.dead_lettered;  // at most one: only one offset can be failing
  if (failure) {
    record_failure(events[consumed], *failure, prior_failures);
  } else {
    failing_offset_ = -1;
    failures_ = 0;
    retry_at_.reset();
  }
  return static_cast<int>(consumed);
}

void PartitionConsumer::record_failure(const Event& event, const std::string& error,
                                       int prior_failures) {
  if (prior_failures >= static_cast<int>(std::size(kRetryBackoff))) {
    // Only reachable when the dead-lettering transaction itself failed: keep trying it slowly.
    prior_failures = static_cast<int>(std::size(kRetryBackoff)) - 1;
  }
  failing_offset_ = event.offset;
  failures_ = prior_failures + 1;
  const auto wait = kRetryBackoff[prior_failures];
  retry_at_ = clock_.now() + wait;
  ++counters_.retried;
  log::warn("event handling failed; will retry",
            {{"group", subscription_.group},
             {"topic", event.topic},
             {"partition", event.partition},
             {"offset", event.offset},
             {"event_id", event.id},
             {"attempt", failures_},
             {"retry_in_s", static_cast<std::int64_t>(wait.count())},
             {"error", error}});
}

void PartitionConsumer::dead_letter(store::Transaction& tx, const Event& event,
                                    const std::string& error, int attempts) {
  const auto now = clock_.now();
  store::DeadLetter d;
  d.id = domain::new_uuid_v7(now, random_);
  d.group = subscription_.group;
  d.topic = event.topic;
  d.partition = event.partition;
  d.offset = event.offset;
  d.key = event.key;
  d.event_id = event.id;
  d.payload = event.payload;
  d.error = error;
  d.attempts = attempts;
  d.failed_at = now;
  store::DeadLetterRepository{}.insert(tx, d);
  store::OutboxRepository{}.append(
      tx, {dead_letter_topic(event.topic), 0, event.key, d.id, dead_letter_json(d)}, now);
  log::error("event dead-lettered after its last retry",
             {{"group", subscription_.group},
              {"topic", event.topic},
              {"partition", event.partition},
              {"offset", event.offset},
              {"event_id", event.id},
              {"dead_letter_id", d.id},
              {"attempts", attempts},
              {"error", error}});
}

std::string dead_letter_json(const store::DeadLetter& d) {
  boost::json::object o;
  o["id"] = d.id;
  o["group"] = d.group;
  o["topic"] = d.topic;
  o["partition"] = d.partition;
  o["offset"] = d.offset;
  o["key"] = d.key;
  o["event_id"] = d.event_id;
  o["error"] = d.error;
  o["attempts"] = d.attempts;
  o["failed_at"] = domain::format_rfc3339(d.failed_at);
  o["status"] = store::to_string(d.status);
  if (d.replay_requested_at) {
    o["replay_requested_at"] = domain::format_rfc3339(*d.replay_requested_at);
  }
  if (d.replayed_at) o["replayed_at"] = domain::format_rfc3339(*d.replayed_at);
  boost::system::error_code ec;
  auto event = boost::json::parse(d.payload, ec);
  if (ec) {
    o["event"] = d.payload;  // not JSON: kept as text, byte for byte
  } else {
    o["event"] = std::move(event);
  }
  return boost::json::serialize(o);
}

int replay_dead_letters(store::Database& db, const domain::Clock& clock,
                        const Subscription& subscription) {
  const store::DeadLetterRepository letters;
  auto requested = store::read_value(
      db, [&](store::Transaction& s) { return letters.replays_requested(s, subscription.group); });
  int attempted = 0;
  for (const auto& d : requested) {
    if (d.topic != subscription.topic) continue;
    ++attempted;
    std::optional<std::string> failure;
    db.write([&](store::Transaction& tx) {
      const auto now = clock.now();
      try {
        handle_once(tx, subscription, event_of(d), now);
        letters.mark_replayed(tx, d.id, now);
      } catch (...) {
        failure = describe_current_exception();
        letters.mark_failed_again(tx, d.id, *failure, now);
      }
    });
    if (failure) {
      log::error("dead letter replay failed again",
                 {{"group", d.group}, {"dead_letter_id", d.id}, {"error", *failure}});
    } else {
      log::info("dead letter replayed", {{"group", d.group}, {"dead_letter_id", d.id}});
    }
  }
  return attempted;
}

}  // namespace todo::bus

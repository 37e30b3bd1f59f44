// Delivery with exactly-once effect: the handler's writes and the dedupe row (on buses that keep
// them) of each event, and per batch one offset commit, all in the same transaction; a savepoint
// per event once a handler of the batch failed. Attempts are written down only off the steady
// path: after a failure, and around events a restart finds possibly in flight.
#include "bus/consumer_runtime.h"

#include "bus/json_check.h"

#include <algorithm>
#include <boost/json.hpp>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "domain/ids.h"
#include "domain/time_format.h"
#include "log/log.h"
#include "store/consumer_repository.h"
#include "store/outbox.h"

namespace todo::bus {
namespace {

constexpr std::string_view kDiedWhileReplaying =
    "the consumer process stopped while replaying this dead letter (killed or crashed)";
constexpr std::string_view kDiedWhileHandling =
    "the consumer process stopped while handling this event (killed or crashed) in its last "
    "attempts";

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Every event is a structured-mode CloudEvent: a payload that is not even a JSON object can never
// be handled, so it is not retried.
void require_json_object(const Event& event) {
  if (auto problem = json_object_problem(event.payload)) throw PermanentFailure(*problem);
}

// Records the dedupe row (when the bus keeps them) and runs the handler, unless the group already
// processed the event (the row was there): then it returns false and the handler does not run.
bool run_handler(store::Transaction& tx, const Subscription& subscription, const Event& event,
                 Prepared& prepared, domain::Timestamp now, bool dedupe_rows) {
  static const store::ProcessedEventRepository processed;
  if (dedupe_rows && !processed.record(tx, subscription.group, event.id, now)) return false;
  if (prepared.error) std::rethrow_exception(prepared.error);
  if (subscription.apply) {
    subscription.apply(event, prepared.value, tx);
  } else {
    subscription.handler(event, tx);
  }
  return true;
}

// run_handler() in a savepoint that is rolled back (and the exception rethrown) when it fails.
bool handle_once(store::Transaction& tx, const Subscription& subscription, const Event& event,
                 Prepared& prepared, domain::Timestamp now, bool dedupe_rows) {
  bool ran = false;
  tx.savepoint([&] { ran = run_handler(tx, subscription, event, prepared, now, dedupe_rows); });
  return ran;
}

// Thrown out of the fast path's write when an event's handler failed: that write is rolled back
// whole (the writes of the events before it too), and the batch runs again with a savepoint per
// event, which keeps the events before the failure and handles the failure itself.
class HandlerFailedWithoutSavepoint : public std::runtime_error {
 public:
  HandlerFailedWithoutSavepoint() : std::runtime_error("an event's handler failed (fast path)") {}
};

// run_handler() straight in the batch's transaction, without a savepoint. Any failure of the
// event's (the handler's, PermanentFailure included) throws HandlerFailedWithoutSavepoint; an
// unreachable database stays DatabaseUnavailable.
void handle_without_savepoint(store::Transaction& tx, const Subscription& subscription,
                              const Event& event, Prepared& prepared, domain::Timestamp now,
                              bool dedupe_rows) {
  try {
    run_handler(tx, subscription, event, prepared, now, dedupe_rows);
  } catch (const store::DatabaseUnavailable&) {
    throw;
  } catch (...) {
    throw HandlerFailedWithoutSavepoint();
  }
}

// Writes the dead letter and its <topic>.dlq message in `tx` (the consumer's transaction).
void write_dead_letter(store::Transaction& tx, const RuntimeContext& context,
                       const Subscription& subscription, const Event& event,
                       const std::string& error, int attempts, bool permanent) {
  const auto now = context.clock.now();
  store::DeadLetter d;
  d.id = domain::new_uuid_v7(now, context.random);
  d.group = subscription.group;
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
  log::error("event dead-lettered",
             {{"reason", permanent ? "permanent failure" : "last attempt failed"},
              {"group", subscription.group},
              {"topic", event.topic},
              {"partition", event.partition},
              {"offset", event.offset},
              {"event_id", event.id},
              {"dead_letter_id", d.id},
              {"attempts", attempts},
              {"error", error}});
}

std::vector<Prepared> prepare_all(const Subscription& subscription, std::span<const Event> events) {
  std::vector<Prepared> out(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) out[i] = prepare(subscription, events[i]);
  return out;
}

Event event_of(const store::DeadLetter& d) {
  return Event{d.topic, d.partition, d.offset, d.key, d.event_id, d.payload, d.failed_at};
}

}  // namespace

int partitions_of(const std::map<std::string, int, std::less<>>& partitions,
                  const std::string& topic, std::string_view bus) {
  auto found = partitions.find(topic);
  if (found == partitions.end() || found->second < 1) {
    throw std::invalid_argument(std::string(bus) + ": unknown topic " + topic);
  }
  return found->second;
}

Prepared prepare(const Subscription& subscription, const Event& event) {
  Prepared out;
  try {
    require_json_object(event);
    if (subscription.prepare) out.value = subscription.prepare(event);
  } catch (...) {
    out.error = std::current_exception();
  }
  return out;
}

PartitionConsumer::PartitionConsumer(const RuntimeContext& context,
                                     const Subscription& subscription, int partition,
                                     const PartitionStart& start)
    : context_(context),
      subscription_(subscription),
      partition_(partition),
      next_offset_(start.committed),
      in_flight_end_(start.in_flight_end),
      attempts_recorded_(start.attempts.has_value()) {
  if (start.attempts && start.attempts->offset == start.committed) {
    failing_offset_ = start.committed;
    failures_ = start.attempts->attempts;
    log::warn("an earlier process did not finish this event; counting its attempts",
              {{"group", subscription_.group},
               {"topic", subscription_.topic},
               {"partition", partition_},
               {"offset", failing_offset_},
               {"attempts", failures_},
               {"max_attempts", context_.retry.max_attempts()}});
  }
}

int PartitionConsumer::deliver(std::span<const Event> events) {
  int consumed = 0;
  while (!events.empty() && recording_attempts()) {
    if (deliver_recorded(events.front()) == 0) return consumed;  // failed: wait for the retry
    ++consumed;
    events = events.subspan(1);
  }
  if (!events.empty()) consumed += deliver_batch(events);
  return consumed;
}

// The steady path: no write besides the handler's, the dedupe rows and one offset commit. First
// without a savepoint per event (each costs the writer thread two statements and the pager's
// bookkeeping); when a handler fails, that write is rolled back and the batch runs again with one
// savepoint per event, as the failure path needs.
int PartitionConsumer::deliver_batch(std::span<const Event> events) {
  std::size_t consumed = 0;
  std::int64_t dead = 0;
  std::optional<std::string> failure;
  auto prepared = prepare_all(subscription_, events);  // before the transaction, off the writer
  // A retry of a failed event is expected to fail again: straight to the savepoints then.
  bool per_event_savepoints = failing_offset_ == events.front().offset;
  try {
    for (;;) {
      try {
        context_.db.write([&](store::Transaction& tx) {
          consumed = 0;
          dead = 0;
          failure.reset();
          const auto now = context_.clock.now();
          for (std::size_t i = 0; i < events.size(); ++i) {
            const Event& event = events[i];
            if (!per_event_savepoints) {
              handle_without_savepoint(tx, subscription_, event, prepared[i], now,
                                       context_.dedupe_rows);
              ++consumed;
              continue;
            }
            bool dead_lettered = false;
            if (!attempt(tx, event, prepared[i], prior_failures(event) + 1, failure,
                         dead_lettered)) {
              break;
            }
            if (dead_lettered) ++dead;
            ++consumed;
          }
          if (consumed > 0) commit(tx, events[consumed - 1].offset + 1);
        });
      } catch (const HandlerFailedWithoutSavepoint&) {
        per_event_savepoints = true;
        continue;
      }
      break;
    }
  } catch (const store::DatabaseUnavailable& e) {
    database_unavailable(e);
    return 0;
  } catch (const store::OffsetMoved& e) {
    offset_moved(e);
    return 0;
  } catch (...) {
    // The transaction itself failed (commit, savepoint, or a handler that broke it): nothing was
    // kept. Count it against the first event so a deterministic failure still ends in the DLQ.
    const int failures = prior_failures(events.front()) + 1;
    record_failure(events.front(),
                   "the consumer transaction failed: " + describe_current_exception(), failures);
    persist_attempts(events.front(), failures);
    return 0;
  }
  if (consumed > 0) finished_through(events[consumed - 1].offset + 1);
  counters_.handled += static_cast<std::int64_t>(consumed) - dead;
  counters_.dead_lettered += dead;
  if (failure) {
    const Event& failed = events[consumed];
    const int failures = prior_failures(failed) + 1;
    record_failure(failed, *failure, failures);
    persist_attempts(failed, failures);  // the failure path only: the count survives a restart
  }
  return static_cast<int>(consumed);
}

// One event whose attempt is recorded before the handler runs, in its own transaction: if the
// process dies inside the handler, the next process knows, and after the last attempt it
// dead-letters the event without running the handler again.
int PartitionConsumer::deliver_recorded(const Event& event) {
  const int prior = prior_failures(event);
  if (prior >= context_.retry.max_attempts()) {
    try {
      context_.db.write([&](store::Transaction& tx) {
        dead_letter(tx, event, last_error_.value_or(std::string(kDiedWhileHandling)), prior,
                    /*permanent=*/false);
        commit(tx, event.offset + 1);
      });
    } catch (const store::OffsetMoved& e) {
      offset_moved(e);
      return 0;
    } catch (const std::exception& e) {
      log::error("cannot dead-letter an event; trying again later", {{"group", subscription_.group},
                                                                     {"topic", event.topic},
                                                                     {"partition", event.partition},
                                                                     {"offset", event.offset},
                                                                     {"error", e.what()}});
      retry_at_ = context_.monotonic.now() + std::chrono::seconds(1);
      return 0;
    }
    attempts_recorded_ = false;
    finished_through(event.offset + 1);
    ++counters_.dead_lettered;
    return 1;
  }

  const int number = prior + 1;
  try {
    record_attempts(event, number);
  } catch (const std::exception& e) {
    // Not an attempt: the handler did not run. Wait as after a first failure.
    log::error("cannot record a delivery attempt; trying again later",
               {{"group", subscription_.group},
                {"topic", event.topic},
                {"partition", event.partition},
                {"offset", event.offset},
                {"error", e.what()}});
    retry_at_ = context_.monotonic.now() + std::chrono::seconds(1);
    return 0;
  }

  std::optional<std::string> failure;
  bool dead_lettered = false;
  auto prepared = prepare(subscription_, event);
  try {
    context_.db.write([&](store::Transaction& tx) {
      failure.reset();
      dead_lettered = false;
      if (attempt(tx, event, prepared, number, failure, dead_lettered)) {
        commit(tx, event.offset + 1);
      }
    });
  } catch (const store::DatabaseUnavailable& e) {
    database_unavailable(e);  // the same attempt number is recorded again next time
    return 0;
  } catch (const store::OffsetMoved& e) {
    offset_moved(e);
    return 0;
  } catch (...) {
    record_failure(event, "the consumer transaction failed: " + describe_current_exception(),
                   number);
    return 0;
  }
  if (failure) {
    record_failure(event, *failure, number);  // already recorded as attempt `number`
    return 0;
  }
  attempts_recorded_ = false;
  finished_through(event.offset + 1);
  if (dead_lettered) {
    ++counters_.dead_lettered;
  } else {
    ++counters_.handled;
  }
  return 1;
}

bool PartitionConsumer::attempt(store::Transaction& tx, const Event& event, Prepared& prepared,
                                int attempt_number, std::optional<std::string>& failure,
                                bool& dead_lettered) {
  try {
    handle_once(tx, subscription_, event, prepared, context_.clock.now(), context_.dedupe_rows);
    return true;
  } catch (const PermanentFailure& e) {
    dead_letter(tx, event, e.what(), attempt_number, /*permanent=*/true);
    dead_lettered = true;
    return true;
  } catch (const store::DatabaseUnavailable&) {
    throw;  // not the event's failure: the transaction is lost, see database_unavailable()
  } catch (...) {
    const auto error = describe_current_exception();
    if (attempt_number < context_.retry.max_attempts()) {
      failure = error;
      return false;  // retried later; nothing after it on this partition yet
    }
    dead_letter(tx, event, error, attempt_number, /*permanent=*/false);
    dead_lettered = true;
    return true;  // the partition moves on past it
  }
}

void PartitionConsumer::commit(store::Transaction& tx, std::int64_t next_offset) {
  const store::ConsumerOffsetRepository offsets;
  if (context_.dedupe_rows) {
    offsets.commit(tx, subscription_.group, subscription_.topic, partition_, next_offset,
                   context_.clock.now());
  } else {
    offsets.advance(tx, subscription_.group, subscription_.topic, partition_, next_offset_,
                    next_offset, context_.clock.now());
  }
  if (attempts_recorded_) {
    store::DeliveryAttemptRepository{}.clear(tx, subscription_.group, subscription_.topic,
                                             partition_);
  }
}

void PartitionConsumer::finished_through(std::int64_t next_offset) {
  next_offset_ = next_offset;
  if (failing_offset_ < next_offset_) forget_failure();
}

void PartitionConsumer::forget_failure() {
  failing_offset_ = -1;
  failures_ = 0;
  last_error_.reset();
  retry_at_.reset();
}

// Nothing of the transaction was kept. The partition is read again from its stored offset, ahead
// (another process consumed it while this one's lease had lapsed) or behind (an operator moved it
// back: those events are delivered again, which is what moving an offset back asks for).
void PartitionConsumer::offset_moved(const store::OffsetMoved& e) {
  std::int64_t stored = 0;
  try {
    context_.db.read([&](store::Transaction& s) {
      const auto committed =
          store::ConsumerOffsetRepository{}.committed(s, subscription_.group, subscription_.topic);
      if (auto found = committed.find(partition_); found != committed.end()) stored = found->second;
    });
  } catch (const std::exception& read_error) {
    log::warn("cannot read the moved offset; trying again shortly",
              {{"group", subscription_.group}, {"error", read_error.what()}});
    retry_at_ = context_.monotonic.now() + kUnavailableRetry;
    return;
  }
  log::warn("the partition's offset moved under this consumer; going on from the stored offset",
            {{"group", subscription_.group},
             {"topic", subscription_.topic},
             {"partition", partition_},
             {"expected", next_offset_},
             {"stored", stored},
             {"error", e.what()}});
  next_offset_ = stored;
  in_flight_end_ = 0;
  forget_failure();
}

// The database cannot be reached (PostgreSQL down or restarting): no attempt of the event's, so
// an outage never walks an event to the dead-letter queue. Tried again shortly.
void PartitionConsumer::database_unavailable(const store::DatabaseUnavailable& e) {
  retry_at_ = context_.monotonic.now() + kUnavailableRetry;
  log::warn("the database is unreachable; trying again shortly", {{"group", subscription_.group},
                                                                  {"topic", subscription_.topic},
                                                                  {"partition", partition_},
                                                                  {"offset", next_offset_},
                                                                  {"error", e.what()}});
}

void PartitionConsumer::record_failure(const Event& event, const std::string& error, int failures) {
  const auto& backoff = context_.retry.backoff;
  // Past the schedule only when dead-lettering itself failed: keep trying at the last wait.
  const auto wait = backoff.empty()
                        ? std::chrono::milliseconds(std::chrono::seconds(1))
                        : backoff[std::min<std::size_t>(static_cast<std::size_t>(failures - 1),
                                                        backoff.size() - 1)];
  failing_offset_ = event.offset;
  failures_ = failures;
  last_error_ = error;
  retry_at_ = context_.monotonic.now() + wait;
  ++counters_.retried;
  log::warn("event handling failed; will retry",
            {{"group", subscription_.group},
             {"topic", event.topic},
             {"partition", event.partition},
             {"offset", event.offset},
             {"event_id", event.id},
             {"attempt", failures_},
             {"retry_in_ms", static_cast<std::int64_t>(wait.count())},
             {"error", error}});
}

void PartitionConsumer::record_attempts(const Event& event, int attempts) {
  context_.db.write([&](store::Transaction& tx) {
    store::DeliveryAttemptRepository{}.record(tx, subscription_.group, subscription_.topic,
                                              partition_, {event.offset, attempts},
                                              context_.clock.now());
  });
  attempts_recorded_ = true;
}

void PartitionConsumer::persist_attempts(const Event& event, int attempts) {
  try {
    record_attempts(event, attempts);
  } catch (const std::exception& e) {
    // The count still holds in this process; only a restart would forget it.
    log::error("cannot record the failed attempt", {{"group", subscription_.group},
                                                    {"topic", event.topic},
                                                    {"partition", event.partition},
                                                    {"offset", event.offset},
                                                    {"error", e.what()}});
  }
}

void PartitionConsumer::dead_letter(store::Transaction& tx, const Event& event,
                                    const std::string& error, int attempts, bool permanent) {
  write_dead_letter(tx, context_, subscription_, event, error, attempts, permanent);
}

// A pushed event can come again after its dead letter (the sidecar did not get the DROP, another
// process counted its own attempts): the first dead letter stands.
void dead_letter_once(store::Transaction& tx, const RuntimeContext& context,
                      const Subscription& subscription, const Event& event,
                      const std::string& error, int attempts, bool permanent) {
  if (store::DeadLetterRepository{}.find_event(tx, subscription.group, event.id)) return;
  write_dead_letter(tx, context, subscription, event, error, attempts, permanent);
}

PushedResult deliver_pushed(const RuntimeContext& context, const Subscription& subscription,
                            const Event& event, int attempt_number) {
  if (attempt_number > context.retry.max_attempts()) {
    // Every attempt failed with the transaction itself (a failure inside the handler dead-letters
    // at the last one): dead-letter without running the handler again, as the log bus does.
    constexpr std::string_view kEveryTransactionFailed =
        "the consumer transaction failed in each of its attempts";
    try {
      context.db.write([&](store::Transaction& tx) {
        dead_letter_once(tx, context, subscription, event, std::string(kEveryTransactionFailed),
                         attempt_number - 1, false);
      });
    } catch (const store::DatabaseUnavailable& e) {
      return {PushedOutcome::kUnavailable, e.what()};
    } catch (...) {
      return {PushedOutcome::kFailed, "cannot dead-letter: " + describe_current_exception()};
    }
    return {PushedOutcome::kDeadLettered, std::string(kEveryTransactionFailed)};
  }
  auto prepared = prepare(subscription, event);  // before the transaction, off the writer
  PushedResult result;
  try {
    context.db.write([&](store::Transaction& tx) {
      result = {};
      try {
        const bool ran = handle_once(tx, subscription, event, prepared, context.clock.now(),
                                     /*dedupe_rows=*/true);
        result.outcome = ran ? PushedOutcome::kHandled : PushedOutcome::kDuplicate;
      } catch (const PermanentFailure& e) {
        dead_letter_once(tx, context, subscription, event, e.what(), attempt_number, true);
        result = {PushedOutcome::kDeadLettered, e.what()};
      } catch (const store::DatabaseUnavailable&) {
        throw;
      } catch (...) {
        const auto error = describe_current_exception();
        if (attempt_number < context.retry.max_attempts()) {
          result = {PushedOutcome::kFailed, error};  // the savepoint kept nothing
        } else {
          dead_letter_once(tx, context, subscription, event, error, attempt_number, false);
          result = {PushedOutcome::kDeadLettered, error};
        }
      }
    });
  } catch (const store::DatabaseUnavailable& e) {
    return {PushedOutcome::kUnavailable, e.what()};
  } catch (...) {
    return {PushedOutcome::kFailed,
            "the consumer transaction failed: " + describe_current_exception()};
  }
  if (result.outcome == PushedOutcome::kFailed) {
    log::warn("event handling failed; the sidecar is asked to push it again",
              {{"group", subscription.group},
               {"topic", event.topic},
               {"event_id", event.id},
               {"attempt", attempt_number},
               {"error", result.error}});
  }
  return result;
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
    // Claimed first, in a transaction of its own: if the handler kills the process, the letter
    // is dead again (with that said) instead of replayed at every start.
    const bool claimed = store::write_value(db, [&](store::Transaction& tx) {
      return letters.claim_replay(tx, d.id, kDiedWhileReplaying, clock.now());
    });
    if (!claimed) continue;  // no longer requested (replayed or reset meanwhile)
    ++attempted;
    std::optional<std::string> failure;
    const Event event = event_of(d);
    auto prepared = prepare(subscription, event);
    db.write([&](store::Transaction& tx) {
      const auto now = clock.now();
      try {
        handle_once(tx, subscription, event, prepared, now, /*dedupe_rows=*/true);
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

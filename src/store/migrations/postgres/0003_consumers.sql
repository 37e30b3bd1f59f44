-- The consumer side of the event log: each group's committed offsets, the dedupe (inbox) rows
-- written in a consumer's own transaction, and the dead letters of events that kept failing.
-- Every *_at column holds microseconds since the Unix epoch, UTC.

CREATE TABLE consumer_offsets (
  "group"     TEXT NOT NULL,
  topic       TEXT NOT NULL,
  "partition" BIGINT NOT NULL,
  "offset"    BIGINT NOT NULL,                        -- the next offset the group reads (Kafka's committed offset)
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY ("group", topic, "partition")
);

CREATE TABLE processed_events (
  consumer     TEXT NOT NULL,                          -- the consumer group
  event_id     TEXT NOT NULL,                          -- the CloudEvent id
  processed_at BIGINT NOT NULL,
  PRIMARY KEY (consumer, event_id)
);

CREATE INDEX processed_events_age ON processed_events (processed_at);

-- One row per event a group gave up on; the same record is also appended to <topic>.dlq.
CREATE TABLE dead_letters (
  id                  TEXT NOT NULL PRIMARY KEY,       -- UUIDv7, also the event_id of the .dlq message
  "group"             TEXT NOT NULL,
  topic               TEXT NOT NULL,
  "partition"         BIGINT NOT NULL,
  "offset"            BIGINT NOT NULL,
  key                 TEXT NOT NULL,
  event_id            TEXT NOT NULL,
  payload             TEXT NOT NULL,                   -- the original CloudEvent JSON
  error               TEXT NOT NULL,                   -- the last failure
  attempts            BIGINT NOT NULL,
  failed_at           BIGINT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('dead', 'replay-requested', 'replayed')),
  replay_requested_at BIGINT,
  replayed_at         BIGINT,
  UNIQUE ("group", topic, "partition", "offset")
);

CREATE INDEX dead_letters_replays ON dead_letters ("group", status);

-- Retention deletes the log's oldest rows by age.
CREATE INDEX outbox_age ON outbox (created_at);

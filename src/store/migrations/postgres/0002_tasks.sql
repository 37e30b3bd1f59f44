-- Tasks, the sync state of each user, the outbox (also the embedded event log) with its
-- per-partition offset counters, and the idempotency keys of POST requests.
-- Every *_at column holds microseconds since the Unix epoch, UTC.

CREATE TABLE tasks (
  id               TEXT NOT NULL PRIMARY KEY,          -- UUIDv7
  user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title            TEXT NOT NULL,
  title_key        TEXT NOT NULL,                      -- casefold(title): the title sort key
  description      TEXT,
  search_text      TEXT NOT NULL,                      -- casefold(title) || E'\n' || casefold(description)
  status           TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
  priority         BIGINT NOT NULL CHECK (priority IN (1, 2, 3)),  -- low 1, medium 2, high 3
  tags             TEXT NOT NULL,                      -- E'\n' before and after each tag; '' if none
  due_at           BIGINT,
  all_day          BIGINT NOT NULL CHECK (all_day IN (0, 1)),
  timezone         TEXT NOT NULL,                      -- IANA name
  recurrence       TEXT,                               -- preset name or canonical RRULE
  recurrence_mode  TEXT NOT NULL CHECK (recurrence_mode IN ('due', 'strict', 'completion')),
  series_id        TEXT,
  occurrence_index BIGINT NOT NULL,
  reminders        TEXT NOT NULL,                      -- minutes before due, e.g. '15,60'
  version          BIGINT NOT NULL,
  change_seq       BIGINT NOT NULL,                   -- the owner's users.change_seq at the last change
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  completed_at     BIGINT,
  deleted_at       BIGINT                             -- tombstone, kept for delta sync
);

-- A row keeps only its latest change_seq, and each change takes a new one: unique per user. It is
-- also the delta-sync index.
CREATE UNIQUE INDEX tasks_user_change_seq ON tasks (user_id, change_seq);
-- The next occurrence of a recurring task is created exactly once.
CREATE UNIQUE INDEX tasks_series_occurrence ON tasks (series_id, occurrence_index)
  WHERE series_id IS NOT NULL;
-- One index per sort order of the task list (keyset pagination on (value, id)).
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_user_updated ON tasks (user_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_user_due ON tasks (user_id, due_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_user_priority ON tasks (user_id, priority, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_user_title ON tasks (user_id, title_key, id) WHERE deleted_at IS NULL;
-- Tombstone purging.
CREATE INDEX tasks_tombstones ON tasks (deleted_at) WHERE deleted_at IS NOT NULL;

-- The highest change_seq of each user's purged tombstones: a sync cursor below it is too old.
CREATE TABLE user_sync_state (
  user_id        TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  purged_through BIGINT NOT NULL
);

-- The outbox and event log. Offsets come from log_heads, not from MAX(offset), so they stay
-- gapless and are never reused after old rows are deleted.
CREATE TABLE outbox (
  topic       TEXT NOT NULL,
  "partition" BIGINT NOT NULL,
  "offset"    BIGINT NOT NULL,
  key         TEXT NOT NULL,
  event_id    TEXT NOT NULL UNIQUE,                    -- the CloudEvent id
  payload     TEXT NOT NULL,                           -- the CloudEvent JSON
  created_at  BIGINT NOT NULL,
  shipped_at  BIGINT,                                 -- set once the broker acknowledged it
  PRIMARY KEY (topic, "partition", "offset")
);

CREATE INDEX outbox_unshipped ON outbox (topic, "partition", "offset") WHERE shipped_at IS NULL;

CREATE TABLE log_heads (
  topic       TEXT NOT NULL,
  "partition" BIGINT NOT NULL,
  next_offset BIGINT NOT NULL,                        -- the offset the next append gets
  PRIMARY KEY (topic, "partition")
);

CREATE TABLE idempotency_keys (
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,                          -- hex SHA-256 of method, path and body
  status       BIGINT NOT NULL,                       -- the HTTP status of the first response
  headers      TEXT NOT NULL,                          -- "name: value\n" lines
  body         TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The audit service's append-only log of task events, chained by SHA-256 (docs/adr/0007), and the
-- anchor the oldest kept entry chains from once retention has purged older ones.
-- Every *_at and *_time column holds microseconds since the Unix epoch, UTC.

CREATE TABLE audit_logs (
  id          BIGINT NOT NULL PRIMARY KEY,            -- the position in the chain, ascending
  event_id    TEXT NOT NULL UNIQUE,                    -- the CloudEvent id: one entry per event
  event_type  TEXT NOT NULL CHECK (event_type IN
                ('task.created', 'task.updated', 'task.completed', 'task.deleted')),
  user_id     TEXT NOT NULL,                           -- the task's owner
  actor       TEXT NOT NULL,                           -- "user:<id>" or "system:<service>"
  task_id     TEXT NOT NULL,                           -- no foreign key: a deleted task keeps its history
  sequence    BIGINT NOT NULL,                        -- the task's version after the change
  event_time  BIGINT NOT NULL,                        -- the CloudEvent's time
  recorded_at BIGINT NOT NULL,                        -- when the audit service appended it
  payload     TEXT NOT NULL,                           -- {"task": {...}, "changes": {...}}
  prev_hash   TEXT NOT NULL,                           -- hex SHA-256 of the previous entry (or the anchor)
  hash        TEXT NOT NULL                            -- hex SHA-256(prev_hash || canonical entry)
);

CREATE INDEX audit_logs_user ON audit_logs (user_id, id);
CREATE INDEX audit_logs_task ON audit_logs (task_id, id);
CREATE INDEX audit_logs_event_time ON audit_logs (event_time);
-- Retention purges by age.
CREATE INDEX audit_logs_recorded ON audit_logs (recorded_at);

-- Exactly one row: the hash the oldest kept entry's prev_hash must equal, and the id of the last
-- purged entry (so ids keep ascending after the table was emptied).
CREATE TABLE audit_anchor (
  id            BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
  hash          TEXT NOT NULL,
  through_id    BIGINT NOT NULL,                      -- 0 before any purge
  moved_at      BIGINT                                -- when a purge last moved it
);

INSERT INTO audit_anchor (id, hash, through_id, moved_at)
VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000', 0, NULL);

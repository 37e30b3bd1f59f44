-- Crash-loop protection for durable consumer groups: how many attempts a group started on the
-- event at its committed offset without finishing it. Written only off the steady path (after a
-- failure, and before each delivery of the events a restart finds possibly in flight), so an
-- event that kills the process is dead-lettered after the configured attempts instead of
-- crash-looping. At most one row per (group, topic, partition); deleted when the event is done.

CREATE TABLE delivery_attempts (
  "group"     TEXT NOT NULL,
  topic       TEXT NOT NULL,
  "partition" BIGINT NOT NULL,
  "offset"    BIGINT NOT NULL,                        -- the event the attempts were made on
  attempts    BIGINT NOT NULL CHECK (attempts >= 1),  -- started and not finished (failed or killed)
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY ("group", topic, "partition")
);

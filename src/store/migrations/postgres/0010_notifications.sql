-- The notification service (ADR 0015): its schedule of reminder instants, one delivery per
-- (reminder, channel, target) with every attempt, and the users' notification targets.
-- Every *_at column holds microseconds since the Unix epoch, UTC.

CREATE TABLE notification_targets (
  id         TEXT NOT NULL PRIMARY KEY,                -- UUIDv7
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind       TEXT NOT NULL CHECK (kind IN ('email', 'webpush', 'fcm', 'webhook')),
  address    TEXT NOT NULL,                            -- e-mail | PushSubscription JSON | token | URL
  secret     TEXT NOT NULL DEFAULT '',                 -- webhook signing secret (whsec_…)
  created_at BIGINT NOT NULL,
  UNIQUE (user_id, kind, address)
);

-- Each task's reminder instants as the last `reminders` event set them. A row that fired, was
-- missed or cancelled is history; only `scheduled` rows wait for their instant.
CREATE TABLE reminders (
  id             TEXT NOT NULL PRIMARY KEY,            -- UUIDv7
  task_id        TEXT NOT NULL,                        -- no foreign key: history outlives the task
  user_id        TEXT NOT NULL,
  fire_at        BIGINT NOT NULL,
  offset_minutes BIGINT,                              -- minutes before due; NULL without a due date
  status         TEXT NOT NULL
                   CHECK (status IN ('scheduled', 'sent', 'cancelled', 'missed', 'failed')),
  late           BIGINT NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
  fired_at       BIGINT,                              -- when it was sent (or found missed)
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  UNIQUE (task_id, fire_at)
);

CREATE INDEX reminders_scheduled ON reminders (fire_at) WHERE status = 'scheduled';
CREATE INDEX reminders_user ON reminders (user_id);

CREATE TABLE deliveries (
  id              TEXT NOT NULL PRIMARY KEY,           -- UUIDv7: the receivers' idempotency key
  reminder_id     TEXT NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
  channel         TEXT NOT NULL CHECK (channel IN ('email', 'push', 'webhook', 'in-app')),
  target          TEXT NOT NULL,                       -- notification_targets.id, 'account', 'in-app'
  target_kind     TEXT NOT NULL,                       -- email | webpush | fcm | webhook | in-app
  target_address  TEXT NOT NULL,                       -- e-mail address or URL as sent; '' otherwise
  status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed',
                                                  'not-configured', 'target-gone')),
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,                             -- while pending
  last_error      TEXT,
  provider_id     TEXT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  UNIQUE (reminder_id, channel, target)
);

CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 'pending';

-- Every attempt of a delivery, with its outcome.
CREATE TABLE notification_attempts (
  delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt     BIGINT NOT NULL,                        -- 1, 2, …
  started_at  BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  outcome     TEXT NOT NULL,                           -- delivered | retry | failed | not-configured | target-gone
  error       TEXT,
  PRIMARY KEY (delivery_id, attempt)
);

-- Accounts: users and the refresh tokens of their sessions.
-- Every *_at column holds microseconds since the Unix epoch, UTC.

CREATE TABLE users (
  id                TEXT NOT NULL PRIMARY KEY,         -- UUIDv7
  email             TEXT NOT NULL UNIQUE,              -- lower-case
  password_hash     TEXT NOT NULL,                     -- argon2id encoded string
  display_name      TEXT NOT NULL DEFAULT '',
  timezone          TEXT NOT NULL DEFAULT 'UTC',       -- IANA name
  role              TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  change_seq        BIGINT NOT NULL DEFAULT 0,        -- per-user change counter
  default_reminders TEXT NOT NULL DEFAULT '',          -- minutes before due, e.g. '15,60'
  reminder_email    TEXT,                              -- NULL: reminders go to email
  created_at        BIGINT NOT NULL,
  last_login_at     BIGINT
);

CREATE TABLE refresh_tokens (
  id          TEXT NOT NULL PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash  TEXT NOT NULL UNIQUE,                    -- hex SHA-256 of the opaque token
  family_id   TEXT NOT NULL,                           -- shared by every rotation of one login
  expires_at  BIGINT NOT NULL,
  revoked_at  BIGINT,
  replaced_by TEXT,                                    -- id of the token that rotated this one
  created_at  BIGINT NOT NULL
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

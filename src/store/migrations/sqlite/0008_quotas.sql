-- Per-account quotas (docs/adr/0013-quotas.md): the usage of each account, kept by every task
-- write in its own transaction so that checking a quota never scans the account's tasks, and a
-- count of live tasks per (account, tag) so the number of distinct tags is known the same way.
-- Only live tasks count; tombstones do not. Bytes are those of domain::stored_bytes: title,
-- description, tags and recurrence rule, in UTF-8.

CREATE TABLE user_usage (
  user_id TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  tasks   INTEGER NOT NULL DEFAULT 0 CHECK (tasks >= 0),
  tags    INTEGER NOT NULL DEFAULT 0 CHECK (tags >= 0),
  bytes   INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0)
) STRICT;

CREATE TABLE user_tags (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  tasks   INTEGER NOT NULL CHECK (tasks >= 1),       -- live tasks carrying the tag
  PRIMARY KEY (user_id, tag)
) STRICT;

-- Backfill from the tasks that exist. tasks.tags holds x'0a' before and after each tag.
INSERT INTO user_tags (user_id, tag, tasks)
WITH RECURSIVE split (user_id, rest, tag) AS (
  SELECT user_id, substr(tags, 2), NULL FROM tasks WHERE deleted_at IS NULL AND tags <> ''
  UNION ALL
  SELECT user_id, substr(rest, instr(rest, char(10)) + 1),
         substr(rest, 1, instr(rest, char(10)) - 1)
  FROM split WHERE rest <> ''
)
SELECT user_id, tag, count(*) FROM split WHERE tag IS NOT NULL GROUP BY user_id, tag;

INSERT INTO user_usage (user_id, tasks, tags, bytes)
SELECT u.id,
       (SELECT count(*) FROM tasks t WHERE t.user_id = u.id AND t.deleted_at IS NULL),
       (SELECT count(*) FROM user_tags g WHERE g.user_id = u.id),
       (SELECT coalesce(sum(length(CAST(t.title AS BLOB))
                            + coalesce(length(CAST(t.description AS BLOB)), 0)
                            + length(CAST(replace(t.tags, char(10), '') AS BLOB))
                            + coalesce(length(CAST(t.recurrence AS BLOB)), 0)), 0)
        FROM tasks t WHERE t.user_id = u.id AND t.deleted_at IS NULL)
FROM users u;

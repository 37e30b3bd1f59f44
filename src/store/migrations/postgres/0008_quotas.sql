-- Per-account quotas (docs/adr/0013-quotas.md): the usage of each account, kept by every task
-- write in its own transaction so that checking a quota never scans the account's tasks, and a
-- count of live tasks per (account, tag) so the number of distinct tags is known the same way.
-- Only live tasks count; tombstones do not. Bytes are those of domain::stored_bytes: title,
-- description, tags and recurrence rule, in UTF-8.

CREATE TABLE user_usage (
  user_id TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  tasks   BIGINT NOT NULL DEFAULT 0 CHECK (tasks >= 0),
  tags    BIGINT NOT NULL DEFAULT 0 CHECK (tags >= 0),
  bytes   BIGINT NOT NULL DEFAULT 0 CHECK (bytes >= 0)
);

CREATE TABLE user_tags (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  tasks   BIGINT NOT NULL CHECK (tasks >= 1),       -- live tasks carrying the tag
  PRIMARY KEY (user_id, tag)
);

-- Backfill from the tasks that exist. tasks.tags holds E'\n' before and after each tag.
INSERT INTO user_tags (user_id, tag, tasks)
SELECT t.user_id, tag, count(*)
FROM tasks t, unnest(string_to_array(btrim(t.tags, E'\n'), E'\n')) AS tag
WHERE t.deleted_at IS NULL AND t.tags <> ''
GROUP BY t.user_id, tag;

INSERT INTO user_usage (user_id, tasks, tags, bytes)
SELECT u.id,
       (SELECT count(*) FROM tasks t WHERE t.user_id = u.id AND t.deleted_at IS NULL),
       (SELECT count(*) FROM user_tags g WHERE g.user_id = u.id),
       (SELECT coalesce(sum(octet_length(t.title)
                            + coalesce(octet_length(t.description), 0)
                            + octet_length(replace(t.tags, E'\n', ''))
                            + coalesce(octet_length(t.recurrence), 0)), 0)
        FROM tasks t WHERE t.user_id = u.id AND t.deleted_at IS NULL)
FROM users u;

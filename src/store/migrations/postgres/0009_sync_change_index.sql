-- Live sync resumes a connection from the change log: every task-updates event of one user with
-- user_seq > N, in user_seq order (docs/adr/0014-live-sync.md). task-updates is keyed by user id;
-- this partial expression index finds one user's events by their seq without reading others'.
-- Its retention is the log's: --event-retention-days (task-updates has no durable group).

-- PostgreSQL: the expression the sync service's query must use to be served by it.
CREATE INDEX outbox_user_changes ON outbox (key, (((payload::jsonb) -> 'data' ->> 'user_seq')::bigint))
  WHERE topic = 'task-updates';

-- Several processes on one database share a consumer group's partitions (ADR 0020): each
-- partition of a (group, topic) is leased to one member at a time, and every member says it is
-- alive, so each knows how many share the group and takes its fair part.
-- Every *_at column holds microseconds since the Unix epoch, UTC.

CREATE TABLE partition_leases (
  "group"     TEXT NOT NULL,
  topic       TEXT NOT NULL,
  "partition" BIGINT NOT NULL,
  holder      TEXT NOT NULL,                           -- the member that consumes the partition
  expires_at  BIGINT NOT NULL,                        -- free for another member from then on
  PRIMARY KEY ("group", topic, "partition")
);

CREATE TABLE consumer_members (
  "group"    TEXT NOT NULL,
  topic      TEXT NOT NULL,
  member     TEXT NOT NULL,                            -- one per process and group
  expires_at BIGINT NOT NULL,                         -- gone unless it renews before then
  PRIMARY KEY ("group", topic, member)
);

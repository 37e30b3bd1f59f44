-- The recurring service's memory of each series: the newest occurrence it created and whether the
-- series has ended (COUNT or UNTIL ran out, or its pending occurrence was deleted). Kept after the
-- tasks' tombstones are purged, so an ended series never comes back. (tasks_series_occurrence, a
-- unique index since 0002, makes each occurrence exist once.)
CREATE TABLE recurrence_series (
  series_id  TEXT NOT NULL PRIMARY KEY,                -- the first occurrence's task id
  last_index BIGINT NOT NULL,                         -- occurrence_index of the newest occurrence
  ended_at   BIGINT,                                  -- µs since the epoch, UTC; NULL while it goes on
  updated_at BIGINT NOT NULL
);


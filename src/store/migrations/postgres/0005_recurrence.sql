-- The series anchor of recurring tasks (docs/adr/0009-recurrence.md): the wall time, in the task's
-- time zone, of the due date the rule was set or last re-anchored on, as 'YYYY-MM-DDTHH:MM:SS'
-- (with '.ffffff' when the microseconds are not zero); and how many occurrences of the series
-- precede it, which COUNT counts. NULL anchor: no rule or no due date (older rows are anchored on
-- their due date by the engine).

ALTER TABLE tasks ADD COLUMN recurrence_anchor TEXT;
ALTER TABLE tasks ADD COLUMN recurrence_anchor_index BIGINT NOT NULL DEFAULT 0;

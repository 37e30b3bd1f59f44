-- The scheduled reminders of one task, found without reading every scheduled reminder: the
-- notification service looks them up at each event of a task (replace_schedule, cancel_schedule).
-- PostgreSQL planned `task_id = $1 AND status = 'scheduled'` as a BitmapAnd of the
-- (task_id, fire_at) key with reminders_scheduled, whose status predicate it matches exactly,
-- so each lookup scanned all scheduled reminders (0.26 ms at 7,600 of them, growing with every
-- task created; a third of the single writer's time under a create load). This index matches both
-- conditions and holds only scheduled rows.
CREATE INDEX reminders_task_scheduled ON reminders (task_id) WHERE status = 'scheduled';

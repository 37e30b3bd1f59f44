"""The recurring service in a running `todo serve`: completing a recurring task makes its next
occurrence appear (poll with a deadline) on the right day and hour — also across the end of
daylight-saving time — exactly once, also when the server is killed right after the completion."""

import json
import os
import signal
import sqlite3
import time
import urllib.parse

from task_harness import TaskApi
from todo_harness import register

DEADLINE = 30.0

BIWEEKLY_TUESDAY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"


def _poll(condition, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def _series(api, series_id):
    resp = api.get("/api/tasks?status=all&limit=500")
    assert resp.status == 200, resp
    return sorted((t for t in resp.body["items"] if t.get("series_id") == series_id),
                  key=lambda t: t["due_date"] or "")


def _next_of(api, first, count=2):
    return _poll(lambda: (lambda s: s if len(s) >= count else None)(_series(api, first["series_id"])),
                 "the next occurrence")


def _create(api, **fields):
    body = {"title": "Team sync", "timezone": "Europe/Berlin", "recurrence": BIWEEKLY_TUESDAY,
            "reminders": [10], "tags": ["work"], "priority": "high"}
    body.update(fields)
    resp = api.post("/api/tasks", body)
    assert resp.status == 201, resp
    return resp.body


def _caught_up(data_dir, group="recurring-task-service"):
    """True once `group` has consumed every task event appended so far (its offsets in
    consumer_offsets reached the log heads): then whatever it would do, it has done."""
    path = os.path.abspath(os.path.join(data_dir, "todo.db"))
    conn = sqlite3.connect("file:" + urllib.parse.quote(path) + "?mode=ro", uri=True, timeout=30)
    try:
        heads = dict(conn.execute("SELECT \"partition\", next_offset FROM log_heads WHERE topic = 'task-events'"))
        done = dict(conn.execute("SELECT \"partition\", \"offset\" FROM consumer_offsets "
                                 "WHERE \"group\" = ? AND topic = 'task-events'", (group,)))
    finally:
        conn.close()
    return all(done.get(p, 0) >= head for p, head in heads.items())


def _wait_caught_up(data_dir):
    _poll(lambda: _caught_up(data_dir), "the recurring service to consume every event")


def _events_of(data_dir, task_id):
    path = os.path.abspath(os.path.join(data_dir, "todo.db"))
    conn = sqlite3.connect("file:" + urllib.parse.quote(path) + "?mode=ro", uri=True, timeout=30)
    try:
        return [json.loads(r[0]) for r in conn.execute(
            "SELECT payload FROM outbox WHERE topic = 'task-events' AND key = ? ORDER BY \"offset\"", (task_id,))]
    finally:
        conn.close()


def test_every_second_tuesday_at_nine_in_berlin_across_the_end_of_summer_time(server, api):
    first = _create(api, due_date="2027-10-19T09:00")  # CEST, UTC+2
    assert first["due_date"] == "2027-10-19T07:00:00.000Z"
    done = api.post(f"/api/tasks/{first['id']}/complete")
    assert done.status == 200, done

    old, new = _next_of(api, first)
    assert old["id"] == first["id"] and old["status"] == "completed"  # kept as history
    # Two weeks on, after summer time ended on 31 October: still 09:00 in Berlin, now UTC+1.
    assert new["due_date"] == "2027-11-02T08:00:00.000Z", new
    assert new["status"] == "pending"
    for field in ("title", "priority", "tags", "reminders", "timezone", "recurrence", "recurrence_mode",
                  "series_id", "all_day", "description"):
        assert new[field] == first[field], field
    created = _events_of(server.data_dir, new["id"])
    assert created[0]["type"] == "com.todo.task.created"
    assert created[0]["source"] == "recurring-task-service"
    assert created[0]["data"]["actor"] == "system:recurring"

    # The audit log has the generated task too, written by the recurring service.
    history = _poll(lambda: (lambda r: r.body["items"] if r.status == 200 and r.body["items"] else None)(
        api.get(f"/api/tasks/{new['id']}/history")), "the audit entry of the new occurrence")
    assert history[0]["actor"] == "system:recurring"


def test_reopening_and_completing_again_makes_no_second_occurrence(api):
    first = _create(api, due_date="2027-10-19T09:00", recurrence="daily")
    assert api.post(f"/api/tasks/{first['id']}/complete").status == 200
    _next_of(api, first)
    for _ in range(2):
        assert api.post(f"/api/tasks/{first['id']}/reopen").status == 200
        assert api.post(f"/api/tasks/{first['id']}/complete").status == 200
    _wait_caught_up(api.server.data_dir)
    assert len(_series(api, first["series_id"])) == 2


def test_deleting_the_pending_occurrence_ends_the_series(api):
    first = _create(api, due_date="2027-10-19T09:00", recurrence="weekly")
    assert api.post(f"/api/tasks/{first['id']}/complete").status == 200
    _, second = _next_of(api, first)
    assert api.delete(f"/api/tasks/{second['id']}").status == 204
    assert api.post(f"/api/tasks/{first['id']}/reopen").status == 200
    assert api.post(f"/api/tasks/{first['id']}/complete").status == 200
    _wait_caught_up(api.server.data_dir)
    assert [t["id"] for t in _series(api, first["series_id"])] == [first["id"]]


def test_a_sigkill_right_after_the_completion_still_gives_exactly_one_next_occurrence(make_server):
    srv = make_server()
    user = register(srv)
    api = TaskApi(srv, user)
    first = _create(api, due_date="2027-10-19T09:00")
    assert api.post(f"/api/tasks/{first['id']}/complete").status == 200
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(30)

    srv = make_server(data_dir=srv.data_dir)
    api = TaskApi(srv, user)
    series = _next_of(api, first)
    assert len(series) == 2
    assert series[1]["due_date"] == "2027-11-02T08:00:00.000Z"
    # Restarting again redelivers nothing new.
    srv.stop()
    srv = make_server(data_dir=srv.data_dir)
    api = TaskApi(srv, user)
    _wait_caught_up(srv.data_dir)
    assert len(_series(api, first["series_id"])) == 2

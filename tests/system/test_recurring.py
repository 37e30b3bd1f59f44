"""The recurring service in a running `todo serve`: completing a recurring task makes its next
occurrence appear (poll with a deadline) on the right day and hour — also across the end of
daylight-saving time — exactly once, also when the server is killed right after the completion."""

import signal

from task_harness import TaskApi, outbox_rows, rows_of
from todo_harness import poll_until, register, wait_consumed

DEADLINE = 30.0

BIWEEKLY_TUESDAY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"


def _series(api, series_id):
    resp = api.get("/api/tasks?status=all&limit=500")
    assert resp.status == 200, resp
    return sorted((t for t in resp.body["items"] if t.get("series_id") == series_id),
                  key=lambda t: t["due_date"] or "")


def _next_of(api, first, count=2):
    def enough():
        series = _series(api, first["series_id"])
        return series if len(series) >= count else None

    return poll_until(enough, "the next occurrence", DEADLINE)


def _create(api, **fields):
    body = {"title": "Team sync", "timezone": "Europe/Berlin", "recurrence": BIWEEKLY_TUESDAY,
            "reminders": [10], "tags": ["work"], "priority": "high"}
    body.update(fields)
    resp = api.post("/api/tasks", body)
    assert resp.status == 201, resp
    return resp.body


def _wait_caught_up(data_dir):
    wait_consumed(data_dir, "recurring-task-service", timeout=DEADLINE)


def _events_of(server, task_id):
    return [r.event for r in rows_of(outbox_rows(server), "task-events", key=task_id)]


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
    created = _events_of(server, new["id"])
    assert created[0]["type"] == "com.todo.task.created"
    assert created[0]["source"] == "recurring-task-service"
    assert created[0]["data"]["actor"] == "system:recurring"

    # The audit log has the generated task too, written by the recurring service.
    history = poll_until(lambda: (lambda r: r.body["items"] if r.status == 200 and r.body["items"] else None)(
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

"""Events: the CloudEvents that task changes append to the `outbox` table, read straight from
<data dir>/todo.db (read-only; the server keeps the database in WAL mode, so reading while it
runs is fine).

The contract is docs/api/tasks.md ("Events") and DESIGN.md §5. Each test filters the rows by its
own fresh users and tasks, except the checks of whole-table properties (gapless offsets)."""

import datetime
import threading
import uuid

from task_harness import (
    assert_cloudevent,
    assert_no_nulls,
    assert_offsets_gapless,
    instant,
    new_api,
    outbox_rows,
    rows_of,
    utc,
)
from todo_harness import HTTP_TIMEOUT, do_request, register

TASK_EVENTS = "task-events"
TASK_UPDATES = "task-updates"
REMINDERS = "reminders"

ALWAYS_IN_PAYLOAD = {"title", "status", "priority", "tags", "timezone", "recurrence_mode", "reminders", "changed_fields"}
ABSENT_WHEN_EMPTY = ("description", "due_date", "recurring_pattern", "rrule", "series_id")


def _minutes(n):
    return datetime.timedelta(minutes=n)


def _task_events(server, task_id):
    return rows_of(outbox_rows(server), TASK_EVENTS, key=task_id)


def _updates(server, api, task_id=None):
    return rows_of(outbox_rows(server), TASK_UPDATES, key=api.id, task_id=task_id)


def _reminders(server, task_id):
    return rows_of(outbox_rows(server), REMINDERS, key=task_id)


def _one_partition(rows, topic, partitions):
    parts = {r.partition for r in rows}
    assert len(parts) <= 1, f"one key must stay in one partition of {topic}: {rows!r}"
    for p in parts:
        assert 0 <= p < partitions, f"{topic} partition {p} out of range: {rows!r}"


def _assert_task_event(row, etype, api, task_id, sequence):
    data = assert_cloudevent(row, etype, task_id)
    assert data.get("task_id") == task_id, data
    assert data.get("user_id") == api.id, data
    assert data.get("sequence") == sequence, f"sequence should be {sequence}: {data!r}"
    assert data.get("idempotency_key") == row.event["id"], data
    assert data.get("actor") == f"user:{api.id}", data
    payload = data.get("payload")
    assert isinstance(payload, dict), data
    missing = ALWAYS_IN_PAYLOAD - set(payload)
    assert not missing, f"payload lacks {sorted(missing)}: {payload!r}"
    assert isinstance(payload["changed_fields"], list), payload
    assert all(isinstance(f, str) for f in payload["changed_fields"]), payload
    assert_no_nulls(data)
    if "before" in data:
        assert isinstance(data["before"], dict), data
    return data


def _assert_payload_matches(payload, task):
    for key in ("title", "status", "priority", "tags", "timezone", "recurrence_mode", "reminders"):
        assert payload[key] == task[key], f"payload.{key} {payload[key]!r} != task {task[key]!r}"
    for key in ("description", "series_id"):
        if task[key] is None:
            assert key not in payload, f"payload.{key} must be absent: {payload!r}"
        else:
            assert payload.get(key) == task[key], payload
    if task["due_date"] is None:
        assert "due_date" not in payload, payload
    else:
        assert instant(payload["due_date"]) == instant(task["due_date"]), payload
    if task["recurrence"] is None:
        for key in ("recurring_pattern", "rrule"):
            assert key not in payload, f"payload.{key} must be absent: {payload!r}"


# --------------------------------------------------------------------------------------------
# one task's life


def test_events_of_create_patch_complete_reopen_delete(server, api):
    due = "2026-12-01T09:00:00Z"
    created = api.create("Lifecycle", due_date=due, reminders=[60, 15], tags=["a"])
    tid = created["id"]
    patched = api.update(tid, {"title": "Lifecycle renamed", "priority": "high"})
    completed = api.complete(tid).body
    reopened = api.reopen(tid).body
    assert api.remove(tid).status == 204
    snapshots = [created, patched, completed, reopened]

    rows = outbox_rows(server)

    # -- task-events
    te = rows_of(rows, TASK_EVENTS, key=tid)
    types = ["created", "updated", "completed", "updated", "deleted"]
    assert [r.type for r in te] == [f"com.todo.task.{t}" for t in types], te
    _one_partition(te, TASK_EVENTS, 3)
    assert [r.offset for r in te] == sorted(r.offset for r in te)
    datas = [_assert_task_event(r, f"com.todo.task.{t}", api, tid, i + 1) for i, (r, t) in enumerate(zip(te, types))]
    for data, snap in zip(datas, snapshots):
        _assert_payload_matches(data["payload"], snap)
    upd = datas[1]
    assert set(upd["payload"]["changed_fields"]) == {"title", "priority"}, upd
    assert upd.get("before") == {"title": "Lifecycle", "priority": "medium"}, upd
    comp = datas[2]
    assert "status" in comp["payload"]["changed_fields"], comp
    assert comp.get("before", {}).get("status") == "pending", comp
    assert set(comp["before"]) <= set(comp["payload"]["changed_fields"]), comp
    reop = datas[3]
    assert "status" in reop["payload"]["changed_fields"], reop
    assert reop.get("before", {}).get("status") == "completed", reop
    assert datas[4]["payload"]["title"] == "Lifecycle renamed"

    # -- task-updates
    tu = rows_of(rows, TASK_UPDATES, key=api.id, task_id=tid)
    assert len(tu) == 5, tu
    _one_partition(rows_of(rows, TASK_UPDATES, key=api.id), TASK_UPDATES, 3)
    for i, (row, action) in enumerate(zip(tu, types)):
        data = assert_cloudevent(row, "com.todo.task.sync", tid)
        assert data.get("task_id") == tid and data.get("user_id") == api.id, data
        assert data.get("sequence") == i + 1, data
        assert data.get("user_seq") == i + 1, data
        assert data.get("action") == action, data
        assert isinstance(data.get("changed_fields"), dict), data
        if action == "deleted":
            assert data["changed_fields"] == {}, data
            assert "task" not in data, data
        else:
            assert data.get("task") == snapshots[i], f"task-updates snapshot differs from the response: {data!r}"
    assert tu[1].data["changed_fields"] == {"title": "Lifecycle renamed", "priority": "high"}
    assert tu[2].data["changed_fields"].get("status") == "completed"
    assert tu[3].data["changed_fields"].get("status") == "pending"

    # -- reminders: schedule on create, cancel on complete, schedule on reopen, cancel on delete
    rm = rows_of(rows, REMINDERS, key=tid)
    assert [r.type for r in rm] == [
        "com.todo.reminder.schedule",
        "com.todo.reminder.cancel",
        "com.todo.reminder.schedule",
        "com.todo.reminder.cancel",
    ], rm
    expected_times = [utc("2026-12-01T08:00:00"), utc("2026-12-01T08:45:00")]
    for row, title in zip(rm, ("Lifecycle", "Lifecycle renamed", "Lifecycle renamed", "Lifecycle renamed")):
        assert row.partition == 0, row
        data = assert_cloudevent(row, row.type, tid)
        assert_no_nulls(data)
        assert data.get("task_id") == tid and data.get("user_id") == api.id, data
        assert data.get("title") == title, data
        assert data.get("notification_channels") == ["email"], data
        assert data.get("user_email") == api.user.email, data
        assert data.get("timezone") == "UTC", data
        assert instant(data["due_date"]) == utc("2026-12-01T09:00:00"), data
        times = data.get("reminder_times")
        assert isinstance(times, list), data
        if row.type.endswith("schedule"):
            assert [instant(x) for x in times] == expected_times, data
            assert instant(data["reminder_time"]) == expected_times[0], data
        else:
            assert times == [], data
            assert "reminder_time" not in data, data

    # -- every event id is unique
    ids = [r.event["id"] for r in te + tu + rm]
    assert len(set(ids)) == len(ids), ids


def test_payload_members_without_a_value_are_absent(server, api):
    t = api.create("Bare")
    (row,) = _task_events(server, t["id"])
    data = _assert_task_event(row, "com.todo.task.created", api, t["id"], 1)
    for key in ABSENT_WHEN_EMPTY:
        assert key not in data["payload"], f"payload.{key} must be absent: {data!r}"
    assert _reminders(server, t["id"]) == []


def test_before_holds_old_values_and_never_null(server, api):
    t = api.create("Describe me")
    api.update(t["id"], {"description": "Now described", "tags": ["x"]})
    api.update(t["id"], {"description": None})
    te = _task_events(server, t["id"])
    assert [r.type for r in te] == ["com.todo.task.created", "com.todo.task.updated", "com.todo.task.updated"]
    added = _assert_task_event(te[1], "com.todo.task.updated", api, t["id"], 2)
    assert set(added["payload"]["changed_fields"]) == {"description", "tags"}, added
    assert added["payload"]["description"] == "Now described"
    assert added.get("before", {}).get("tags") == [], added
    assert "description" not in added["before"], f"an old null is absent from before: {added!r}"
    cleared = _assert_task_event(te[2], "com.todo.task.updated", api, t["id"], 3)
    assert cleared["payload"]["changed_fields"] == ["description"], cleared
    assert "description" not in cleared["payload"], cleared
    assert cleared.get("before") == {"description": "Now described"}, cleared
    tu = _updates(server, api, t["id"])
    assert tu[1].data["changed_fields"] == {"description": "Now described", "tags": ["x"]}
    assert tu[2].data["changed_fields"] == {"description": None}, (
        "task-updates changed_fields carries the new value, null when cleared"
    )


def test_recurrence_in_event_payloads(server, api):
    due = "2026-12-01T09:00:00Z"
    weekly = api.create("Weekly", recurrence="weekly", due_date=due)
    yearly = api.create("Yearly", recurrence="yearly", due_date=due)
    custom = api.create("Custom", recurrence="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", due_date=due)

    p = _assert_task_event(_task_events(server, weekly["id"])[0], "com.todo.task.created", api, weekly["id"], 1)["payload"]
    assert p["recurring_pattern"] == "weekly", p
    assert p.get("recurring_interval", 1) == 1, p
    assert p["series_id"] == weekly["id"], p
    if "rrule" in p:
        assert "FREQ=WEEKLY" in p["rrule"], p

    p = _assert_task_event(_task_events(server, yearly["id"])[0], "com.todo.task.created", api, yearly["id"], 1)["payload"]
    assert p["recurring_pattern"] == "custom", p
    assert "FREQ=YEARLY" in p["rrule"], p

    p = _assert_task_event(_task_events(server, custom["id"])[0], "com.todo.task.created", api, custom["id"], 1)["payload"]
    assert p["recurring_pattern"] in ("weekly", "custom"), p
    assert p["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", p
    assert p["series_id"] == custom["id"], p


# --------------------------------------------------------------------------------------------
# reminders


def test_reminder_events_only_when_the_instants_change(server, api):
    t = api.create("No due yet", reminders=[15])
    tid = t["id"]
    assert _reminders(server, tid) == [], "no due date, no reminder instants"

    def step(changes, expected_type, expected_times=None):
        before = len(_reminders(server, tid))
        api.update(tid, changes)
        rm = _reminders(server, tid)
        if expected_type is None:
            assert len(rm) == before, f"{changes} should not emit a reminders event: {rm[before:]!r}"
            return
        assert len(rm) == before + 1, f"{changes} should emit exactly one reminders event: {rm[before:]!r}"
        row = rm[-1]
        assert row.type == f"com.todo.reminder.{expected_type}", row
        data = assert_cloudevent(row, row.type, tid)
        assert_no_nulls(data)
        got = [instant(x) for x in data["reminder_times"]]
        assert got == [utc(x) for x in (expected_times or [])], data
        if expected_times:
            assert instant(data["reminder_time"]) == utc(expected_times[0]), data
        else:
            assert "reminder_time" not in data, data

    step({"due_date": "2026-10-01T12:00:00Z"}, "schedule", ["2026-10-01T11:45:00"])
    step({"title": "Renamed", "priority": "high", "tags": ["t"]}, None)
    step({"reminders": [30, 15]}, "schedule", ["2026-10-01T11:30:00", "2026-10-01T11:45:00"])
    step({"reminders": [15, 30, 30]}, None)
    step({"due_date": "2026-10-01T14:00:00+02:00"}, None)  # the same instant
    step({"due_date": "2026-10-02T12:00:00Z"}, "schedule", ["2026-10-02T11:30:00", "2026-10-02T11:45:00"])
    step({"reminders": None}, "cancel")
    step({"reminders": [0]}, "schedule", ["2026-10-02T12:00:00"])
    step({"due_date": None}, "cancel")
    step({"reminders": [5, 10]}, None)  # still no due date

    quiet = api.create("Due, no reminders", due_date="2026-10-01T12:00:00Z", reminders=[])
    assert _reminders(server, quiet["id"]) == []


def test_reminders_use_the_users_default_reminders_and_the_tasks_time_zone(server):
    api = new_api(server, timezone="Europe/Berlin")
    assert server.patch("/api/me", {"default_reminders": [10]}, token=api.token).status == 200
    t = api.create("Defaults", due_date="2026-07-01T09:00")  # 07:00Z
    (row,) = _reminders(server, t["id"])
    data = assert_cloudevent(row, "com.todo.reminder.schedule", t["id"])
    assert [instant(x) for x in data["reminder_times"]] == [utc("2026-07-01T06:50:00")]
    assert data["timezone"] == "Europe/Berlin"
    assert data["user_email"] == api.user.email


def test_reminders_go_to_the_users_reminder_email_when_set(server, api):
    address = f"reminders-{uuid.uuid4().hex}@example.com"
    assert server.patch("/api/me", {"reminder_email": address}, token=api.token).status == 200
    t = api.create("Mail me", due_date="2026-07-01T09:00:00Z", reminders=[0])
    (row,) = _reminders(server, t["id"])
    data = assert_cloudevent(row, "com.todo.reminder.schedule", t["id"])
    assert data["user_email"] == address, data


# --------------------------------------------------------------------------------------------
# acknowledged writes have their events, rejected ones have none


def _counts(server, api):
    rows = outbox_rows(server)
    te = [r for r in rows if r.topic == TASK_EVENTS and (r.data or {}).get("user_id") == api.id]
    tu = rows_of(rows, TASK_UPDATES, key=api.id)
    return len(te), len(tu)


def test_every_acknowledged_write_has_its_events_and_no_rejected_one_has_any(server, api, other_api):
    key = str(uuid.uuid4())
    state = {}

    def create_ok():
        r = api.create_resp({"title": "Counted"})
        state["id"] = r.body["id"] if r.status == 201 else None
        return r

    tid = lambda: state["id"]  # noqa: E731
    path = lambda suffix="": f"/api/tasks/{tid()}{suffix}"  # noqa: E731
    ops = [
        ("create", create_ok, 201, 1),
        ("create invalid", lambda: api.create_resp({"title": ""}), 422, 0),
        ("create keyed", lambda: api.create_resp({"title": "Keyed"}, headers={"Idempotency-Key": key}), 201, 1),
        ("create replayed", lambda: api.create_resp({"title": "Keyed"}, headers={"Idempotency-Key": key}), 201, 0),
        ("create key reused", lambda: api.create_resp({"title": "Other"}, headers={"Idempotency-Key": key}), 422, 0),
        ("patch", lambda: api.patch(path(), {"title": "Counted 2"}), 200, 1),
        ("patch invalid", lambda: api.patch(path(), {"priority": "urgent"}), 422, 0),
        ("patch stale", lambda: api.patch(path(), {"title": "x"}, headers={"If-Match": '"1"'}), 412, 0),
        ("patch by another user", lambda: other_api.patch(path(), {"title": "x"}), 404, 0),
        ("patch no-op", lambda: api.patch(path(), {"title": "Counted 2"}), 200, 0),
        ("complete", lambda: api.post(path("/complete")), 200, 1),
        ("complete again", lambda: api.post(path("/complete")), 200, 0),
        ("reopen", lambda: api.post(path("/reopen")), 200, 1),
        ("reopen again", lambda: api.post(path("/reopen")), 200, 0),
        ("put", lambda: api.put(path(), {"title": "Replaced"}), 200, 1),
        ("put invalid", lambda: api.put(path(), {}), 422, 0),
        ("seed toggle", lambda: api.patch(f"/api/{api.id}/tasks/{tid()}/complete"), 200, 1),
        ("delete stale", lambda: api.delete(path(), headers={"If-Match": '"1"'}), 412, 0),
        ("delete", lambda: api.delete(path()), 204, 1),
        ("delete again", lambda: api.delete(path()), 404, 0),
        ("patch deleted", lambda: api.patch(path(), {"title": "x"}), 404, 0),
        ("patch unknown", lambda: api.patch(f"/api/tasks/{uuid.uuid4()}", {"title": "x"}), 404, 0),
    ]
    te0, tu0 = 0, 0  # a fresh user has no events yet
    for name, op, status, events in ops:
        resp = op()
        assert resp.status == status, f"{name}: {resp!r}"
        te1, tu1 = _counts(server, api)
        assert te1 - te0 == events, f"{name}: {te1 - te0} task-events rows, expected {events}"
        assert tu1 - tu0 == events, f"{name}: {tu1 - tu0} task-updates rows, expected {events}"
        te0, tu0 = te1, tu1
    assert _counts(server, other_api) == (0, 0)
    user_seqs = [r.data["user_seq"] for r in _updates(server, api)]
    assert user_seqs == list(range(1, len(user_seqs) + 1)), user_seqs


# --------------------------------------------------------------------------------------------
# partitions and offsets


def test_partitions_and_gapless_offsets(server):
    apis = [new_api(server) for _ in range(2)]
    for api in apis:
        for i in range(4):
            t = api.create(f"Spread {i}", due_date="2026-12-01T09:00:00Z", reminders=[5])
            api.update(t["id"], {"priority": "high"})
            if i % 2:
                assert api.complete(t["id"]).status == 200
    rows = outbox_rows(server)
    assert rows, "the outbox is empty"
    topics = {r.topic for r in rows}
    assert {TASK_EVENTS, TASK_UPDATES, REMINDERS} <= topics, topics
    assert_offsets_gapless(rows)
    by_key = {}
    for r in rows:
        by_key.setdefault((r.topic, r.key), set()).add(r.partition)
    for (topic, key), parts in by_key.items():
        assert len(parts) == 1, f"{topic} key {key} is spread over partitions {parts}"
        (p,) = parts
        limit = {TASK_EVENTS: 3, TASK_UPDATES: 3, REMINDERS: 1}.get(topic)
        if limit is not None:
            assert 0 <= p < limit, f"{topic} partition {p} out of range"
    for r in rows:
        if r.topic == TASK_EVENTS:
            assert r.key == r.data["task_id"], r
        elif r.topic == TASK_UPDATES:
            assert r.key == r.data["user_id"], r
        elif r.topic == REMINDERS:
            assert r.key == r.data["task_id"], r
    # per key, offset order is change order
    for api in apis:
        seqs = [r.data["user_seq"] for r in rows_of(rows, TASK_UPDATES, key=api.id)]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
    for (topic, key), _ in by_key.items():
        if topic == TASK_EVENTS:
            seqs = [r.data["sequence"] for r in rows_of(rows, TASK_EVENTS, key=key)]
            assert seqs == list(range(1, len(seqs) + 1)), (key, seqs)
    event_ids = [r.event_id for r in rows]
    assert len(set(event_ids)) == len(event_ids), "event ids are unique"


def test_concurrent_creates_keep_offsets_gapless_and_user_seq_dense(make_server):
    server = make_server()
    users = [register(server), register(server)]
    threads_per_user, per_thread = 4, 25
    results, errors = [], []
    lock = threading.Lock()

    def worker(user, n):
        conn = server.connection(HTTP_TIMEOUT)
        try:
            for i in range(per_thread):
                resp = do_request(
                    conn,
                    "POST",
                    "/api/tasks",
                    body={"title": f"Concurrent {n}-{i}"},
                    headers={"Authorization": f"Bearer {user.access_token}"},
                )
                with lock:
                    results.append((user.id, resp.status, resp.body))
        except Exception as e:  # reported below
            with lock:
                errors.append(repr(e))
        finally:
            conn.close()

    threads = [
        threading.Thread(target=worker, args=(u, n), daemon=True)
        for u in users
        for n in range(threads_per_user)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a client thread is stuck"
    assert errors == [], errors
    total = len(users) * threads_per_user * per_thread
    assert len(results) == total
    bad = [(uid, st) for uid, st, _ in results if st != 201]
    assert bad == [], f"{len(bad)} creates failed: {bad[:5]}"

    rows = outbox_rows(server)
    assert len(rows_of(rows, TASK_EVENTS)) == total
    assert len(rows_of(rows, TASK_UPDATES)) == total
    assert rows_of(rows, REMINDERS) == []
    assert_offsets_gapless(rows)
    per_user = total // len(users)
    for u in users:
        tu = rows_of(rows, TASK_UPDATES, key=u.id)
        assert len({r.partition for r in tu}) == 1
        seqs = [r.data["user_seq"] for r in tu]  # offset order
        assert seqs == list(range(1, per_user + 1)), f"user_seq in commit order should be 1..{per_user}: {seqs}"
        created_ids = {b["id"] for uid, _, b in results if uid == u.id}
        assert {r.data["task_id"] for r in tu} == created_ids
        te_ids = {r.key for r in rows_of(rows, TASK_EVENTS) if r.data["user_id"] == u.id}
        assert te_ids == created_ids
        resp = server.get("/api/sync", token=u.access_token)
        assert resp.status == 200, resp
        assert int(resp.body["cursor"]) == per_user
        assert len(resp.body["items"]) == per_user

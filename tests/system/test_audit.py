"""The audit service inside `todo serve`: every task event becomes one hash-chained audit entry;
GET /api/audit-logs (own entries for users, everyone's for admins), GET /api/tasks/{id}/history,
GET /api/audit-logs/verify (admins), and tampering found by verify.

The contract is docs/api/audit.md and docs/adr/0007-audit-hash-chain.md. Entries appear
asynchronously (the audit consumer reads the event log), so every check first polls with a
deadline. Admins are made with `todo admin set-role`, as an operator would, while the server
runs; the audit routes read the role on every request, so the user's existing token is enough."""

import hashlib
import json
import sqlite3

from task_harness import instant, new_api, outbox_rows, query_string, rows_of
from todo_harness import (
    RFC3339_UTC_RE,
    UUID7_RE,
    assert_problem,
    open_db,
    poll_until,
    run_cli,
    sql,
    wait_consumed,
)

DEADLINE = 30.0  # seconds for the consumer to catch up; only turns a hang into a failure
ENTRY_KEYS = {
    "id", "event_id", "event_type", "user_id", "actor", "task_id", "sequence", "event_time",
    "recorded_at", "task", "changes", "prev_hash", "hash",
}
CANONICAL_KEYS = (
    "id", "event_id", "event_type", "user_id", "actor", "task_id", "sequence", "event_time",
    "recorded_at", "payload", "prev_hash",
)
ZEROS = "0" * 64


# --------------------------------------------------------------------------------------------
# helpers


def make_admin(todo_bin, api):
    r = run_cli(todo_bin, ["admin", "set-role", "--data-dir", api.server.data_dir,
                           "--email", api.user.email, "--role", "admin"])
    assert r.returncode == 0, (r.stdout, r.stderr)
    return api


def logs_resp(api, params=None):
    return api.get("/api/audit-logs" + query_string(params))


def logs(api, params=None):
    resp = logs_resp(api, params)
    assert resp.status == 200, resp
    body = resp.body
    assert set(body) == {"items", "next_cursor"}, body
    for e in body["items"]:
        assert_entry(e)
    return body


def history_resp(api, task_id, params=None):
    return api.get(f"/api/tasks/{task_id}/history" + query_string(params))


def history(api, task_id, count):
    """The task's history once it has `count` entries (polled with a deadline)."""
    def reached():
        resp = history_resp(api, task_id, {"limit": 500})
        assert resp.status in (200, 404), resp
        return resp.body["items"] if resp.status == 200 and len(resp.body["items"]) >= count else None

    items = poll_until(reached, f"the history of {task_id} to reach {count} entries", DEADLINE)
    for e in items:
        assert_entry(e)
    return items


def assert_entry(e):
    assert set(e) == ENTRY_KEYS, f"entry keys differ: {sorted(set(e) ^ ENTRY_KEYS)}: {e!r}"
    assert isinstance(e["id"], int) and e["id"] >= 1, e
    assert UUID7_RE.match(e["event_id"]), e
    assert e["event_type"] in ("task.created", "task.updated", "task.completed", "task.deleted"), e
    assert RFC3339_UTC_RE.match(e["event_time"]) and RFC3339_UTC_RE.match(e["recorded_at"]), e
    assert instant(e["recorded_at"]) >= instant(e["event_time"]), e
    assert isinstance(e["task"], dict) and isinstance(e["changes"], dict), e
    assert "changed_fields" not in e["task"], e
    for h in (e["prev_hash"], e["hash"]):
        assert len(h) == 64 and all(c in "0123456789abcdef" for c in h), e
    return e


def walk(api, params, limit):
    items, cursor = [], None
    for _ in range(1000):
        p = dict(params, limit=limit)
        if cursor:
            p["cursor"] = cursor
        body = logs(api, p)
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("more than 1000 pages")


def lifecycle(api):
    """create, update (title; description cleared), complete, delete: returns the task id."""
    task = api.create("Audit me", description="first words", priority="low")
    api.update(task["id"], {"title": "Audited", "description": None})
    assert api.complete(task["id"]).status == 200
    assert api.remove(task["id"]).status == 204
    return task["id"]


def chain_rows(server):
    conn = open_db(server.data_dir)
    try:
        conn.row_factory = sqlite3.Row
        anchor = conn.execute("SELECT hash FROM audit_anchor").fetchone()["hash"]
        rows = [dict(r) for r in conn.execute(
            "SELECT id, event_id, event_type, user_id, actor, task_id, sequence, event_time, "
            "recorded_at, payload, prev_hash, hash FROM audit_logs ORDER BY id")]
        return anchor, rows
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# tests


def test_every_change_is_recorded_once_with_snapshot_and_changes(server, api):
    task_id = lifecycle(api)
    entries = history(api, task_id, 4)
    assert [e["event_type"] for e in entries] == [
        "task.created", "task.updated", "task.completed", "task.deleted"]
    assert [e["sequence"] for e in entries] == [1, 2, 3, 4]
    for e in entries:
        assert e["task_id"] == task_id and e["user_id"] == api.id, e
        assert e["actor"] == f"user:{api.id}", e
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids), "history is oldest first"

    # One entry per task-events event of this task, with the event's id and time.
    events = rows_of(outbox_rows(server), "task-events", key=task_id)
    assert sorted(e["event_id"] for e in entries) == sorted(r.event_id for r in events)
    times = {r.event_id: r.event["time"] for r in events}
    for e in entries:
        assert instant(e["event_time"]) == instant(times[e["event_id"]]), e
    wait_consumed(server.data_dir, "audit-service")  # a duplicate would be there by now
    assert len(history(api, task_id, 4)) == 4

    created, updated, completed, deleted = entries
    assert created["task"]["title"] == "Audit me" and created["task"]["priority"] == "low"
    assert created["task"]["description"] == "first words"
    assert created["changes"] == {}
    assert updated["task"]["title"] == "Audited" and "description" not in updated["task"]
    assert updated["changes"] == {"title": {"old": "Audit me", "new": "Audited"},
                                  "description": {"old": "first words"}}
    assert completed["changes"] == {"status": {"old": "pending", "new": "completed"}}
    assert deleted["task"]["title"] == "Audited" and deleted["task"]["status"] == "completed"
    assert deleted["changes"] == {}


def test_a_user_sees_only_their_own_entries(api, other_api):
    mine = api.create("mine")["id"]
    theirs = other_api.create("theirs")["id"]
    history(api, mine, 1)
    history(other_api, theirs, 1)
    items = walk(api, {}, 500)
    assert items and all(e["user_id"] == api.id for e in items), items
    assert mine in {e["task_id"] for e in items}
    assert logs(api, {"user_id": api.id})["items"] == logs(api)["items"]
    assert logs(api, {"task_id": theirs})["items"] == []
    body = assert_problem(logs_resp(api, {"user_id": other_api.id}), 403, "forbidden")
    assert "admin" in body["detail"]


def test_an_admin_sees_everyone_and_can_pick_a_user(todo_bin, api, other_api):
    make_admin(todo_bin, api)  # read from the users table on every request: no new token needed
    mine = api.create("admin's")["id"]
    theirs = other_api.create("user's")["id"]
    history(api, mine, 1)
    history(other_api, theirs, 1)
    everyone = walk(api, {}, 500)
    users = {e["user_id"] for e in everyone}
    assert {api.id, other_api.id} <= users, users
    ids = [e["id"] for e in everyone]
    assert ids == sorted(ids, reverse=True), "the list is newest first"
    only = logs(api, {"user_id": other_api.id, "limit": 500})["items"]
    assert only and {e["user_id"] for e in only} == {other_api.id}
    assert theirs in {e["task_id"] for e in only}


def test_filters_pages_and_bad_parameters(api):
    first = api.create("one")["id"]
    api.update(first, {"title": "one!"})
    second = api.create("two")["id"]
    assert api.complete(second).status == 200
    history(api, first, 2)
    history(api, second, 2)

    created = logs(api, {"event_type": "task.created"})["items"]
    assert {e["task_id"] for e in created} >= {first, second}
    assert all(e["event_type"] == "task.created" for e in created)
    assert [e["event_type"] for e in logs(api, {"task_id": first})["items"]] == [
        "task.updated", "task.created"]

    everything = walk(api, {}, 500)
    newest = everything[0]["event_time"]
    oldest = everything[-1]["event_time"]
    assert walk(api, {"start_date": oldest, "end_date": newest}, 500) == everything
    assert walk(api, {"start_date": newest}, 500)[0] == everything[0]  # inclusive
    assert logs(api, {"end_date": "2000-01-01"})["items"] == []
    # Dates mean whole UTC days.
    assert walk(api, {"start_date": oldest[:10], "end_date": newest[:10]}, 500) == everything
    for limit in (1, 2, 3):
        assert walk(api, {}, limit) == everything, limit

    resp = logs_resp(api, {"event_type": "created", "start_date": "soon", "limit": 0})
    body = assert_problem(resp, 400, "bad-request")
    assert {e["field"] for e in body["errors"]} == {"event_type", "start_date", "limit"}
    body = assert_problem(logs_resp(api, {"cursor": "forged.cursor"}), 400, "bad-request")
    assert {e["field"] for e in body["errors"]} == {"cursor"}


def test_history_is_the_owners_oldest_first_and_outlives_the_task(api, other_api):
    task_id = lifecycle(api)
    entries = history(api, task_id, 4)
    assert api.task_resp(task_id).status == 404  # the task is gone, its history is not
    assert entries[0]["prev_hash"] != entries[0]["hash"]
    assert_problem(history_resp(other_api, task_id), 404, "task-not-found")
    assert_problem(history_resp(api, "01900000-0000-7000-8000-000000000000"), 404, "task-not-found")
    page = history_resp(api, task_id, {"limit": 3}).body
    assert [e["id"] for e in page["items"]] == [e["id"] for e in entries[:3]]
    rest = history_resp(api, task_id, {"limit": 3, "cursor": page["next_cursor"]}).body
    assert [e["id"] for e in rest["items"]] == [entries[3]["id"]] and rest["next_cursor"] is None


def test_verify_is_for_admins_and_reports_a_valid_chain(todo_bin, server, api, other_api):
    task_id = lifecycle(api)
    history(api, task_id, 4)
    assert_problem(other_api.get("/api/audit-logs/verify"), 403, "forbidden")
    make_admin(todo_bin, api)
    resp = api.get("/api/audit-logs/verify")
    assert resp.status == 200, resp
    count, low, high = sql(server.data_dir, "SELECT COUNT(*), MIN(id), MAX(id) FROM audit_logs")[0]
    assert resp.body["valid"] is True, resp.body
    assert resp.body["entries_checked"] >= 4
    assert resp.body["entries_checked"] <= count  # entries may arrive between the two reads
    assert resp.body["oldest_id"] == low and resp.body["newest_id"] <= high
    assert resp.body["anchor"] == ZEROS
    assert "first_broken" not in resp.body


def test_an_outside_tool_verifies_the_chain_as_adr_7_describes(server, api):
    lifecycle(api)
    api.create('naïve "quotes" \\ – €', description="new\nlines and\ttabs")
    events = len(rows_of(outbox_rows(server), "task-events"))
    poll_until(lambda: sql(server.data_dir, "SELECT COUNT(*) FROM audit_logs")[0][0] >= events,
               "the audit consumer to catch up", DEADLINE)
    anchor, rows = chain_rows(server)
    assert anchor == ZEROS and rows
    prev = anchor
    for row in rows:
        canonical = json.dumps({k: row[k] for k in CANONICAL_KEYS}, ensure_ascii=False,
                               separators=(",", ":"))
        assert row["prev_hash"] == prev, row
        assert row["hash"] == hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest(), row
        prev = row["hash"]


def test_verify_names_an_edited_entry(todo_bin, make_server):
    srv = make_server()
    api = new_api(srv)
    task_id = lifecycle(api)
    entries = history(api, task_id, 4)
    make_admin(todo_bin, api)
    assert api.get("/api/audit-logs/verify").body["valid"] is True

    forged = json.dumps({"task": {"title": "nothing happened"}, "changes": {}})
    sql(srv.data_dir, "UPDATE audit_logs SET payload = ? WHERE id = ?", (forged, entries[1]["id"]), write=True)
    resp = api.get("/api/audit-logs/verify")
    assert resp.status == 200, resp
    assert resp.body["valid"] is False, resp.body
    assert resp.body["first_broken"] == {"id": entries[1]["id"], "reason": "hash mismatch"}
    # The edited entry is still listed (with what it now says), and verify keeps naming it.
    listed = history(api, task_id, 4)
    assert listed[1]["task"] == {"title": "nothing happened"}

    sql(srv.data_dir, "DELETE FROM audit_logs WHERE id = ?", (entries[1]["id"],), write=True)
    resp = api.get("/api/audit-logs/verify")
    assert resp.body["first_broken"] == {
        "id": entries[2]["id"], "reason": "prev_hash does not match the previous entry"}


def test_openapi_documents_the_audit_routes(server):
    resp = server.get("/openapi.json")
    assert resp.status == 200, resp
    paths = resp.body["paths"]
    for path in ("/api/audit-logs", "/api/audit-logs/verify", "/api/tasks/{id}/history"):
        assert "get" in paths.get(path, {}), f"{path} is not documented"
        assert "200" in paths[path]["get"]["responses"], path
    names = {p["name"] for p in paths["/api/audit-logs"]["get"]["parameters"]}
    assert names == {"user_id", "task_id", "event_type", "start_date", "end_date", "limit", "cursor"}

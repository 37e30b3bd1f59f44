"""Helpers of the black-box tests of the tasks API (docs/api/tasks.md is the contract).

A per-user API client (TaskApi), checks of the task object, RFC 3339 parsing, the field names of
problem `errors`, and a read-only view of the server's `outbox` table (<data dir>/todo.db, read
with the sqlite3 module while the server runs: the database is in WAL mode).

Standard library only, plus pytest.
"""

import datetime
import json
import os
import re
import sqlite3
import urllib.parse
import uuid

import pytest

from todo_harness import POSTGRES, RFC3339_UTC_RE, UUID7_RE, assert_problem, auth, open_db, register

UTC = datetime.timezone.utc

# Every member of the task object, exactly (docs/api/tasks.md, "The task object").
TASK_KEYS = frozenset(
    {
        "id",
        "user_id",
        "title",
        "description",
        "status",
        "priority",
        "tags",
        "due_date",
        "all_day",
        "timezone",
        "recurrence",
        "recurrence_mode",
        "series_id",
        "reminders",
        "version",
        "created_at",
        "updated_at",
        "completed_at",
    }
)

STATUSES = ("pending", "completed")
PRIORITIES = ("high", "medium", "low")
RECURRENCE_MODES = ("due", "strict", "completion")

# --------------------------------------------------------------------------------------------
# time

_INSTANT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")


def instant(value):
    """An RFC 3339 UTC timestamp ending in Z, as an aware datetime (fractions cut to µs)."""
    assert isinstance(value, str), f"a timestamp must be a string: {value!r}"
    m = _INSTANT_RE.match(value)
    assert m and RFC3339_UTC_RE.match(value), f"not an RFC 3339 UTC instant ending in Z: {value!r}"
    y, mo, d, h, mi, s, frac = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=UTC)


def utc(text):
    """Expected values: '2026-12-01T08:00:00' (UTC, no suffix) as an aware datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def now_utc():
    return datetime.datetime.now(UTC)


def assert_recent(value, seconds=300):
    t = instant(value)
    now = now_utc()
    assert abs((now - t).total_seconds()) < seconds, f"{value} is not close to now ({now.isoformat()})"
    return t


# --------------------------------------------------------------------------------------------
# the task object


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def assert_task(t, user_id=None):
    """Shape and types of a task object (every key present, no other key)."""
    assert isinstance(t, dict), f"a task must be a JSON object: {t!r}"
    assert set(t) == TASK_KEYS, (
        f"task keys differ: missing {sorted(TASK_KEYS - set(t))}, extra {sorted(set(t) - TASK_KEYS)}: {t!r}"
    )
    assert isinstance(t["id"], str) and UUID7_RE.match(t["id"]), f"id is not a UUIDv7: {t!r}"
    assert isinstance(t["user_id"], str) and t["user_id"], t
    if user_id is not None:
        assert t["user_id"] == user_id, t
    assert isinstance(t["title"], str) and t["title"], t
    assert t["description"] is None or isinstance(t["description"], str), t
    assert t["status"] in STATUSES, t
    assert t["priority"] in PRIORITIES, t
    assert isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"]), t
    if t["due_date"] is not None:
        instant(t["due_date"])
    assert isinstance(t["all_day"], bool), t
    if t["all_day"]:
        assert t["due_date"] is not None, f"an all-day task has a due date: {t!r}"
    assert isinstance(t["timezone"], str) and t["timezone"], t
    assert t["recurrence"] is None or (isinstance(t["recurrence"], str) and t["recurrence"]), t
    assert t["recurrence_mode"] in RECURRENCE_MODES, t
    assert t["series_id"] is None or isinstance(t["series_id"], str), t
    assert isinstance(t["reminders"], list) and all(_is_int(x) for x in t["reminders"]), t
    assert t["reminders"] == sorted(set(t["reminders"])), f"reminders not sorted and unique: {t!r}"
    assert _is_int(t["version"]) and t["version"] >= 1, t
    instant(t["created_at"])
    instant(t["updated_at"])
    if t["status"] == "completed":
        instant(t["completed_at"])
    else:
        assert t["completed_at"] is None, f"a pending task has no completed_at: {t!r}"
    return t


def etag(version):
    return f'"{version}"'


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


# --------------------------------------------------------------------------------------------
# problems


def _base_field(name):
    """'tags[2]', 'tags.2' and '/tags/2' all name the field 'tags'."""
    name = name.lstrip("/")
    return re.split(r"[\[./]", name, maxsplit=1)[0]


def error_list(body):
    errs = body.get("errors")
    assert isinstance(errs, list) and errs, f"the problem needs a non-empty errors list: {body!r}"
    for e in errs:
        assert isinstance(e, dict), body
        assert isinstance(e.get("field"), str) and e["field"], body
        assert isinstance(e.get("reason"), str) and e["reason"], body
    return errs


def field_names(body):
    """The top-level field names of a problem's `errors` (an element's error names its list)."""
    return {_base_field(e["field"]) for e in error_list(body)}


def assert_invalid(resp, fields, instance=None):
    """422 validation-error whose errors name exactly these (top-level) fields."""
    body = assert_problem(resp, 422, "validation-error", instance)
    got = field_names(body)
    assert got == set(fields), f"errors should name exactly {sorted(fields)}, got {sorted(got)}: {body!r}"
    return body


def assert_bad_query(resp, fields):
    """400 bad-request whose errors name exactly these query parameters."""
    body = assert_problem(resp, 400, "bad-request")
    got = field_names(body)
    assert got == set(fields), f"errors should name exactly {sorted(fields)}, got {sorted(got)}: {body!r}"
    return body


def assert_task_not_found(resp):
    return assert_problem(resp, 404, "task-not-found")


# --------------------------------------------------------------------------------------------
# the API as one user sees it


def query_string(params):
    """params: None, a dict (list values repeat the parameter) or a list of pairs."""
    if not params:
        return ""
    pairs = []
    items = params.items() if isinstance(params, dict) else params
    for k, v in items:
        if isinstance(v, (list, tuple)):
            pairs += [(k, str(x)) for x in v]
        else:
            pairs.append((k, v if isinstance(v, str) else json.dumps(v) if isinstance(v, bool) else str(v)))
    return "?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


class TaskApi:
    """Requests of one user (its access token on every request)."""

    def __init__(self, server, user):
        self.server = server
        self.user = user

    @property
    def id(self):
        return self.user.id

    @property
    def token(self):
        return self.user.access_token

    def request(self, method, path, body=None, headers=None, raw_body=None):
        return self.server.request(method, path, body=body, headers=auth(self.token, headers), raw_body=raw_body)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, body=None, headers=None, raw_body=None):
        return self.request("POST", path, body=body, headers=headers, raw_body=raw_body)

    def patch(self, path, body=None, headers=None, raw_body=None):
        return self.request("PATCH", path, body=body, headers=headers, raw_body=raw_body)

    def put(self, path, body=None, headers=None, raw_body=None):
        return self.request("PUT", path, body=body, headers=headers, raw_body=raw_body)

    def delete(self, path, headers=None):
        return self.request("DELETE", path, headers=headers)

    # -- tasks ------------------------------------------------------------------------------

    def create_resp(self, body, headers=None):
        return self.post("/api/tasks", body, headers=headers)

    def create(self, title=None, **fields):
        """POST /api/tasks (201 asserted); returns the task."""
        body = {"title": title if title is not None else f"task {uuid.uuid4().hex[:8]}"}
        body.update(fields)
        resp = self.create_resp(body)
        assert resp.status == 201, f"create failed: {resp!r}"
        return assert_task(resp.body, self.id)

    def task_resp(self, task_id, headers=None):
        return self.get(f"/api/tasks/{task_id}", headers=headers)

    def task(self, task_id):
        """GET /api/tasks/{id} (200 asserted); returns the task."""
        resp = self.task_resp(task_id)
        assert resp.status == 200, resp
        return assert_task(resp.body, self.id)

    def update(self, task_id, changes, headers=None):
        """PATCH (200 asserted); returns the task."""
        resp = self.patch(f"/api/tasks/{task_id}", changes, headers=headers)
        assert resp.status == 200, resp
        return assert_task(resp.body, self.id)

    def complete(self, task_id, headers=None):
        return self.post(f"/api/tasks/{task_id}/complete", headers=headers)

    def reopen(self, task_id, headers=None):
        return self.post(f"/api/tasks/{task_id}/reopen", headers=headers)

    def remove(self, task_id, headers=None):
        return self.delete(f"/api/tasks/{task_id}", headers=headers)

    # -- lists ------------------------------------------------------------------------------

    def list_resp(self, params=None):
        return self.get("/api/tasks" + query_string(params))

    def page(self, params=None):
        """One page of GET /api/tasks (200 and shape asserted): the response body."""
        resp = self.list_resp(params)
        assert resp.status == 200, resp
        body = resp.body
        assert isinstance(body, dict) and "items" in body and "next_cursor" in body, resp
        assert isinstance(body["items"], list), body
        assert body["next_cursor"] is None or (isinstance(body["next_cursor"], str) and body["next_cursor"]), body
        for t in body["items"]:
            assert_task(t, self.id)
        return body

    def ids(self, params=None):
        """Ids of one page (limit 500 unless params give one), in the server's order."""
        p = dict(params or {})
        p.setdefault("limit", 500)
        return [t["id"] for t in self.page(p)["items"]]

    def walk(self, params, limit):
        """Every page of a listing with this limit; returns (items, pages)."""
        base = [(k, v) for k, v in (params.items() if isinstance(params, dict) else params)]
        items, pages, cursor = [], [], None
        for _ in range(1000):
            p = base + [("limit", limit)] + ([("cursor", cursor)] if cursor is not None else [])
            body = self.page(p)
            page = body["items"]
            assert len(page) <= limit, body
            pages.append(page)
            items += page
            cursor = body["next_cursor"]
            if cursor is None:
                return items, pages
            assert len(page) == limit, f"a page before the last is full: {body!r}"
        pytest.fail("more than 1000 pages")

    def sync_resp(self, params=None):
        return self.get("/api/sync" + query_string(params))

    def sync(self, params=None):
        """GET /api/sync (200 and shape asserted): the response body."""
        resp = self.sync_resp(params)
        assert resp.status == 200, resp
        body = resp.body
        assert isinstance(body, dict), resp
        for key in ("items", "cursor", "has_more"):
            assert key in body, f"sync answer lacks {key!r}: {body!r}"
        assert isinstance(body["items"], list) and isinstance(body["has_more"], bool), body
        cursor_int(body["cursor"])
        return body


def cursor_int(cursor):
    """The sync cursor is the user's change counter: an integer (or its decimal text)."""
    assert (_is_int(cursor)) or (isinstance(cursor, str) and cursor.isdigit()), (
        f"sync cursor should be the change counter: {cursor!r}"
    )
    return int(cursor)


def new_api(server, **register_fields):
    """The tasks API of a freshly registered user (uuid e-mail)."""
    return TaskApi(server, register(server, **register_fields))


def set_me(api, **changes):
    resp = api.server.patch("/api/me", changes, token=api.token)
    assert resp.status == 200, resp
    return resp.body


# --------------------------------------------------------------------------------------------
# the outbox (read-only)

OUTBOX_COLUMNS = 'topic, "partition", "offset", key, event_id, payload, created_at, shipped_at'


class OutboxRow:
    def __init__(self, rowid, topic, partition, offset, key, event_id, payload, created_at, shipped_at):
        self.rowid = rowid
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.event_id = event_id
        self.payload = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
        self.created_at = created_at
        self.shipped_at = shipped_at
        try:
            self.event = json.loads(self.payload)
        except (TypeError, ValueError):
            self.event = None

    @property
    def type(self):
        return (self.event or {}).get("type")

    @property
    def data(self):
        return (self.event or {}).get("data")

    def __repr__(self):
        return (
            f"<outbox {self.topic}/{self.partition}@{self.offset} key={self.key} "
            f"rowid={self.rowid} {self.payload}>"
        )


def db_path(server):
    return os.path.join(server.data_dir, "todo.db")


def outbox_rows(server):
    """Every outbox row, ordered by (topic, partition, offset)."""
    path = db_path(server)
    if POSTGRES:  # no rowid; errors are the driver's own, with their message
        conn = open_db(server.data_dir)
        try:
            rows = [OutboxRow(*r) for r in conn.execute(f"SELECT NULL, {OUTBOX_COLUMNS} FROM outbox").fetchall()]
        finally:
            conn.close()
        rows.sort(key=lambda r: (r.topic, r.partition, r.offset))
        return rows
    try:
        conn = open_db(server.data_dir)
    except sqlite3.Error as e:
        pytest.fail(f"cannot open {path} read-only: {e}", pytrace=False)
    error = None
    try:
        try:
            cur = conn.execute(f"SELECT rowid, {OUTBOX_COLUMNS} FROM outbox")
        except sqlite3.OperationalError as e:
            if "rowid" not in str(e):
                raise
            cur = conn.execute(f"SELECT NULL, {OUTBOX_COLUMNS} FROM outbox")  # WITHOUT ROWID
        rows = [OutboxRow(*r) for r in cur.fetchall()]
    except sqlite3.Error as e:
        error = f"cannot read the outbox table of {path}: {e}"
    finally:
        conn.close()
    if error:
        pytest.fail(error, pytrace=False)
    rows.sort(key=lambda r: (r.topic, r.partition, r.offset))
    return rows


def rows_of(rows, topic, key=None, task_id=None):
    """Rows of one topic (optionally one key, or one data.task_id), in (partition, offset) order."""
    out = []
    for r in rows:
        if r.topic != topic:
            continue
        if key is not None and r.key != key:
            continue
        if task_id is not None and (r.data or {}).get("task_id") != task_id:
            continue
        out.append(r)
    return out


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def assert_cloudevent(row, etype, subject):
    """The structured CloudEvent of an outbox row."""
    ev = row.event
    assert isinstance(ev, dict), f"payload is not a JSON object: {row!r}"
    assert ev.get("specversion") == "1.0", row
    assert ev.get("type") == etype, f"expected type {etype}: {row!r}"
    assert ev.get("source") == "todo-api", row
    assert isinstance(ev.get("id"), str) and _UUID_RE.match(ev["id"]), f"id is not a UUID: {row!r}"
    assert row.event_id == ev["id"], f"event_id column differs from the event's id: {row!r}"
    instant(ev.get("time"))
    assert ev.get("datacontenttype") == "application/json", row
    assert ev.get("subject") == subject, f"subject should be {subject}: {row!r}"
    assert isinstance(ev.get("data"), dict), row
    return ev["data"]


def assert_no_nulls(value, where="data"):
    """Optional members of event payloads are absent, never null."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert v is not None, f"{where}.{k} is null (optional members must be absent)"
            assert_no_nulls(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_no_nulls(v, f"{where}[{i}]")


def assert_offsets_gapless(rows):
    """Per (topic, partition): offsets 0..n-1, and offset order is insertion (rowid) order."""
    groups = {}
    for r in rows:
        groups.setdefault((r.topic, r.partition), []).append(r)
    for (topic, partition), group in groups.items():
        offsets = sorted(r.offset for r in group)
        assert offsets == list(range(len(group))), (
            f"offsets of {topic}/{partition} are not gapless from 0: {offsets}"
        )
        if all(r.rowid is not None for r in group):
            by_rowid = [r.offset for r in sorted(group, key=lambda r: r.rowid)]
            assert by_rowid == offsets, f"{topic}/{partition}: offsets are not in insertion order: {by_rowid}"
    return groups

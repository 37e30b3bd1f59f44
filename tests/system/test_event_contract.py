"""The CloudEvents contract (DESIGN §5): every event the API writes to the outbox matches its
topic's JSON Schema in docs/events/, and carries what the API's own answers say it must.

One module-wide session drives the real binary through the HTTP API until every event type has
been produced (two users, interleaved), remembering each answer. The tests then read every outbox
row from <data dir>/todo.db and check it: against the schema (jsonschema, Draft 2020-12, with a
FormatChecker), and against the change that caused it (what a schema cannot say: ids, times,
sequences, old values, the recurrence mapping, the reminder instants). The last tests break valid
events on purpose to show that the schemas reject what they must."""

import copy
import datetime
import functools
import json
import os

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from task_harness import instant, new_api, now_utc, outbox_rows, set_me

TASK_EVENTS = "task-events"
TASK_UPDATES = "task-updates"
REMINDERS = "reminders"
TOPICS = (TASK_EVENTS, TASK_UPDATES, REMINDERS)

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "events")

# The editable fields of the task object, the names changed_fields and before use.
EDITABLE = (
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
    "reminders",
)
CLOCK_SLACK = datetime.timedelta(seconds=2)
DUE = "2026-12-01T09:00:00Z"


def load_schema(topic):
    with open(os.path.join(SCHEMA_DIR, f"{topic}.schema.json"), encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def validator(topic):
    return Draft202012Validator(load_schema(topic), format_checker=FormatChecker())


def schema_errors(topic, event):
    """Every violation of the topic's schema, as readable lines (empty when valid)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<event>'}: {e.message}"
        for e in sorted(validator(topic).iter_errors(event), key=lambda e: list(map(str, e.absolute_path)))
    ]


# --------------------------------------------------------------------------------------------
# the session: every request, and the task before and after it


class Change:
    def __init__(self, api, action, old, new, started, finished):
        self.api = api
        self.action = action  # created | updated | completed | deleted
        self.old = old  # the task object before (None on create)
        self.new = new  # the task object after (None on delete)
        self.started = started
        self.finished = finished

    @property
    def task(self):
        return self.new if self.new is not None else self.old

    @property
    def task_id(self):
        return self.task["id"]

    @property
    def version(self):
        return self.new["version"] if self.new is not None else self.old["version"] + 1

    def changed(self):
        """The editable fields the change touched, as task-events lists them."""
        if self.action == "created":
            return [f for f in EDITABLE if self.new[f] is not None]
        if self.action == "deleted":
            return []
        return [f for f in EDITABLE if self.old[f] != self.new[f]]

    def __repr__(self):
        return f"<{self.action} {self.task_id} v{self.version} {self.task['title']!r}>"


def reminder_instants(task):
    """The pending reminder instants of a task object (none when done, deleted or undated)."""
    if task is None or task["status"] == "completed" or task["due_date"] is None:
        return []
    due = instant(task["due_date"])
    return sorted({due - datetime.timedelta(minutes=m) for m in task["reminders"]})


class Session:
    def __init__(self):
        self.changes = []
        self.current = {}  # task id -> the latest task object
        self.ids = {}  # title at creation -> task id

    def _record(self, api, action, old, resp, status):
        assert resp.status == status, f"{action}: {resp!r}"
        new = resp.body if status != 204 else None
        if new is not None:
            assert isinstance(new, dict), resp
            assert new["version"] == (old["version"] + 1 if old else 1), (
                f"every step of the session must be a real change: {old!r} -> {new!r}"
            )
            self.current[new["id"]] = new
        return new

    def _run(self, api, action, old, call, status):
        started = now_utc()
        resp = call()
        finished = now_utc()
        new = self._record(api, action, old, resp, status)
        self.changes.append(Change(api, action, old, new, started, finished))
        return new

    def create(self, api, body):
        task = self._run(api, "created", None, lambda: api.create_resp(body), 201)
        self.ids[body["title"]] = task["id"]
        return task

    def patch(self, api, title, changes):
        old = self.current[self.ids[title]]
        action = "completed" if changes.get("status") == "completed" and old["status"] == "pending" else "updated"
        return self._run(api, action, old, lambda: api.patch(f"/api/tasks/{old['id']}", changes), 200)

    def put(self, api, title, body):
        old = self.current[self.ids[title]]
        return self._run(api, "updated", old, lambda: api.put(f"/api/tasks/{old['id']}", body), 200)

    def complete(self, api, title):
        old = self.current[self.ids[title]]
        return self._run(api, "completed", old, lambda: api.complete(old["id"]), 200)

    def reopen(self, api, title):
        old = self.current[self.ids[title]]
        return self._run(api, "updated", old, lambda: api.reopen(old["id"]), 200)

    def seed_toggle(self, api, title):
        old = self.current[self.ids[title]]
        action = "completed" if old["status"] == "pending" else "updated"
        path = f"/api/{api.id}/tasks/{old['id']}/complete"

        def toggle():
            toggled = api.patch(path)
            assert toggled.status == 200, toggled
            # The seed routes show "none" for no recurrence; the record keeps the tasks API's form.
            current = api.task_resp(old["id"])
            assert toggled.body == dict(current.body, recurrence=current.body["recurrence"] or "none"), (
                toggled, current)
            return current

        return self._run(api, action, old, toggle, 200)

    def delete(self, api, title):
        old = self.current.pop(self.ids[title])
        self._run(api, "deleted", old, lambda: api.remove(old["id"]), 204)


# Recurrence as created -> (recurring_pattern, recurring_interval, rrule) in task-events, or None
# for no recurrence. DESIGN §5: daily|weekly|monthly|custom, custom for yearly and every other
# rule (a rule that is only FREQ and INTERVAL keeps its frequency and carries the interval).
RECURRENCES = {
    "No recurrence": ("none", None),
    "Daily": ("daily", ("daily", 1, "FREQ=DAILY")),
    "Weekly": ("weekly", ("weekly", 1, "FREQ=WEEKLY")),
    "Monthly": ("monthly", ("monthly", 1, "FREQ=MONTHLY")),
    "Yearly": ("yearly", ("custom", 1, "FREQ=YEARLY")),
    "Every other Tuesday": ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", ("custom", 2, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")),
    "Quarterly": ("RRULE:freq=monthly;interval=3", ("monthly", 3, "FREQ=MONTHLY;INTERVAL=3")),
    "Five days": ("FREQ=DAILY;COUNT=5", ("custom", 1, "FREQ=DAILY;COUNT=5")),
    "Last Friday": ("FREQ=MONTHLY;BYDAY=-1FR", ("custom", 1, "FREQ=MONTHLY;BYDAY=-1FR")),
}


def drive(server):
    """The session: user A (UTC, no default reminders) and user B (Berlin, default reminders
    [10]) interleaved, covering every event type and every editable field."""
    s = Session()
    a = new_api(server)
    b = new_api(server, timezone="Europe/Berlin")
    set_me(b, default_reminders=[10])

    s.create(a, {"title": "Bare"})
    s.create(
        a,
        {
            "title": "Full",
            "description": "Transfer to the landlord",
            "due_date": DUE,
            "tags": ["Home", "money"],
            "priority": "high",
            "reminders": [60, 15],
            "recurrence": "none",
        },
    )
    s.create(b, {"title": "Berlin", "due_date": "2026-07-01T09:00"})  # wall time, default reminders
    for title, (recurrence, _) in RECURRENCES.items():
        s.create(a, {"title": title, "recurrence": recurrence, "due_date": DUE})
    s.create(a, {"title": "All day", "due_date": "2026-12-24", "timezone": "Europe/Berlin", "reminders": [0]})

    # every editable field of "Bare", one at a time, and the three that null clears
    s.patch(a, "Bare", {"title": "Bare renamed"})
    s.patch(a, "Bare", {"description": "Now described"})
    s.patch(b, "Berlin", {"title": "Berlin renamed", "tags": ["reise"]})
    s.patch(a, "Bare", {"priority": "low"})
    s.patch(a, "Bare", {"tags": ["a", "b"]})
    s.patch(a, "Bare", {"due_date": "2026-11-20T10:00:00Z"})  # no reminders yet: no reminders event
    s.patch(a, "Bare", {"reminders": [30, 5]})  # schedule
    s.patch(a, "Bare", {"due_date": "2026-11-21"})  # all-day now; reminders move
    s.patch(a, "Bare", {"timezone": "America/New_York"})
    s.patch(a, "Bare", {"recurrence": "weekly"})
    s.patch(a, "Bare", {"recurrence_mode": "completion"})
    s.patch(a, "Bare", {"recurrence": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"})
    s.patch(a, "Bare", {"description": None})
    s.patch(a, "Bare", {"recurrence": None})
    s.patch(a, "Bare", {"due_date": None})  # cancel
    s.patch(a, "Bare", {"status": "completed"})  # completed through PATCH
    s.patch(a, "Bare", {"status": "pending"})  # reopened through PATCH
    s.put(a, "Bare", {"title": "Replaced", "due_date": DUE, "reminders": [15]})  # schedule

    # a dated task's life: complete, reopen, reminders removed and back, delete
    s.complete(a, "Full")  # cancel
    s.seed_toggle(b, "Berlin")  # completed through the seed route; cancel
    s.reopen(a, "Full")  # schedule again
    s.patch(a, "Full", {"reminders": None})  # cancel
    s.patch(a, "Full", {"reminders": [5]})  # schedule
    s.patch(a, "Full", {"priority": "medium", "tags": None})  # no reminders event
    s.delete(a, "Full")  # cancel
    s.delete(b, "Berlin")  # already cancelled: no reminders event
    s.delete(a, "Bare")
    return s


@pytest.fixture(scope="module")
def session(server):
    return drive(server)


@pytest.fixture(scope="module")
def rows(server, session):
    users = {c.api.id for c in session.changes}
    out = []
    for r in outbox_rows(server):
        data = r.data if isinstance(r.data, dict) else {}
        if data.get("user_id") in users or r.key in users:
            out.append(r)
    assert out, "the session wrote no outbox rows"
    return out


def by_offset(rows, topic, key):
    return sorted((r for r in rows if r.topic == topic and r.key == key), key=lambda r: (r.partition, r.offset))


def task_event_pairs(session, rows):
    """(change, task-events row) for every change, matched per task in offset order."""
    pairs = []
    for task_id in dict.fromkeys(c.task_id for c in session.changes):
        changes = [c for c in session.changes if c.task_id == task_id]
        found = by_offset(rows, TASK_EVENTS, task_id)
        assert len(found) == len(changes), f"task {task_id}: {len(found)} task-events for {changes}: {found}"
        pairs += zip(changes, found)
    return pairs


def sync_pairs(session, rows):
    """(change, task-updates row) for every change, matched per user in offset order."""
    pairs = []
    for user_id in dict.fromkeys(c.api.id for c in session.changes):
        changes = [c for c in session.changes if c.api.id == user_id]
        found = by_offset(rows, TASK_UPDATES, user_id)
        assert len(found) == len(changes), f"user {user_id}: {len(found)} task-updates for {len(changes)} changes"
        pairs += zip(changes, found)
    return pairs


def expected_reminders(session):
    """task id -> [(change, "schedule"|"cancel", instants)] where the instants changed."""
    out = {}
    for c in session.changes:
        before, after = reminder_instants(c.old), reminder_instants(c.new)
        if before != after:
            kind = "schedule" if after else "cancel"
            out.setdefault(c.task_id, []).append((c, kind, after))
    return out


def reminder_pairs(session, rows):
    """(change, kind, instants, reminders row), matched per task in offset order."""
    expected = expected_reminders(session)
    pairs = []
    for task_id in dict.fromkeys(c.task_id for c in session.changes):
        want = expected.get(task_id, [])
        found = by_offset(rows, REMINDERS, task_id)
        assert len(found) == len(want), (
            f"task {task_id}: {len(found)} reminders events, expected {[(k, i) for _, k, i in want]}: {found}"
        )
        pairs += [(c, kind, instants, row) for (c, kind, instants), row in zip(want, found)]
    return pairs


def expected_recurrence(stored):
    """(recurring_pattern, recurring_interval, rrule) for the task object's recurrence."""
    if stored is None:
        return None
    for _, (preset, summary) in RECURRENCES.items():
        if stored == preset:
            return summary
    parts = dict(p.split("=", 1) for p in stored.split(";"))
    simple = set(parts) <= {"FREQ", "INTERVAL"} and parts["FREQ"] in ("DAILY", "WEEKLY", "MONTHLY")
    return (parts["FREQ"].lower() if simple else "custom", int(parts.get("INTERVAL", "1")), stored)


# --------------------------------------------------------------------------------------------
# the schemas


@pytest.mark.parametrize("topic", TOPICS)
def test_schema_is_a_valid_draft_2020_12_schema(topic):
    schema = load_schema(topic)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema", schema.get("$schema")
    Draft202012Validator.check_schema(schema)
    assert schema.get("additionalProperties") is False, "the envelope is closed"
    assert set(schema.get("required", [])) == {
        "specversion",
        "type",
        "source",
        "id",
        "time",
        "datacontenttype",
        "subject",
        "data",
    }


def test_the_session_produced_every_event_type(session, rows):
    seen = {(r.topic, r.type) for r in rows}
    assert seen == {
        (TASK_EVENTS, "com.todo.task.created"),
        (TASK_EVENTS, "com.todo.task.updated"),
        (TASK_EVENTS, "com.todo.task.completed"),
        (TASK_EVENTS, "com.todo.task.deleted"),
        (TASK_UPDATES, "com.todo.task.sync"),
        (REMINDERS, "com.todo.reminder.schedule"),
        (REMINDERS, "com.todo.reminder.cancel"),
    }, seen
    actions = {r.data["action"] for r in rows if r.topic == TASK_UPDATES}
    assert actions == {"created", "updated", "completed", "deleted"}, actions
    assert len([r for r in rows if r.topic == TASK_EVENTS]) == len(session.changes)
    assert len([r for r in rows if r.topic == TASK_UPDATES]) == len(session.changes)
    assert len([r for r in rows if r.topic == REMINDERS]) == sum(len(v) for v in expected_reminders(session).values())


def test_every_event_matches_its_topic_schema(rows):
    failures = []
    for r in rows:
        assert r.topic in TOPICS, f"an event on an unknown topic: {r!r}"
        assert isinstance(r.event, dict), f"payload is not a JSON object: {r!r}"
        for err in schema_errors(r.topic, r.event):
            failures.append(f"{r.topic} {r.type} {r.event_id}: {err}")
    assert not failures, f"{len(failures)} schema violations:\n" + "\n".join(failures[:40])


# --------------------------------------------------------------------------------------------
# what a schema cannot check


def test_envelope_ids_times_and_subjects(session, rows):
    pairs = [(c, r) for c, r in task_event_pairs(session, rows)]
    pairs += sync_pairs(session, rows)
    pairs += [(c, r) for c, _, _, r in reminder_pairs(session, rows)]
    assert len(pairs) == len(rows)
    for change, row in pairs:
        ev = row.event
        assert ev["id"] == row.event_id, f"the outbox event_id differs from the CloudEvent id: {row!r}"
        assert ev["subject"] == change.task_id == ev["data"]["task_id"], f"subject is the task id: {row!r}"
        assert ev["source"] == "todo-api", row
        t = instant(ev["time"])  # RFC 3339 with Z
        assert t.utcoffset() == datetime.timedelta(0)
        assert change.started - CLOCK_SLACK <= t <= change.finished + CLOCK_SLACK, (
            f"time {ev['time']} is outside its request ({change.started} .. {change.finished}): {row!r}"
        )
    ids = [r.event_id for r in rows]
    assert len(set(ids)) == len(ids), "event ids are unique"


def test_task_events_carry_the_change(session, rows):
    for change, row in task_event_pairs(session, rows):
        ev, data = row.event, row.data
        task = change.task
        assert ev["type"] == f"com.todo.task.{change.action}", (change, row)
        assert data["idempotency_key"] == ev["id"] == row.event_id, row
        assert data["task_id"] == task["id"] and data["user_id"] == change.api.id, row
        assert data["sequence"] == change.version, f"sequence is the task version {change.version}: {row!r}"
        assert data["actor"] == f"user:{change.api.id}", row
        p = data["payload"]
        for key in ("title", "status", "priority", "tags", "timezone", "recurrence_mode", "reminders"):
            assert p[key] == task[key], f"payload.{key} {p[key]!r} != {task[key]!r} in {change}"
        for key in ("description", "due_date", "series_id"):
            if task[key] is None:
                assert key not in p, f"payload.{key} must be absent in {change}: {p!r}"
            else:
                assert p[key] == task[key], f"payload.{key} {p.get(key)!r} != {task[key]!r} in {change}"
        summary = expected_recurrence(task["recurrence"])
        got = tuple(p.get(k) for k in ("recurring_pattern", "recurring_interval", "rrule"))
        if summary is None:
            assert got == (None, None, None), f"no recurrence: recurring_* and rrule absent in {change}: {p!r}"
        else:
            assert got == summary, f"{task['recurrence']!r} should map to {summary}, got {got}"


def test_recurring_pattern_mapping(session, rows):
    created = {c.task_id: r for c, r in task_event_pairs(session, rows) if c.action == "created"}
    for title, (recurrence, summary) in RECURRENCES.items():
        p = created[session.ids[title]].data["payload"]
        if summary is None:
            for key in ("recurring_pattern", "recurring_interval", "rrule"):
                assert key not in p, f"{recurrence}: payload.{key} must be absent: {p!r}"
            continue
        pattern, interval, rrule = summary
        assert p.get("recurring_pattern") == pattern, f"{recurrence} -> {pattern}: {p!r}"
        assert p.get("recurring_interval") == interval, f"{recurrence} -> interval {interval}: {p!r}"
        assert p.get("rrule") == rrule, f"{recurrence} -> rrule {rrule}: {p!r}"
        assert p.get("series_id") == session.ids[title], f"a first occurrence is its own series: {p!r}"


def test_changed_fields_and_before_hold_exactly_the_old_values(session, rows):
    touched, cleared = set(), set()
    for change, row in task_event_pairs(session, rows):
        p, before = row.data["payload"], row.data["before"]
        changed = change.changed()
        assert sorted(p["changed_fields"]) == sorted(changed), (
            f"changed_fields {p['changed_fields']} should be {changed} in {change}"
        )
        if change.action in ("created", "deleted"):
            assert before == {}, f"no old values on {change.action}: {before!r}"
            continue
        expected = {f: change.old[f] for f in changed if change.old[f] is not None}
        assert before == expected, f"before should be the old values {expected}, got {before!r} in {change}"
        touched |= set(changed)
        cleared |= {f for f in changed if change.new[f] is None}
    assert touched == set(EDITABLE), f"the session never changed {set(EDITABLE) - touched}"
    assert {"description", "due_date", "recurrence"} <= cleared, cleared


def test_task_updates_carry_new_values_the_task_and_a_dense_user_seq(session, rows):
    seqs = {}
    for change, row in sync_pairs(session, rows):
        data = row.data
        assert row.type == "com.todo.task.sync", row
        assert data["action"] == change.action, (change, row)
        assert data["task_id"] == change.task_id and data["user_id"] == change.api.id, row
        assert data["sequence"] == change.version, row
        seqs.setdefault(change.api.id, []).append(data["user_seq"])
        if change.action == "deleted":
            assert data["changed_fields"] == {} and "task" not in data, row
            continue
        fields = EDITABLE if change.action == "created" else change.changed()
        assert data["changed_fields"] == {f: change.new[f] for f in fields}, f"new values of {fields}: {row!r}"
        assert data["task"] == change.new, f"the snapshot is the API's task object: {row!r}"
    assert len(seqs) == 2
    for user_id, got in seqs.items():
        assert got == list(range(1, len(got) + 1)), f"user_seq of {user_id} grows by one per change: {got}"


def test_reminders_carry_the_full_schedule(session, rows):
    pairs = reminder_pairs(session, rows)
    assert {kind for _, kind, _, _ in pairs} == {"schedule", "cancel"}
    for change, kind, instants, row in pairs:
        data = row.data
        task = change.task
        assert row.type == f"com.todo.reminder.{kind}", f"{change}: expected {kind}: {row!r}"
        assert data["task_id"] == task["id"] and data["user_id"] == change.api.id, row
        assert data["title"] == task["title"], row
        assert data["timezone"] == task["timezone"], row
        assert data["user_email"] == change.api.user.email, row
        assert data["notification_channels"] == ["email"], row
        if task["due_date"] is None:
            assert "due_date" not in data, row
        else:
            assert data["due_date"] == task["due_date"], row
        assert [instant(x) for x in data["reminder_times"]] == instants, f"{change}: {instants}: {row!r}"
        if instants:
            assert instant(data["reminder_time"]) == instants[0], row
        else:
            assert "reminder_time" not in data, row


# --------------------------------------------------------------------------------------------
# the schemas are not vacuous: broken events fail


def _first(rows, topic, etype, where=lambda data: True):
    for r in rows:
        if r.topic == topic and r.type == etype and where(r.data):
            return r.event
    pytest.fail(f"the session has no {etype} event on {topic} matching the condition")


def _set(path, value):
    def mutate(ev, rows):
        *parents, last = path
        target = ev
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


def _drop(path):
    def mutate(ev, rows):
        *parents, last = path
        target = ev
        for key in parents:
            target = target[key]
        del target[last]

    return mutate


def _add_a_valid_task(ev, rows):
    """A deletion carrying a snapshot that is valid on its own: only 'absent on delete' can fail."""
    ev["data"]["task"] = copy.deepcopy(_first(rows, TASK_UPDATES, "com.todo.task.sync", lambda d: "task" in d)["data"]["task"])


def _dated(data):
    return "due_date" in data["payload"] and "description" in data["payload"]


def _recurring(data):
    return "recurring_pattern" in data["payload"]


def _with_before(data):
    return bool(data["before"])


BROKEN = [
    # (name, topic, type, which event, mutation)
    ("due_date null", TASK_EVENTS, "com.todo.task.created", _dated, _set(("data", "payload", "due_date"), None)),
    ("description null", TASK_EVENTS, "com.todo.task.created", _dated, _set(("data", "payload", "description"), None)),
    ("rrule null", TASK_EVENTS, "com.todo.task.created", _recurring, _set(("data", "payload", "rrule"), None)),
    ("subject missing", TASK_EVENTS, "com.todo.task.created", _dated, _drop(("subject",))),
    ("unknown priority", TASK_EVENTS, "com.todo.task.updated", _with_before, _set(("data", "payload", "priority"), "urgent")),
    ("unknown status", TASK_EVENTS, "com.todo.task.updated", _with_before, _set(("data", "payload", "status"), "archived")),
    ("yearly pattern", TASK_EVENTS, "com.todo.task.created", _recurring, _set(("data", "payload", "recurring_pattern"), "yearly")),
    ("interval as text", TASK_EVENTS, "com.todo.task.created", _recurring, _set(("data", "payload", "recurring_interval"), "1")),
    ("pattern without rrule", TASK_EVENTS, "com.todo.task.created", _recurring, _drop(("data", "payload", "rrule"))),
    ("fractional sequence", TASK_EVENTS, "com.todo.task.updated", _with_before, _set(("data", "sequence"), 2.5)),
    ("unknown changed field", TASK_EVENTS, "com.todo.task.updated", _with_before, _set(("data", "payload", "changed_fields"), ["colour"])),
    ("null in before", TASK_EVENTS, "com.todo.task.updated", _with_before, _set(("data", "before", "title"), None)),
    ("extra data member", TASK_EVENTS, "com.todo.task.deleted", lambda d: True, _set(("data", "note"), "x")),
    ("before on delete", TASK_EVENTS, "com.todo.task.deleted", lambda d: True, _set(("data", "before"), {"title": "x"})),
    ("time with an offset", TASK_EVENTS, "com.todo.task.created", _dated, _set(("time",), "2026-12-01T10:00:00.000+01:00")),
    ("time without a zone", TASK_EVENTS, "com.todo.task.created", _dated, _set(("time",), "2026-12-01T10:00:00.000")),
    ("id not a uuid", TASK_EVENTS, "com.todo.task.created", _dated, _set(("id",), "event-1")),
    ("old specversion", TASK_EVENTS, "com.todo.task.created", _dated, _set(("specversion",), "0.3")),
    ("other content type", TASK_EVENTS, "com.todo.task.created", _dated, _set(("datacontenttype",), "text/plain")),
    ("type of another topic", TASK_EVENTS, "com.todo.task.created", _dated, _set(("type",), "com.todo.task.sync")),
    ("task on delete", TASK_UPDATES, "com.todo.task.sync", lambda d: d["action"] == "deleted", _add_a_valid_task),
    ("unknown action", TASK_UPDATES, "com.todo.task.sync", lambda d: d["action"] == "updated", _set(("data", "action"), "archived")),
    ("unknown changed field", TASK_UPDATES, "com.todo.task.sync", lambda d: d["action"] == "updated", _set(("data", "changed_fields", "colour"), "red")),
    ("no user_seq", TASK_UPDATES, "com.todo.task.sync", lambda d: d["action"] == "updated", _drop(("data", "user_seq"))),
    ("no task on update", TASK_UPDATES, "com.todo.task.sync", lambda d: d["action"] == "updated", _drop(("data", "task"))),
    ("schedule without reminder_time", REMINDERS, "com.todo.reminder.schedule", lambda d: True, _drop(("data", "reminder_time"))),
    ("unknown channel", REMINDERS, "com.todo.reminder.schedule", lambda d: True, _set(("data", "notification_channels"), ["sms"])),
    ("due_date null", REMINDERS, "com.todo.reminder.schedule", lambda d: True, _set(("data", "due_date"), None)),
    ("cancel with instants", REMINDERS, "com.todo.reminder.cancel", lambda d: True, _set(("data", "reminder_times"), ["2026-12-01T08:00:00.000Z"])),
    ("not an e-mail", REMINDERS, "com.todo.reminder.cancel", lambda d: True, _set(("data", "user_email"), "nobody")),
]


@pytest.mark.parametrize("name, topic, etype, where, mutate", BROKEN, ids=[f"{b[1]}: {b[0]}" for b in BROKEN])
def test_schema_rejects_a_broken_event(rows, name, topic, etype, where, mutate):
    valid = _first(rows, topic, etype, where)
    assert schema_errors(topic, valid) == [], f"the unbroken event must be valid: {valid!r}"
    broken = copy.deepcopy(valid)
    mutate(broken, rows)
    assert broken != valid
    assert schema_errors(topic, broken), f"{name}: the {topic} schema accepts {json.dumps(broken)}"

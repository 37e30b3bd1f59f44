"""The operator commands: `todo events`, `todo dlq list|replay`, `todo admin set-role`.

Each runs as its own process against the data dir of a running `todo serve` (same SQLite file,
WAL). What they read is compared with the tables themselves, read (and, for consumer offsets,
dead letters and log rows no HTTP route creates, written) with python's sqlite3 module."""

import datetime
import json
import os
import queue
import signal
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest

from task_harness import new_api, outbox_rows, rows_of
from todo_harness import (
    POSTGRES,
    RFC3339_UTC_RE,
    _ALL_PROCESSES,
    cluster,
    backend_env,
    decode_jwt,
    login,
    open_db,
    register,
    run_cli,
    scrubbed_env,
    text,
    wait_consumed,
)

TASK_EVENTS = "task-events"
ENVELOPE_KEYS = {"topic", "partition", "offset", "key", "timestamp", "event"}
DEAD_LETTER_KEYS = {
    "id",
    "group",
    "topic",
    "partition",
    "offset",
    "key",
    "event_id",
    "error",
    "attempts",
    "failed_at",
    "status",
    "event",
}
LINE_TIMEOUT = 10.0  # seconds a --follow process has to print an expected line


# --------------------------------------------------------------------------------------------
# helpers


def todo(todo_bin, data_dir, *args):
    """`todo ARGS --data-dir DATA_DIR` to completion."""
    return run_cli(todo_bin, list(args) + ["--data-dir", str(data_dir)])


def ok_lines(result):
    """stdout of a successful run, as parsed JSON lines."""
    assert result.returncode == 0, (result.returncode, text(result.stdout), text(result.stderr))
    return [json.loads(line) for line in text(result.stdout).splitlines()]


def raw_lines(result):
    assert result.returncode == 0, (result.returncode, text(result.stdout), text(result.stderr))
    return text(result.stdout).splitlines()


def failure(result, code=1):
    """The one stderr line of a failed run, asserted to start with `todo:`."""
    err = text(result.stderr)
    assert result.returncode == code, (result.returncode, text(result.stdout), err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("todo: "), lines[0]
    return lines[0]


def connect(data_dir):
    return open_db(data_dir, write=True)


def execute(data_dir, sql, params=()):
    conn = connect(data_dir)
    try:
        with conn:
            conn.execute(sql, params)
    finally:
        conn.close()


def query(data_dir, sql, params=()):
    conn = connect(data_dir)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def now_micros():
    return int(time.time() * 1_000_000)


def micros_of(timestamp):
    """An RFC 3339 UTC timestamp as microseconds since the epoch."""
    dt = datetime.datetime.strptime(timestamp.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def heads(data_dir, topic):
    return dict(query(data_dir, 'SELECT "partition", next_offset FROM log_heads WHERE topic = ?', (topic,)))


def append_raw(data_dir, topic, partition, key, created_at, event=None):
    """Appends one message to the log the way the outbox does (head and row in one transaction),
    for topics no HTTP route writes to. Returns the CloudEvent appended."""
    event = event or {
        "specversion": "1.0",
        "type": "com.example.ops.test",
        "source": "/tests",
        "id": str(uuid.uuid4()),
        "time": "2026-01-01T00:00:00Z",
        "data": {"n": created_at},
    }
    conn = connect(data_dir)
    try:
        with conn:
            (offset,) = conn.execute(
                'INSERT INTO log_heads (topic, "partition", next_offset) VALUES (?, ?, 1) '
                'ON CONFLICT (topic, "partition") DO UPDATE SET next_offset = log_heads.next_offset + 1 '
                "RETURNING next_offset - 1",
                (topic, partition),
            ).fetchone()
            conn.execute(
                'INSERT INTO outbox (topic, "partition", "offset", key, event_id, payload, created_at) '
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (topic, partition, offset, key, event["id"], json.dumps(event, separators=(",", ":")), created_at),
            )
    finally:
        conn.close()
    return event


class Follower:
    """A `todo events --follow` process whose stdout lines arrive on a queue."""

    def __init__(self, todo_bin, data_dir, args):
        self.proc = subprocess.Popen(
            [todo_bin, "events", "--follow", "--data-dir", str(data_dir)] + list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=scrubbed_env(backend_env(data_dir, None)),
        )
        _ALL_PROCESSES.append(self.proc)
        self.lines = queue.Queue()
        self.logs = queue.Queue()
        self.threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.logs), daemon=True),
        ]
        for t in self.threads:
            t.start()

    @staticmethod
    def _pump(stream, lines):
        for line in iter(stream.readline, b""):
            lines.put(line.decode("utf-8").rstrip("\n"))

    def wait_following(self, timeout=LINE_TIMEOUT):
        """Waits for the log line saying every existing event has been printed."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                line = self.logs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no `following` log line within {timeout} s; stderr: {seen!r}", pytrace=False)
            seen.append(line)
            try:
                if json.loads(line).get("msg") == "following":
                    return
            except ValueError:
                pass

    def next_event(self, timeout=LINE_TIMEOUT):
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            pytest.fail(
                f"`todo events --follow` printed no expected line within {timeout} s "
                f"(exit code so far: {self.proc.poll()})",
                pytrace=False,
            )

    def wait_for(self, predicate, timeout=LINE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if predicate(event):
                return event

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"`todo events --follow` did not exit within {timeout} s of {sig!r}")
        for t in self.threads:
            t.join(5)
        return code


def make_tasks_in_every_partition(api, server):
    """Creates tasks until they have events in each of the 3 task-events partitions; returns
    {partition: id of the first task created in it}."""
    first = {}
    for _ in range(60):
        task = api.create()["id"]
        ((partition,),) = query(
            server.data_dir, 'SELECT DISTINCT "partition" FROM outbox WHERE topic = ? AND key = ?', (TASK_EVENTS, task)
        )
        first.setdefault(partition, task)
        if len(first) == 3:
            return first
    pytest.fail(f"60 tasks did not reach all 3 partitions: {first}")


# --------------------------------------------------------------------------------------------
# todo events


def test_events_from_beginning_prints_the_stored_cloudevents_of_a_session(todo_bin, server):
    api = new_api(server)
    a = api.create("Write the report")["id"]
    api.update(a, {"priority": "high"})
    assert api.complete(a).status == 200
    b = api.create("Call Alice")["id"]
    assert api.remove(b).status == 204
    # Changes that alternate between partitions: the output must interleave them by time.
    in_partition = make_tasks_in_every_partition(api, server)
    high, low = in_partition[2], in_partition[0]
    api.update(high, {"title": "changed first"})
    api.update(low, {"title": "changed second"})

    lines = raw_lines(todo(todo_bin, server.data_dir, "events", "--topic", TASK_EVENTS, "--from-beginning"))
    rows = {r.event_id: r for r in rows_of(outbox_rows(server), TASK_EVENTS)}
    assert len(lines) == len(rows), (len(lines), len(rows))
    printed = []
    for line in lines:
        event = json.loads(line)
        row = rows.get(event["id"])
        assert row is not None, f"printed an event that is not in the outbox: {line}"
        assert line == row.payload, "an event is printed exactly as stored"
        printed.append(row)
    assert {r.event_id for r in printed} == set(rows), "every event of the topic, once"

    # One session, readable in order: merged by (created_at, partition, offset).
    order = [(r.created_at, r.partition, r.offset) for r in printed]
    assert order == sorted(order), order

    events = [json.loads(line) for line in lines]
    updates = [e["subject"] for e in events if e["type"] == "com.todo.task.updated"]
    assert updates.index(high) < updates.index(low), "merged by time, not partition by partition"
    mine = [e for e in events if e["subject"] in (a, b)]
    assert [(e["subject"], e["type"]) for e in mine] == [
        (a, "com.todo.task.created"),
        (a, "com.todo.task.updated"),
        (a, "com.todo.task.completed"),
        (b, "com.todo.task.created"),
        (b, "com.todo.task.deleted"),
    ]


def test_events_envelope_carries_position_key_and_time(todo_bin, server):
    api = new_api(server)
    task = api.create("Enveloped")["id"]
    api.update(task, {"title": "Enveloped again"})

    lines = ok_lines(
        todo(todo_bin, server.data_dir, "events", "--topic", TASK_EVENTS, "--from-beginning", "--envelope")
    )
    rows = {r.event_id: r for r in rows_of(outbox_rows(server), TASK_EVENTS)}
    assert len(lines) == len(rows)
    for env in lines:
        assert set(env) == ENVELOPE_KEYS, env
        row = rows[env["event"]["id"]]
        assert env["topic"] == TASK_EVENTS
        assert (env["partition"], env["offset"], env["key"]) == (row.partition, row.offset, row.key), env
        assert RFC3339_UTC_RE.match(env["timestamp"]), env
        # Rendered in milliseconds: the outbox's created_at, cut to the millisecond.
        assert micros_of(env["timestamp"]) == row.created_at // 1000 * 1000, (env, row.created_at)
        assert env["event"] == json.loads(row.payload)
    mine = [e for e in lines if e["key"] == task]
    assert [e["event"]["type"] for e in mine] == ["com.todo.task.created", "com.todo.task.updated"]


def test_events_of_a_group_start_at_its_committed_offsets_and_leave_them_alone(todo_bin, server):
    api = new_api(server)
    make_tasks_in_every_partition(api, server)
    end = heads(server.data_dir, TASK_EVENTS)
    group = f"ops-test-{uuid.uuid4().hex[:8]}"
    # partition 0: one event left for the group; partition 1: fully processed; 2: never committed.
    committed = {0: end[0] - 1, 1: end[1]}
    for partition, offset in committed.items():
        execute(
            server.data_dir,
            'INSERT INTO consumer_offsets ("group", topic, "partition", "offset", updated_at) VALUES (?, ?, ?, ?, ?)',
            (group, TASK_EVENTS, partition, offset, 1),
        )
    # The server's own consumers must be done too: their offsets moving is not what is checked here.
    for server_group in ("audit-service", "recurring-task-service"):
        wait_consumed(server.data_dir, server_group)
    before = query(server.data_dir, "SELECT * FROM consumer_offsets ORDER BY 1, 2, 3")

    lines = ok_lines(
        todo(todo_bin, server.data_dir, "events", "--topic", TASK_EVENTS, "--group", group, "--envelope")
    )
    got = sorted((e["partition"], e["offset"]) for e in lines)
    expected = sorted(
        (r.partition, r.offset)
        for r in rows_of(outbox_rows(server), TASK_EVENTS)
        if r.partition == 2 or (r.partition == 0 and r.offset >= committed[0])
    )
    assert got == expected
    assert (0, end[0] - 1) in got
    assert not any(p == 1 for p, _ in got)
    assert query(server.data_dir, "SELECT * FROM consumer_offsets ORDER BY 1, 2, 3") == before, (
        "todo events must never move a group's offsets"
    )

    # --from-beginning wins over the group's offsets.
    everything = ok_lines(
        todo(todo_bin, server.data_dir, "events", "--topic", TASK_EVENTS, "--group", group, "--from-beginning")
    )
    assert len(everything) == len(rows_of(outbox_rows(server), TASK_EVENTS))


def test_events_by_default_print_only_new_events(todo_bin, server):
    api = new_api(server)
    api.create("Already there")
    r = todo(todo_bin, server.data_dir, "events", "--topic", TASK_EVENTS)
    assert raw_lines(r) == [], "without --from-beginning or --group, reading starts at the end"


def test_events_of_a_topic_without_partitions_print_nothing(todo_bin, server):
    r = todo(todo_bin, server.data_dir, "events", "--topic", f"no-such-topic-{uuid.uuid4().hex}", "--from-beginning")
    assert raw_lines(r) == []
    assert text(r.stderr).strip() == "", text(r.stderr)


def test_events_read_a_large_log_in_order_across_pages(todo_bin, server):
    topic = f"ops-test-big-{uuid.uuid4().hex[:8]}"
    base = now_micros()
    appended = {0: [], 1: []}
    for i in range(700):  # more than one page of each partition, timestamps interleaved
        for partition in (0, 1):
            event = append_raw(server.data_dir, topic, partition, f"k{partition}", base + 2 * i + partition)
            appended[partition].append(event["id"])
    lines = ok_lines(todo(todo_bin, server.data_dir, "events", "--topic", topic, "--from-beginning"))
    assert len(lines) == 1400
    expected = [appended[p][i] for i in range(700) for p in (0, 1)]
    assert [e["id"] for e in lines] == expected


def test_events_keep_offset_order_within_a_partition_even_when_timestamps_disagree(todo_bin, server):
    topic = f"ops-test-skew-{uuid.uuid4().hex[:8]}"
    base = now_micros()
    first = append_raw(server.data_dir, topic, 0, "k", base + 10)
    second = append_raw(server.data_dir, topic, 0, "k", base + 5)  # committed later, older clock
    other = append_raw(server.data_dir, topic, 1, "j", base + 7)
    lines = ok_lines(todo(todo_bin, server.data_dir, "events", "--topic", topic, "--from-beginning"))
    ids = [e["id"] for e in lines]
    assert ids.index(first["id"]) < ids.index(second["id"]), ids
    assert ids == [other["id"], first["id"], second["id"]]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_events_follow_prints_new_events_until_signalled(todo_bin, server, sig):
    api = new_api(server)
    existing = api.create("Before following")["id"]
    follower = Follower(todo_bin, server.data_dir, ["--topic", TASK_EVENTS, "--from-beginning"])
    try:
        # The existing events come first; this one is among the last of them.
        follower.wait_for(lambda e: e["subject"] == existing)
        follower.wait_following()
        later = api.create("After following started")["id"]
        event = follower.wait_for(lambda e: e["subject"] == later)
        assert event["type"] == "com.todo.task.created"
        assert event["data"]["user_id"] == api.id
    finally:
        code = follower.stop(sig)
    assert code == 0, code


def test_events_follow_from_the_end_prints_only_what_comes_after_the_start(todo_bin, server):
    api = new_api(server)
    api.create("Before following")
    follower = Follower(todo_bin, server.data_dir, ["--topic", TASK_EVENTS])
    try:
        follower.wait_following()
        later = api.create("After following started")["id"]
        event = follower.next_event()
        assert (event["subject"], event["type"]) == (later, "com.todo.task.created"), event
        assert follower.lines.empty(), "nothing older than the start is printed"
    finally:
        code = follower.stop()
    assert code == 0, code


def test_events_follow_from_the_end_waits_for_a_topic_to_appear(todo_bin, server):
    topic = f"ops-test-new-{uuid.uuid4().hex[:8]}"
    follower = Follower(todo_bin, server.data_dir, ["--topic", topic, "--envelope"])
    try:
        follower.wait_following()
        appended = append_raw(server.data_dir, topic, 0, "k", now_micros())
        env = follower.next_event()
        assert (env["topic"], env["partition"], env["offset"]) == (topic, 0, 0)
        assert env["event"] == appended
        second = append_raw(server.data_dir, topic, 0, "k", now_micros())
        assert follower.next_event()["event"]["id"] == second["id"]
    finally:
        code = follower.stop()
    assert code == 0, code


def test_events_without_a_database_fail_and_create_nothing(todo_bin, tmp_path):
    if POSTGRES:  # a database that does not exist: libpq's refusal, and nothing is created
        name = f"missing_{uuid.uuid4().hex}"
        r = run_cli(todo_bin, ["events", "--topic", TASK_EVENTS, "--data-dir", str(tmp_path),
                               "--database-url", cluster().url(name)])
        line = failure(r)
        assert name in line and "does not exist" in line, line
        assert not sql_exists_database(name)
        return
    r = todo(todo_bin, tmp_path, "events", "--topic", TASK_EVENTS)
    line = failure(r)
    assert "no database" in line and str(tmp_path) in line, line
    assert not os.path.exists(tmp_path / "todo.db")


def sql_exists_database(name):
    conn = cluster().connect("postgres")
    try:
        cur = conn.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# todo dlq


def insert_dead_letter(data_dir, group, topic="task-events", partition=0, offset=None, failed_at=None,
                       status="dead", error="handler failed: boom", replayed_at=None):
    letter_id = str(uuid.uuid4())
    event = {
        "specversion": "1.0",
        "type": "com.todo.task.created",
        "source": "/tests",
        "id": str(uuid.uuid4()),
        "time": "2026-01-01T00:00:00Z",
        "subject": "task-1",
        "data": {"task_id": "task-1"},
    }
    execute(
        data_dir,
        'INSERT INTO dead_letters (id, "group", topic, "partition", "offset", key, event_id, payload, '
        "error, attempts, failed_at, status, replay_requested_at, replayed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            letter_id,
            group,
            topic,
            partition,
            offset if offset is not None else now_micros(),  # unique per (group, topic, partition)
            "task-1",
            event["id"],
            json.dumps(event),
            error,
            4,
            failed_at if failed_at is not None else now_micros(),
            status,
            replayed_at - 1 if replayed_at else None,
            replayed_at,
        ),
    )
    return letter_id, event


def dead_letter_status(data_dir, letter_id):
    return query(data_dir, "SELECT status, replay_requested_at FROM dead_letters WHERE id = ?", (letter_id,))[0]


@pytest.fixture
def dlq_server(make_server):
    """A server of its own: replay --all touches every dead letter of the database."""
    return make_server()


def test_dlq_list_prints_every_dead_letter_oldest_first(todo_bin, dlq_server):
    d = dlq_server.data_dir
    assert raw_lines(todo(todo_bin, d, "dlq", "list")) == [], "no dead letters, no output"
    base = now_micros()
    newer, _ = insert_dead_letter(d, "ops-test-b", failed_at=base + 2000)
    older, older_event = insert_dead_letter(
        d, "ops-test-a", partition=2, offset=17, failed_at=base, error="timeout talking to SMTP"
    )
    replayed, _ = insert_dead_letter(d, "ops-test-a", failed_at=base + 1000, status="replayed", replayed_at=base + 5000)

    lines = ok_lines(todo(todo_bin, d, "dlq", "list"))
    assert [e["id"] for e in lines] == [older, replayed, newer]
    first = lines[0]
    assert set(first) == DEAD_LETTER_KEYS, first
    assert first["group"] == "ops-test-a"
    assert (first["topic"], first["partition"], first["offset"], first["key"]) == ("task-events", 2, 17, "task-1")
    assert first["event_id"] == older_event["id"]
    assert first["event"] == older_event
    assert first["error"] == "timeout talking to SMTP"
    assert first["attempts"] == 4
    assert first["status"] == "dead"
    assert micros_of(first["failed_at"]) == base // 1000 * 1000
    assert set(lines[1]) == DEAD_LETTER_KEYS | {"replay_requested_at", "replayed_at"}, lines[1]
    assert lines[1]["status"] == "replayed"
    assert RFC3339_UTC_RE.match(lines[1]["replayed_at"])

    only_b = ok_lines(todo(todo_bin, d, "dlq", "list", "--group", "ops-test-b"))
    assert [e["id"] for e in only_b] == [newer]


def test_dlq_replay_by_id_marks_one_and_refuses_twice(todo_bin, dlq_server):
    d = dlq_server.data_dir
    target, _ = insert_dead_letter(d, "ops-test-a")
    untouched, _ = insert_dead_letter(d, "ops-test-a")

    r = todo(todo_bin, d, "dlq", "replay", "--id", target)
    out = text(r.stdout)
    assert r.returncode == 0, (r.returncode, out, text(r.stderr))
    assert "marked" in out and target in out and "ops-test-a" in out, out
    status, requested_at = dead_letter_status(d, target)
    assert status == "replay-requested" and requested_at is not None
    assert dead_letter_status(d, untouched) == ("dead", None)
    listed = {e["id"]: e for e in ok_lines(todo(todo_bin, d, "dlq", "list"))}
    assert listed[target]["status"] == "replay-requested"
    assert RFC3339_UTC_RE.match(listed[target]["replay_requested_at"])

    again = failure(todo(todo_bin, d, "dlq", "replay", "--id", target))
    assert target in again and "replay-requested" in again, again
    assert dead_letter_status(d, target) == (status, requested_at), "a refused replay changes nothing"


def test_dlq_replay_of_an_unknown_id_fails(todo_bin, dlq_server):
    missing = str(uuid.uuid4())
    line = failure(todo(todo_bin, dlq_server.data_dir, "dlq", "replay", "--id", missing))
    assert line == f"todo: no dead letter with id {missing}", line


def test_dlq_replay_all_marks_every_dead_one(todo_bin, dlq_server):
    d = dlq_server.data_dir
    first, _ = insert_dead_letter(d, "ops-test-a")
    second, _ = insert_dead_letter(d, "ops-test-b")
    done, _ = insert_dead_letter(d, "ops-test-a", status="replayed", replayed_at=now_micros())
    done_before = dead_letter_status(d, done)

    out = raw_lines(todo(todo_bin, d, "dlq", "replay", "--all"))
    assert len(out) == 1 and out[0].startswith("marked 2 dead letters for replay"), out
    assert dead_letter_status(d, first)[0] == "replay-requested"
    assert dead_letter_status(d, second)[0] == "replay-requested"
    assert dead_letter_status(d, done) == done_before, "a replayed dead letter stays replayed"

    nothing = raw_lines(todo(todo_bin, d, "dlq", "replay", "--all"))
    assert len(nothing) == 1 and "nothing" in nothing[0], nothing


# --------------------------------------------------------------------------------------------
# todo admin set-role


def test_admin_set_role_makes_a_user_admin_and_back(todo_bin, server):
    user = register(server)
    status, _, me = server.get("/api/me", token=user.access_token)
    assert status == 200 and me["role"] == "user", me

    r = todo(todo_bin, server.data_dir, "admin", "set-role", "--email", f"  {user.email.upper()} ", "--role", "admin")
    assert raw_lines(r) == [f"{user.email} is now admin"]
    # /api/me reads the role from the database, so even the old token shows it.
    status, _, me = server.get("/api/me", token=user.access_token)
    assert status == 200 and me["role"] == "admin", me
    fresh = login(server, user.email, user.password)
    assert fresh.status == 200, fresh
    assert decode_jwt(fresh.body["access_token"])[1]["role"] == "admin", "a new token carries the new role"

    assert raw_lines(todo(todo_bin, server.data_dir, "admin", "set-role", "--email", user.email, "--role", "admin")) == [
        f"{user.email} is already admin"
    ]
    assert raw_lines(todo(todo_bin, server.data_dir, "admin", "set-role", "--email", user.email, "--role", "user")) == [
        f"{user.email} is now user"
    ]
    status, _, me = server.get("/api/me", token=user.access_token)
    assert me["role"] == "user", me


def test_admin_set_role_of_an_unknown_email_fails(todo_bin, server):
    email = f"nobody-{uuid.uuid4().hex}@example.com"
    line = failure(todo(todo_bin, server.data_dir, "admin", "set-role", "--email", email, "--role", "admin"))
    assert line == f"todo: no user with e-mail {email}", line


# --------------------------------------------------------------------------------------------
# usage

BAD_USAGE = [
    ("events-without-topic", ["events"], ["--topic"]),
    ("dlq-alone", ["dlq"], ["list", "replay"]),
    ("dlq-unknown-subcommand", ["dlq", "purge"], ["purge", "list", "replay"]),
    ("admin-alone", ["admin"], ["set-role"]),
    ("replay-without-id-or-all", ["dlq", "replay"], ["--id", "--all"]),
    ("replay-with-id-and-all", ["dlq", "replay", "--id", "x", "--all"], ["--id", "--all"]),
    ("set-role-without-role", ["admin", "set-role", "--email", "a@example.com"], ["--role"]),
    ("set-role-without-email", ["admin", "set-role", "--role", "admin"], ["--email"]),
    ("set-role-bad-role", ["admin", "set-role", "--email", "a@example.com", "--role", "root"], ["--role"]),
    ("set-role-bad-email", ["admin", "set-role", "--email", "not-an-address", "--role", "user"], ["--email"]),
    ("switch-with-value", ["events", "--topic", "t", "--follow=yes"], ["--follow"]),
    ("flag-of-another-command", ["dlq", "list", "--topic", "t"], ["--topic"]),
]


@pytest.mark.parametrize("args,names", [c[1:] for c in BAD_USAGE], ids=[c[0] for c in BAD_USAGE])
def test_bad_usage_exits_2_with_one_helpful_line(todo_bin, tmp_path, args, names):
    r = run_cli(todo_bin, args + ["--data-dir", str(tmp_path)])
    line = failure(r, code=2)
    for name in names:
        assert name in line, f"{name!r} missing from {line!r}"
    assert not os.path.exists(tmp_path / "todo.db")


def test_help_lists_the_operator_commands_and_their_flags(todo_bin):
    top = run_cli(todo_bin, ["--help"])
    assert top.returncode == 0
    for word in ("events", "dlq list", "dlq replay", "admin set-role"):
        assert word in text(top.stdout), word

    replay = run_cli(todo_bin, ["dlq", "replay", "--help"])
    assert replay.returncode == 0, text(replay.stderr)
    for word in ("--id", "--all", "--data-dir", "TODO_DATA_DIR", "--log-level"):
        assert word in text(replay.stdout), word
    assert "--port" not in text(replay.stdout)

    group = run_cli(todo_bin, ["dlq", "--help"])
    assert group.returncode == 0, text(group.stderr)
    assert "list" in text(group.stdout) and "replay" in text(group.stdout)

    events = run_cli(todo_bin, ["events", "--help"])
    for word in ("--topic", "--group", "--from-beginning", "--follow", "--envelope"):
        assert word in text(events.stdout), word


def test_data_dir_comes_from_the_environment(todo_bin, server):
    user = register(server)
    r = run_cli(
        todo_bin,
        ["admin", "set-role", "--email", user.email, "--role", "user"],
        env={"TODO_DATA_DIR": server.data_dir},
    )
    assert r.returncode == 0, text(r.stderr)
    assert text(r.stdout).strip() == f"{user.email} is already user"

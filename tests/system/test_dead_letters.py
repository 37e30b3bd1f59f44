"""Dead letters end to end, in a running `todo serve`: an event the audit consumer fails to handle is
retried on the schedule given by --bus-retry-backoff, then dead-lettered to task-events.dlq while
the partition moves on (a malformed one at once, without retries); `todo dlq list` shows it, /metrics counts it, and `todo dlq replay` hands
it back to the running consumer, which tries it again. The backoff is real time here, so the
server runs with a short schedule (the unit tests of src/bus drive the default one, 1 s, 5 s,
25 s, with manual clocks)."""

import json
import time
import uuid

from task_harness import new_api
from todo_harness import POSTGRES, open_db, poll_until, run_cli, sql

DEADLINE = 90.0
BACKOFF = [0.1, 0.1, 0.2]  # seconds; three retries, so four attempts


def _append_raw_event(server, partition, key, payload, event_id=None):
    """Appends one message to task-events the way the outbox does (gapless offset from
    log_heads), from outside the server — as a foreign producer with a bug would."""
    conn = open_db(server.data_dir, write=True)
    conn.isolation_level = None  # the transaction is ours: BEGIN IMMEDIATE ... COMMIT
    try:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT next_offset FROM log_heads WHERE topic = 'task-events' AND \"partition\" = ?",
                           (partition,)).fetchone()
        offset = row[0] if row else 0
        conn.execute("INSERT INTO log_heads (topic, \"partition\", next_offset) VALUES ('task-events', ?, ?) "
                     "ON CONFLICT (topic, \"partition\") DO UPDATE SET next_offset = excluded.next_offset",
                     (partition, offset + 1))
        event_id = event_id or str(uuid.uuid4())
        conn.execute("INSERT INTO outbox (topic, \"partition\", \"offset\", key, event_id, payload, created_at) "
                     "VALUES ('task-events', ?, ?, ?, ?, ?, ?)",
                     (partition, offset, key, event_id, payload, int(time.time() * 1e6)))
        conn.execute("COMMIT")
        return event_id, offset
    finally:
        conn.close()


def _dlq(todo_bin, server, *args):
    r = run_cli(todo_bin, ["dlq", *args, "--data-dir", server.data_dir])
    assert r.returncode == 0, r
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def _audited(server, event_id):
    return sql(server.data_dir, "SELECT COUNT(*) FROM audit_logs WHERE event_id = ?", (event_id,))[0][0]


def _refuse_audit_of(server, event_id):
    """A failure the audit consumer cannot foresee and that may pass: its database refuses the
    entry of one event (a trigger, installed from outside like a storage fault)."""
    conn = open_db(server.data_dir, write=True)
    try:
        if POSTGRES:
            conn.execute("CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                         "RAISE EXCEPTION 'injected: the audit store refuses this entry'; END $$")
            conn.execute(f"CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_logs FOR EACH ROW "
                         f"WHEN (NEW.event_id = '{event_id}') EXECUTE FUNCTION refuse_poison()")
        else:
            conn.execute(f"CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_logs WHEN NEW.event_id = '{event_id}' "
                         "BEGIN SELECT RAISE(ABORT, 'injected: the audit store refuses this entry'); END")
        conn.commit()
    finally:
        conn.close()


def _heal_audit(server):
    conn = open_db(server.data_dir, write=True)
    try:
        conn.execute("DROP TRIGGER refuse_poison ON audit_logs" if POSTGRES else "DROP TRIGGER refuse_poison")
        if POSTGRES:
            conn.execute("DROP FUNCTION refuse_poison()")
        conn.commit()
    finally:
        conn.close()


def _metric(server, name, partition):
    resp = server.request("GET", "/metrics")
    text = resp.body if isinstance(resp.body, str) else resp.raw.decode()
    prefix = f'{name}{{group="audit-service",topic="task-events",partition="{partition}"}} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return int(float(lines[0][len(prefix):])) if lines else 0


def test_a_failing_event_is_retried_dead_lettered_and_replayed_without_stalling(make_server, todo_bin):
    server = make_server(args=["--bus-retry-backoff", "100ms,100ms,200ms"])
    api = new_api(server)
    task = api.create(title="shares a partition with the poison")
    first_event = _event_ids_of(server, task["id"])[0]
    poll_until(lambda: _audited(server, first_event), "the audit of the first event", DEADLINE)
    partition = _partition_of(server, task["id"])

    # A well-formed task event (a copy of the first one under a new id) whose audit entry the
    # database refuses until the fault is healed.
    payload = json.loads(sql(server.data_dir, "SELECT payload FROM outbox WHERE event_id = ?", (first_event,))[0][0])
    poison_id = str(uuid.uuid4())
    payload["id"] = poison_id
    payload["data"]["idempotency_key"] = poison_id
    _refuse_audit_of(server, poison_id)
    started = time.monotonic()
    _, poison_offset = _append_raw_event(server, partition, task["id"], json.dumps(payload), poison_id)
    # An event behind the poison on the same partition waits for it (per-partition order) ...
    api.update(task["id"], {"title": "behind the poison"})
    behind = _event_ids_of(server, task["id"])[-1]
    second_try = server.wait_for_log(
        lambda o: o.get("msg") == "event handling failed; will retry" and o.get("event_id") == poison_id
        and o.get("attempt") == 2, timeout=DEADLINE)
    assert second_try is not None, server.stderr_text()[-3000:]

    # ... and once the poison is dead-lettered (after 0.1 + 0.1 + 0.2 s), the partition moves on.
    letters = poll_until(lambda: _dlq(todo_bin, server, "list"), "the dead letter", DEADLINE)
    elapsed = time.monotonic() - started
    assert elapsed >= sum(BACKOFF), f"dead-lettered after {elapsed:.1f} s, before the {BACKOFF} s of retries"
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["group"] == "audit-service"
    assert letter["topic"] == "task-events" and letter["partition"] == partition
    assert letter["offset"] == poison_offset
    assert letter["event_id"] == poison_id and letter["attempts"] == 4 and letter["status"] == "dead"
    assert "injected" in letter["error"], letter
    assert letter["event"]["id"] == poison_id
    poll_until(lambda: _audited(server, behind), "the audit of the event behind the poison", DEADLINE)
    # It waited: audited only once the poison was out of the way (same clock, microseconds).
    failed_at = sql(server.data_dir, "SELECT failed_at FROM dead_letters WHERE id = ?", (letter["id"],))[0][0]
    recorded_at = sql(server.data_dir, "SELECT recorded_at FROM audit_logs WHERE event_id = ?", (behind,))[0][0]
    assert recorded_at >= failed_at, "an event overtook the failing one on its partition"

    # The record is on task-events.dlq.
    r = run_cli(todo_bin, ["events", "--topic", "task-events.dlq", "--from-beginning", "--data-dir", server.data_dir])
    assert r.returncode == 0, r
    records = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [rec["id"] for rec in records] == [letter["id"]]
    assert records[0]["status"] == "dead" and records[0]["error"] == letter["error"]
    assert records[0]["event_id"] == poison_id and records[0]["group"] == "audit-service"

    # /metrics counts it.
    assert _metric(server, "todo_bus_events_dead_lettered_total", partition) == 1
    assert _metric(server, "todo_bus_events_retried_total", partition) == 3

    # Replay once the fault is healed: the running consumer picks the request up (safety-net poll)
    # and the entry is written, once.
    _heal_audit(server)
    r = run_cli(todo_bin, ["dlq", "replay", "--id", letter["id"], "--data-dir", server.data_dir])
    assert r.returncode == 0, r
    done = poll_until(lambda: [d for d in _dlq(todo_bin, server, "list") if d["status"] == "replayed"],
                      "the replay", DEADLINE)
    assert done[0]["id"] == letter["id"]
    assert _audited(server, poison_id) == 1


def test_a_malformed_event_is_dead_lettered_at_once(make_server, todo_bin):
    server = make_server(args=["--bus-retry-backoff", "100ms,100ms,200ms"])
    api = new_api(server)
    task = api.create(title="shares a partition with the malformed event")
    partition = _partition_of(server, task["id"])
    malformed = json.dumps({"specversion": "1.0", "type": "com.todo.task.updated", "source": "a-buggy-producer",
                            "id": "not-used", "time": "2026-11-27T00:00:00.000Z", "data": "not an object"})
    poison_id, poison_offset = _append_raw_event(server, partition, "poison-key", malformed)
    api.update(task["id"], {"title": "behind the malformed event"})
    behind = _event_ids_of(server, task["id"])[-1]

    # Retrying cannot make it well-formed: one attempt, then the dead letters; the partition moves on.
    letters = poll_until(lambda: _dlq(todo_bin, server, "list"), "the dead letter", DEADLINE)
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["event_id"] == poison_id and letter["offset"] == poison_offset
    assert letter["attempts"] == 1 and letter["status"] == "dead"
    assert letter["event"]["data"] == "not an object"
    poll_until(lambda: _audited(server, behind), "the audit of the event behind it", DEADLINE)
    assert not any(o.get("msg") == "event handling failed; will retry" and o.get("event_id") == poison_id
                   for o in server.logs), "a malformed event was retried"
    assert _metric(server, "todo_bus_events_retried_total", partition) == 0
    assert _metric(server, "todo_bus_events_dead_lettered_total", partition) == 1

    # A replay tries it once more and it is dead again.
    r = run_cli(todo_bin, ["dlq", "replay", "--id", letter["id"], "--data-dir", server.data_dir])
    assert r.returncode == 0, r
    again = poll_until(lambda: [d for d in _dlq(todo_bin, server, "list") if d["attempts"] == 2],
                       "the replay attempt", DEADLINE)
    assert again[0]["status"] == "dead"
    assert _audited(server, poison_id) == 0


def _partition_of(server, task_id):
    return sql(server.data_dir, "SELECT \"partition\" FROM outbox WHERE topic = 'task-events' AND key = ?",
               (task_id,))[0][0]


def _event_ids_of(server, task_id):
    return [r[0] for r in sql(server.data_dir, "SELECT event_id FROM outbox WHERE topic = 'task-events' AND key = ? "
                                               "ORDER BY \"offset\"", (task_id,))]

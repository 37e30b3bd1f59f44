"""Dead letters end to end, in a running `todo serve`: an event the audit consumer cannot handle is
retried on the schedule given by --bus-retry-backoff, then dead-lettered to task-events.dlq while
the partition moves on; `todo dlq list` shows it, /metrics counts it, and `todo dlq replay` hands
it back to the running consumer, which tries it again. The backoff is real time here, so the
server runs with a short schedule (the unit tests of src/bus drive the default one, 1 s, 5 s,
25 s, with manual clocks)."""

import json
import time
import uuid

from task_harness import new_api
from todo_harness import open_db, poll_until, run_cli, sql

DEADLINE = 90.0
BACKOFF = [0.1, 0.1, 0.2]  # seconds; three retries, so four attempts


def _append_raw_event(server, partition, key, payload):
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
        event_id = str(uuid.uuid4())
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


def test_a_poison_event_is_retried_dead_lettered_and_replayed_without_stalling(make_server, todo_bin):
    server = make_server(args=["--bus-retry-backoff", "100ms,100ms,200ms"])
    api = new_api(server)
    poison = json.dumps({"specversion": "1.0", "type": "com.todo.task.updated", "source": "a-buggy-producer",
                         "id": "not-used", "time": "2026-11-27T00:00:00.000Z", "data": "not an object"})
    task = api.create(title="shares a partition with the poison")
    first_event = _event_ids_of(server, task["id"])[0]
    poll_until(lambda: _audited(server, first_event), "the audit of the first event", DEADLINE)
    partition = _partition_of(server, task["id"])

    started = time.monotonic()
    poison_id, poison_offset = _append_raw_event(server, partition, "poison-key", poison)
    # An event behind the poison on the same partition waits for it (per-partition order) ...
    api.update(task["id"], {"title": "behind the poison"})
    behind = _event_ids_of(server, task["id"])[1]
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
    assert letter["error"], letter
    assert letter["event"]["data"] == "not an object"
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
    resp = server.request("GET", "/metrics")
    text = resp.body if isinstance(resp.body, str) else resp.raw.decode()
    assert f'todo_bus_events_dead_lettered_total{{group="audit-service",topic="task-events",partition="{partition}"}} 1' in text
    assert f'todo_bus_events_retried_total{{group="audit-service",topic="task-events",partition="{partition}"}} 3' in text

    # Replay: the running consumer picks the request up (safety-net poll) and tries again; the
    # event is still malformed, so it is dead again with one more attempt.
    r = run_cli(todo_bin, ["dlq", "replay", "--id", letter["id"], "--data-dir", server.data_dir])
    assert r.returncode == 0, r
    again = poll_until(lambda: [d for d in _dlq(todo_bin, server, "list") if d["attempts"] == 5], "the replay attempt", DEADLINE)
    assert again[0]["status"] == "dead"
    assert _audited(server, poison_id) == 0


def _partition_of(server, task_id):
    return sql(server.data_dir, "SELECT \"partition\" FROM outbox WHERE topic = 'task-events' AND key = ?",
               (task_id,))[0][0]


def _event_ids_of(server, task_id):
    return [r[0] for r in sql(server.data_dir, "SELECT event_id FROM outbox WHERE topic = 'task-events' AND key = ? "
                                               "ORDER BY \"offset\"", (task_id,))]

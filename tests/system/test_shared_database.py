"""Several `todo serve` processes on one PostgreSQL database (the postgres backend only).

Both serve the API; each partition of each consumer group is consumed by one of them at a time,
spread evenly (partition_leases); when one is killed the other takes its partitions over within
seconds, and every acknowledged write still has exactly one audit entry, and a completed recurring
task exactly one next occurrence (ADR 0020)."""

import threading
import time

import pytest

from task_harness import TaskApi
from todo_harness import POSTGRES, poll_until, register, sql

pytestmark = pytest.mark.skipif(not POSTGRES, reason="several processes share a database server; "
                                "on SQLite one process owns its file (run with TODO_TEST_BACKEND=postgres)")

GROUPS = ("audit-service", "recurring-task-service")
TAKEOVER = 15.0  # lease time (5 s) + a round (1.7 s) + start-up and a wide margin for ASan


def live_holders(data_dir, group, topic="task-events"):
    """partition -> member for the leases of `group` that have not expired."""
    now_us = int(time.time() * 1e6)
    rows = sql(data_dir, 'SELECT "partition", holder FROM partition_leases '
               'WHERE "group" = ? AND topic = ? AND expires_at > ?', (group, topic, now_us))
    return {int(p): h for p, h in rows}


def split_between_two(data_dir):
    """Every task-events partition of every group is held, by two different members."""
    for group in GROUPS:
        held = live_holders(data_dir, group)
        if len(held) != 3 or len(set(held.values())) != 2:
            return False
    return True


def all_held_by_one(data_dir):
    holders = set()
    for group in GROUPS:
        held = live_holders(data_dir, group)
        if len(held) != 3:
            return None
        holders |= set(held.values())
    return holders.pop() if len(holders) == 1 else None


def each_event_audited_once(data_dir):
    events = sql(data_dir, "SELECT COUNT(*) FROM outbox WHERE topic = 'task-events'")[0][0]
    entries, distinct = sql(data_dir, "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM audit_logs")[0]
    assert entries == distinct, "an event has two audit entries"
    return entries == events


def two_servers(make_server, tmp_path_factory, name):
    """Two servers on one data dir (so one database and one JWT secret), once they split the
    partitions."""
    data_dir = tmp_path_factory.mktemp(name)
    a = make_server(data_dir=data_dir)
    b = make_server(data_dir=data_dir)
    poll_until(lambda: split_between_two(data_dir), "the partitions to be split between the two", TAKEOVER)
    return data_dir, a, b


def test_two_processes_split_the_partitions_and_every_event_has_one_effect(make_server, tmp_path_factory):
    data_dir, a, b = two_servers(make_server, tmp_path_factory, "shared")

    user = register(a)
    on_a, on_b = TaskApi(a, user), TaskApi(b, user)  # one secret: a token works on both
    created = [(on_a if i % 2 else on_b).create(f"shared {i}")["id"] for i in range(40)]
    recurring = [on_a.create(f"daily {i}", due_date="2027-10-19T09:00", recurrence="daily")["id"]
                 for i in range(4)]
    for task_id in recurring:
        on_b.complete(task_id)

    poll_until(lambda: each_event_audited_once(data_dir), "every event's audit entry", 30)
    for task_id in created:
        assert sql(data_dir, "SELECT COUNT(*) FROM audit_logs WHERE task_id = ?", (task_id,))[0][0] == 1
    # One next occurrence per completed recurring task, whichever process consumed its event.
    titles = poll_until(
        lambda: (lambda rows: rows if len(rows) == 8 else None)(
            sql(data_dir, "SELECT title FROM tasks WHERE title LIKE 'daily %' ORDER BY title")),
        "the next occurrences", 30)
    assert sorted(t for (t,) in titles) == sorted([f"daily {i}" for i in range(4)] * 2)
    # The events were consumed by both processes: each group's partitions are split.
    assert split_between_two(data_dir)


def test_a_killed_process_partitions_are_taken_over_and_nothing_is_lost(make_server, tmp_path_factory):
    data_dir, a, b = two_servers(make_server, tmp_path_factory, "shared-kill")

    user = register(b)
    on_b = TaskApi(b, user)
    acked, failures = [], []
    stop = threading.Event()

    def write(worker):
        i = 0
        while not stop.is_set():
            resp = on_b.create_resp({"title": f"load {worker}-{i}"})
            if resp.status == 201:
                acked.append(resp.body["id"])
            else:
                failures.append(resp)
            i += 1

    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in writers:
        t.start()
    try:
        poll_until(lambda: len(acked) >= 40, "writes before the kill", 30)
        a.stop(sig=9)  # SIGKILL: its leases stay in the table until they expire
        survivor = poll_until(lambda: all_held_by_one(data_dir), "the survivor to hold every partition",
                              TAKEOVER)
        count = len(acked)
        poll_until(lambda: len(acked) >= count + 40, "writes after the takeover", 30)
    finally:
        stop.set()
        for t in writers:
            t.join(30)
    assert not failures, failures[:3]
    assert survivor in {h for g in GROUPS for h in live_holders(data_dir, g).values()}

    poll_until(lambda: each_event_audited_once(data_dir), "every event's audit entry", 60)
    audited = {task_id for (task_id,) in sql(data_dir, "SELECT task_id FROM audit_logs")}
    missing = [task_id for task_id in acked if task_id not in audited]
    assert not missing, f"{len(missing)} acknowledged writes have no audit entry"

    # The killed one comes back: it gets its share again.
    make_server(data_dir=data_dir)
    poll_until(lambda: split_between_two(data_dir), "the partitions to be split again", TAKEOVER)

"""Several `todo serve` processes on one PostgreSQL database (the postgres backend only).

Both serve the API; each partition of each consumer group is consumed by one of them at a time,
spread evenly (partition_leases); when one is killed the other takes its partitions over within
seconds, and every acknowledged write still has exactly one audit entry, and a completed recurring
task exactly one next occurrence (ADR 0020)."""

import http.client
import signal
import threading
import time

import pytest

from task_harness import TaskApi
from todo_harness import POSTGRES, consumed_everything, poll_until, register, sql

pytestmark = pytest.mark.skipif(not POSTGRES, reason="several processes share a database server; "
                                "on SQLite one process owns its file (run with TODO_TEST_BACKEND=postgres)")

GROUPS = ("audit-service", "recurring-task-service")
TAKEOVER = 15.0  # lease time (5 s) + a round (1.7 s) + start-up and a wide margin for ASan
KILL_ROUNDS = 10


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


def split_after_a_kill(data_dir, before):
    """Every partition of every group is held, by two members: one that held some before the kill
    (the survivor) and one that did not (the restarted process). So none is still held by the
    killed process's expiring leases."""
    for group in GROUPS:
        held = live_holders(data_dir, group)
        holders = set(held.values())
        if len(held) != 3 or len(holders) != 2 or len(holders & before[group]) != 1:
            return False
    return True


def assert_nothing_lost_or_done_twice(data_dir, created, completed, round_no):
    """Once both groups have consumed the whole log: every acknowledged task is there, every
    task event has exactly one audit entry, and every completed recurring task exactly one next
    occurrence (including a completion a kill interrupted, when it committed)."""
    # The recurring service appends the events of the occurrences it creates: it is waited for
    # first, so the audit service has consumed those too.
    poll_until(lambda: all(consumed_everything(data_dir, g) for g in reversed(GROUPS)),
               f"round {round_no}: both groups to consume the whole log", 60)
    tasks = {task_id for (task_id,) in sql(data_dir, "SELECT id FROM tasks")}
    missing = [task_id for task_id in created if task_id not in tasks]
    assert not missing, f"round {round_no}: {len(missing)} acknowledged tasks are missing"

    events = [e for (e,) in sql(data_dir, "SELECT event_id FROM outbox WHERE topic = 'task-events'")]
    audited = [e for (e,) in sql(data_dir, "SELECT event_id FROM audit_logs")]
    assert len(audited) == len(set(audited)), f"round {round_no}: an event has two audit entries"
    assert set(audited) == set(events), (
        f"round {round_no}: {len(set(events) - set(audited))} events without an audit entry, "
        f"{len(set(audited) - set(events))} entries without an event")
    assert sql(data_dir, "SELECT COUNT(*) FROM dead_letters")[0][0] == 0

    # Each recurring task has a title of its own, which its next occurrence copies.
    series = {title: (count, done) for title, count, done in sql(
        data_dir, "SELECT title, COUNT(*), SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) "
                  "FROM tasks WHERE title LIKE 'daily %' GROUP BY title")}
    wrong = {title: cd for title, cd in series.items() if cd[0] != 1 + cd[1] or cd[1] > 1}
    assert not wrong, f"round {round_no}: (occurrences, completed) per recurring task: {wrong}"
    titles = dict(sql(data_dir, "SELECT id, title FROM tasks WHERE title LIKE 'daily %'"))
    assert all(series[titles[task_id]] == (2, 1) for task_id in completed), round_no


class Writers:
    """Threads that create tasks for `user` on `server` until stopped; when `recurring`, every
    fourth is a daily task they complete at once. The ids of the tasks created (201) and
    completed (200) are kept; any other answer or a broken connection is a failure, unless
    `killing` was set first (that request's outcome is unknown, and it is not kept)."""

    def __init__(self, server, user, threads, name, recurring=True):
        self.api = TaskApi(server, user)
        self.recurring = recurring
        self.created, self.completed, self.failures = [], [], []
        self.killing = threading.Event()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(f"{name}-{w}",), daemon=True)
                         for w in range(threads)]
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(30)
            assert not t.is_alive()

    def _run(self, name):
        i = 0
        try:
            while not self._stop.is_set():
                if self.recurring and i % 4 == 3:
                    self._recurring(f"daily {name}-{i}")
                else:
                    self._kept(self.api.create_resp({"title": f"load {name}-{i}"}), 201, self.created)
                i += 1
        except (OSError, http.client.HTTPException) as e:  # the server was killed mid-request
            if not self.killing.is_set():
                self.failures.append(repr(e))

    def _recurring(self, title):
        resp = self.api.create_resp({"title": title, "due_date": "2027-10-19T09:00", "recurrence": "daily"})
        if self._kept(resp, 201, self.created):
            self._kept(self.api.complete(resp.body["id"]), 200, self.completed)

    def _kept(self, resp, status, ids):
        if resp.status == status:
            ids.append(resp.body["id"])
            return True
        if not self.killing.is_set():
            self.failures.append(resp)
        return False


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

    writers = Writers(b, register(b), threads=4, name="load", recurring=False)
    try:
        poll_until(lambda: len(writers.created) >= 40, "writes before the kill", 30)
        a.stop(sig=9)  # SIGKILL: its leases stay in the table until they expire
        survivor = poll_until(lambda: all_held_by_one(data_dir), "the survivor to hold every partition",
                              TAKEOVER)
        count = len(writers.created)
        poll_until(lambda: len(writers.created) >= count + 40, "writes after the takeover", 30)
    finally:
        writers.stop()
    assert not writers.failures, writers.failures[:3]
    assert survivor in {h for g in GROUPS for h in live_holders(data_dir, g).values()}

    poll_until(lambda: each_event_audited_once(data_dir), "every event's audit entry", 60)
    audited = {task_id for (task_id,) in sql(data_dir, "SELECT task_id FROM audit_logs")}
    missing = [task_id for task_id in writers.created if task_id not in audited]
    assert not missing, f"{len(missing)} acknowledged writes have no audit entry"

    # The killed one comes back: it gets its share again.
    make_server(data_dir=data_dir)
    poll_until(lambda: split_between_two(data_dir), "the partitions to be split again", TAKEOVER)


def test_either_process_killed_ten_times_under_load_loses_nothing(make_server, tmp_path_factory):
    """Writers on both processes; each round SIGKILLs one of them (in turn) in the middle of the
    writes and restarts it on the same data dir, and once the partitions are split between the two
    live processes again, checks that nothing acknowledged was lost or done twice."""
    data_dir, a, b = two_servers(make_server, tmp_path_factory, "shared-kills")
    servers = [a, b]
    # A user per process, so the two processes' writes do not fight over one change counter.
    users = [register(a), register(b)]
    created, completed = [], []
    for round_no in range(KILL_ROUNDS):
        victim = round_no % 2
        before = {group: set(live_holders(data_dir, group).values()) for group in GROUPS}
        writers = [Writers(servers[i], users[i], threads=2, name=f"r{round_no}p{i}") for i in (0, 1)]
        try:
            poll_until(lambda: sum(len(w.created) for w in writers) >= 20, f"round {round_no}: writes", 30)
            writers[victim].killing.set()
            servers[victim].stop(sig=signal.SIGKILL)
            writers[victim].stop()
            servers[victim] = make_server(data_dir=data_dir)
            poll_until(lambda: split_after_a_kill(data_dir, before),
                       f"round {round_no}: the partitions to be split between the survivor and the restarted one",
                       TAKEOVER)
        finally:
            for w in writers:
                w.stop()
        for w in writers:
            assert not w.failures, (round_no, w.failures[:3])
            created += w.created
            completed += w.completed
        assert_nothing_lost_or_done_twice(data_dir, created, completed, round_no)
    assert completed, "no recurring task was completed"

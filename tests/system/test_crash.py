"""Crash test of the event backbone: concurrent writes against `todo serve`, SIGKILL at seeded
random moments (at least 10 times), a restart after each; then

- every acknowledged write is there (and nothing the server never acknowledged is half-there),
- every event is in the log exactly once (per task: sequences 1..N, no gaps, no duplicates),
- every task event has exactly one audit entry and one dedupe row of the audit consumer,
- the audit hash chain verifies.

TODO_CRASH_SEED picks another sequence of moments (the default is fixed, so CI is repeatable);
TODO_CRASH_ROUNDS raises the number of kills."""

import json
import os
import random
import signal
import threading
import time

from todo_harness import poll_until, register, sql

SEED = int(os.environ.get("TODO_CRASH_SEED", "20261127"))
ROUNDS = max(10, int(os.environ.get("TODO_CRASH_ROUNDS", "10")))
WORKERS = 4
REQUEST_TIMEOUT = 10.0
CATCH_UP_DEADLINE = 120.0


class Ledger:
    """What the server acknowledged, per task. A task whose last request got no answer (the
    server died during it) is `uncertain`: either outcome of that one request is fine."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tasks = {}  # id -> {"version", "deleted", "status", "owner"}
        self.uncertain = {}  # id -> the operation in flight
        self.acknowledged = 0

    def ack(self, task_id, **state):
        with self.lock:
            self.tasks.setdefault(task_id, {}).update(state)
            self.uncertain.pop(task_id, None)
            self.acknowledged += 1


class Worker(threading.Thread):
    """Changes only its own tasks, so the ledger knows each task's exact expected state."""

    def __init__(self, server, user, ledger, rng, owned, killing):
        super().__init__(daemon=True)
        self.server, self.user, self.ledger, self.rng, self.owned = server, user, ledger, rng, owned
        self.stop = threading.Event()
        self.killing = killing  # set just before SIGKILL: failures from then on are expected
        self.failure = None

    def call(self, method, path, body=None):
        return self.server.request(method, path, body=body,
                                   headers={"Authorization": f"Bearer {self.user.access_token}"},
                                   timeout=REQUEST_TIMEOUT)

    def run(self):
        try:
            while not self.stop.is_set():
                self.step()
        except (OSError, ConnectionError, Exception) as e:  # the server was killed mid-request
            # The process drops its connections before it can be reaped, so alive() alone would
            # still say True for a request the kill broke.
            if not self.killing.is_set() and self.server.alive():
                self.failure = e

    def step(self):
        # A task whose last change a kill interrupted is left alone: that change may or may not
        # have committed (a DELETE that did makes every later request 404).
        live = [t for t in self.owned
                if not self.ledger.tasks[t].get("deleted") and t not in self.ledger.uncertain]
        op = self.rng.random()
        if not live or op < 0.4:
            title = f"crash task {self.rng.getrandbits(32):08x}"
            resp = self.call("POST", "/api/tasks", {"title": title, "priority": "high", "tags": ["crash"]})
            assert resp.status == 201, resp
            task = resp.body
            self.owned.append(task["id"])
            self.ledger.ack(task["id"], version=task["version"], deleted=False, status="pending",
                            owner=self.user.id)
            return
        task_id = self.rng.choice(live)
        self.ledger.uncertain[task_id] = "change"
        if op < 0.65:
            resp = self.call("PATCH", f"/api/tasks/{task_id}", {"title": f"renamed {self.rng.random():.6f}"})
            assert resp.status == 200, resp
            self.ledger.ack(task_id, version=resp.body["version"])
        elif op < 0.85:
            action = "complete" if self.ledger.tasks[task_id]["status"] == "pending" else "reopen"
            resp = self.call("POST", f"/api/tasks/{task_id}/{action}")
            assert resp.status == 200, resp
            self.ledger.ack(task_id, version=resp.body["version"], status=resp.body["status"])
        else:
            resp = self.call("DELETE", f"/api/tasks/{task_id}")
            assert resp.status == 204, resp
            self.ledger.ack(task_id, deleted=True)


def _login_again(server, user):
    resp = server.post("/api/auth/login", {"email": user.email, "password": user.password})
    assert resp.status == 200, resp
    user.access_token = resp.body["access_token"]


def test_acknowledged_writes_events_and_audit_survive_repeated_sigkill(make_server):
    rng = random.Random(SEED)
    srv = make_server()
    data_dir = srv.data_dir
    users = [register(srv), register(srv)]
    ledger = Ledger()
    owned = [[] for _ in range(WORKERS)]
    kills = 0

    for round_no in range(ROUNDS):
        kill_after = ledger.acknowledged + rng.randint(10, 60)
        killing = threading.Event()
        workers = [Worker(srv, users[i % len(users)], ledger, random.Random(rng.getrandbits(64)), owned[i],
                          killing)
                   for i in range(WORKERS)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 120
        while ledger.acknowledged < kill_after:
            assert time.monotonic() < deadline, f"round {round_no}: writes stalled\n" + srv.stderr_text()[-4000:]
            assert all(w.is_alive() or w.failure is None for w in workers), [w.failure for w in workers]
            time.sleep(0.001)  # poll the counter; the kill moment is the count, not a time
        killing.set()
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(30)
        kills += 1
        for w in workers:
            w.stop.set()
            w.join(REQUEST_TIMEOUT + 5)
            assert not w.is_alive()
            assert w.failure is None, f"a request failed while the server was up: {w.failure!r}"
        srv = make_server(data_dir=data_dir)
        for u in users:
            _login_again(srv, u)

    assert kills >= 10

    # 1. Every acknowledged write is there.
    token = {u.id: u.access_token for u in users}
    for task_id, state in ledger.tasks.items():
        resp = srv.get(f"/api/tasks/{task_id}", token=token[state["owner"]])
        in_flight = task_id in ledger.uncertain
        if state.get("deleted"):
            assert resp.status == 404, (task_id, state, resp)
        elif in_flight:
            assert resp.status == 404 or (resp.status == 200 and resp.body["version"] in
                                          (state["version"], state["version"] + 1)), (task_id, state, resp)
        else:
            assert resp.status == 200, (task_id, state, resp)
            assert resp.body["version"] == state["version"], (task_id, state, resp.body)
            assert resp.body["status"] == state["status"], (task_id, state, resp.body)

    # 2. Every event is in the log exactly once.
    rows = sql(data_dir, "SELECT event_id, payload FROM outbox WHERE topic = 'task-events'")
    updates = sql(data_dir, "SELECT payload FROM outbox WHERE topic = 'task-updates'")
    event_ids = [r[0] for r in rows]
    assert len(event_ids) == len(set(event_ids))
    sequences = {}
    for _, payload in rows:
        data = json.loads(payload)["data"]
        sequences.setdefault(data["task_id"], []).append(data["sequence"])
    for task_id, seqs in sequences.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), (task_id, sorted(seqs))
    for task_id, state in ledger.tasks.items():
        assert task_id in sequences, f"acknowledged task {task_id} has no events"
        if not state.get("deleted") and task_id not in ledger.uncertain:
            assert max(sequences[task_id]) == state["version"], (task_id, state, sequences[task_id])
    user_seqs = {}
    for (payload,) in updates:
        data = json.loads(payload)["data"]
        user_seqs.setdefault(data["user_id"], []).append(data["user_seq"])
    for user_id, seqs in user_seqs.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), user_id

    # 3. Every task event has exactly one audit entry (the consumer catches up after restarts).
    poll_until(lambda: sql(data_dir, "SELECT COUNT(*) FROM audit_logs")[0][0] >= len(event_ids),
               "the audit consumer to catch up", CATCH_UP_DEADLINE)
    audited = [r[0] for r in sql(data_dir, "SELECT event_id FROM audit_logs")]
    # The log bus keeps no dedupe rows: the audit group's offsets, committed with its entries,
    # stand at the head of every partition.
    offsets = dict(sql(data_dir, "SELECT \"partition\", \"offset\" FROM consumer_offsets "
                                 "WHERE \"group\" = 'audit-service' AND topic = 'task-events'"))
    heads = dict(sql(data_dir, "SELECT \"partition\", MAX(\"offset\") + 1 FROM outbox "
                               "WHERE topic = 'task-events' GROUP BY \"partition\""))
    dead = sql(data_dir, "SELECT COUNT(*) FROM dead_letters")[0][0]
    assert len(audited) == len(set(audited)) == len(event_ids)
    assert set(audited) == set(event_ids)
    assert offsets == heads, (offsets, heads)
    assert sql(data_dir, "SELECT COUNT(*) FROM processed_events")[0][0] == 0
    assert dead == 0

    # 4. The chain verifies.
    admin = users[0]
    sql(data_dir, "UPDATE users SET role = 'admin' WHERE id = ?", (admin.id,), write=True)
    resp = srv.get("/api/audit-logs/verify", token=admin.access_token)
    assert resp.status == 200, resp
    assert resp.body["valid"] is True, resp.body
    assert resp.body["entries_checked"] == len(event_ids), resp.body

"""The distributed mode end to end (issue 16 item 6): the five roles (`todo api`, `recurring`,
`notify`, `sync`, `audit`) as processes of their own on one PostgreSQL database, with `--bus kafka`
against librdkafka's mock cluster (tests/support/kafka_mock_broker), a local SMTP server
(aiosmtpd) and a WebSocket client — everything driven from outside, as a user and an operator
would (HTTP, WebSocket, SMTP, signals; SQL and kcat only to know when the system has settled).

In order, on one deployment:
1. a task created through the api role reaches the audit log (read through the audit role);
2. completing a recurring task creates the next occurrence exactly once;
3. a reminder reaches the SMTP server through the notify role;
4. a WebSocket client of the sync role receives the change;
5. chaos: under a steady write load, each role in turn is SIGKILLed and restarted, then the broker
   is down for 30 s; once everything has settled, every acknowledged write has exactly one audit
   entry, no recurrence was created twice, every acknowledged task is readable as acknowledged,
   each reminder that fell due amid it was mailed exactly once, a WebSocket client that
   reconnects and resumes received every change, the audit chain verifies, and the restarted
   roles still deliver (a reminder, a WebSocket frame).

The roles listen on fixed ports (as behind an ingress), so a restarted role is found where it was.
Reminders run on the wall clock (the roles take no manual clock): a reminder is set a few seconds
ahead, as test_roles.py and test_notifications.py do. The broker's 30 s down time is the scenario
itself; every outcome is waited for as a condition with a deadline.

PostgreSQL only (the roles refuse SQLite); skipped when TODO_NO_KAFKA_TESTS is set. ADRs 0021, 0022.
"""

import asyncio
import http.client
import json
import os
import signal
import threading
import time
import uuid

import pytest

import todo_harness
from mock_kafka import TOPICS, MockKafka, helper_path
from task_harness import TaskApi, instant
from test_roles import Mailbox, _free_port
from todo_harness import (
    HIGH_LIMIT,
    POSTGRES,
    SECRET,
    TodoServer,
    poll_until,
    register,
    run_cli,
    scrubbed_env,
)

pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the five roles share one PostgreSQL database (a role refuses "
                       "SQLite); run with TODO_TEST_BACKEND=postgres (make system-test-pg)"),
    pytest.mark.skipif(bool(os.environ.get("TODO_NO_KAFKA_TESTS")),
                       reason="TODO_NO_KAFKA_TESTS is set: no Kafka mock cluster in this run"),
]

ROLES = ("api", "recurring", "notify", "sync", "audit")
GROUPS = {  # durable consumer group -> the topic it reads (the sync role's subscription is ephemeral)
    "audit-service": "task-events",
    "recurring-task-service": "task-events",
    "notification-service": "reminders",
}
MAIL_FROM = "Todo <todo@example.test>"
DEADLINE = 60.0  # one outcome in a quiet system; only turns a hang into a failure
# After the chaos: a restarted member of a consumer group waits for the killed one's session to
# expire (--kafka-session-timeout 6s; the mock cluster rebalances only then), the relay for its
# lease (10 s).
SETTLE = 150.0
BROKER_DOWN = 30.0  # seconds the broker is down: the scenario, not a wait for an outcome
WRITE_PAUSE = 0.05  # between two writes of the load: a steady load, not a flood of an ASan build
PROGRESS = 20  # acknowledged writes after each restart before the next blow


def _mock_broker_path(todo_bin):
    path = helper_path(todo_bin)
    if path is None:
        pytest.fail(f"the Kafka mock broker helper is not built next to {todo_bin}", pytrace=False)
    return path


class Role:
    """One role's process, restartable on the same port and data dir (a pod keeps its address)."""

    def __init__(self, todo_bin, name, data_dir, args):
        self.todo_bin = todo_bin
        self.name = name
        self.data_dir = data_dir
        self.port = _free_port()
        self.argv = [name, "--address", "127.0.0.1", "--port", str(self.port), "--data-dir", data_dir,
                     "--web-dir", os.path.join(data_dir, "no-web-app"),
                     "--login-limit-address", HIGH_LIMIT, "--login-limit-account", HIGH_LIMIT,
                     "--register-limit-address", HIGH_LIMIT] + list(args)
        self.processes = []  # every TodoServer this role ran, for the logs

    @property
    def server(self):
        return self.processes[-1]

    def start(self):
        srv = TodoServer(self.todo_bin, self.argv, scrubbed_env(), self.data_dir)
        self.processes.append(srv)
        srv.start()
        assert srv.port == self.port, (self.name, srv.listening)
        return srv

    def kill(self):
        rc = self.server.stop(signal.SIGKILL)
        assert rc == -signal.SIGKILL, (self.name, rc)

    def logs(self, tail=40):
        """The last lines of each process's log, without the access log and librdkafka's
        reconnect warnings (Deployment.save_logs keeps everything)."""
        out = []
        for i, srv in enumerate(self.processes):
            lines = [line for line in srv.stderr_text().splitlines()
                     if '"msg":"request"' not in line and '"msg":"librdkafka"' not in line]
            out.append(f"--- {self.name} process {i + 1} (exit {srv.returncode}); last {tail} of "
                       f"{len(lines)} lines (no requests, no librdkafka) ---")
            out += lines[-tail:]
        return "\n".join(out)


class Deployment:
    def __init__(self, cluster, database, kafka, mailbox, roles, log_dir):
        self.cluster = cluster
        self.database = database
        self.url = cluster.url(database)
        self.kafka = kafka
        self.mailbox = mailbox
        self.roles = roles
        self.log_dir = log_dir

    def __getitem__(self, name):
        return self.roles[name].server

    def sql(self, query, params=()):
        return self.cluster.query(self.database, query, params)

    def unshipped(self):
        return self.sql("SELECT COUNT(*) FROM outbox WHERE shipped_at IS NULL")[0][0]

    def lagging_groups(self):
        """The durable groups (with their committed offsets and the topic's end offsets) that have
        not yet consumed every message in Kafka; [] once each has."""
        behind = []
        for group, topic in GROUPS.items():
            ends = self.kafka.end_offsets(topic, TOPICS[topic])
            done = dict(self.sql('SELECT "partition", "offset" FROM consumer_offsets '
                                 'WHERE "group" = ? AND topic = ?', (group, topic)))
            if ends is None or any(done.get(p, 0) < end for p, end in ends.items()):
                behind.append((group, topic, done, ends))
        return behind

    def settled(self):
        """Everything written has been shipped to Kafka and consumed by every durable group."""
        return self.unshipped() == 0 and not self.lagging_groups()

    def diagnostics(self):
        dead = {f"{t}.dlq": self.kafka.end_offsets(f"{t}.dlq", 1) for t in TOPICS}
        parts = [f"unshipped outbox rows: {self.unshipped()}", f"lagging groups: {self.lagging_groups()}",
                 f"dead letters (end offsets of the .dlq topics): {dead}",
                 f"full logs of every role process: {self.log_dir}"]
        parts += [role.logs() for role in self.roles.values()]
        return "\n".join(parts)

    def save_logs(self):
        for role in self.roles.values():
            for i, srv in enumerate(role.processes):
                with open(os.path.join(self.log_dir, f"{role.name}-{i + 1}.log"), "w") as f:
                    f.write(srv.stderr_text())


@pytest.fixture(scope="module")
def deployment(todo_bin, tmp_path_factory):
    from aiosmtpd.controller import Controller

    cluster = todo_harness.cluster()
    kafka = MockKafka(_mock_broker_path(todo_bin), TOPICS)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    roles = {}
    deployment = None
    try:
        # An empty database, migrated by the operator's one-shot `todo migrate` before the roles start.
        database = cluster.new_database(migrated=False)
        url = cluster.url(database)
        migrate = run_cli(todo_bin, ["migrate", "--database-url", url], timeout=120)
        assert migrate.returncode == 0, migrate
        # --kafka-session-timeout 6s: a killed member's partitions go to its successor after 6 s
        # instead of librdkafka's 45 s (the smallest the flag and the broker allow).
        common = ["--database-url", url, "--jwt-secret", SECRET, "--bus", "kafka", "--kafka-brokers",
                  kafka.brokers, "--kafka-session-timeout", "6s"]
        extra = {"notify": ["--smtp-url", f"smtp://127.0.0.1:{smtp.port}", "--mail-from", MAIL_FROM]}
        for name in ROLES:
            data_dir = str(tmp_path_factory.mktemp(f"role-{name}"))
            roles[name] = Role(todo_bin, name, data_dir, common + extra.get(name, []))
            roles[name].start()
        log_dir = str(tmp_path_factory.mktemp("role-logs"))
        deployment = Deployment(cluster, database, kafka, mailbox, roles, log_dir)
        yield deployment
    finally:
        codes = {name: role.server.stop() for name, role in roles.items() if role.processes}
        if deployment is not None:
            deployment.save_logs()
            print(f"role logs: {deployment.log_dir}")
        smtp.stop()
        kafka.close()
    bad = {name: rc for name, rc in codes.items() if rc != 0}
    assert not bad, f"roles that did not stop cleanly on SIGTERM: {bad}"


@pytest.fixture(scope="module")
def user(deployment):
    return register(deployment["api"], timezone="UTC")


def _api(deployment, user):
    return TaskApi(deployment["api"], user)


def _series(deployment, user, series_id):
    resp = _api(deployment, user).get("/api/tasks?status=all&limit=500")
    assert resp.status == 200, resp
    return [t for t in resp.body["items"] if t["series_id"] == series_id]


def _wait_settled(deployment, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while not deployment.settled():
        if time.monotonic() > end:
            pytest.fail(f"the system did not settle within {timeout} s\n{deployment.diagnostics()}",
                        pytrace=False)
        time.sleep(0.2)


def _reminder_mail(deployment, user, title):
    """A task whose one reminder is 3 s from now; waits for its mail and its `sent` record."""
    api = _api(deployment, user)
    at = int(time.time()) + 3
    due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at + 60))
    task = api.create(title, due_date=due, reminders=[1])
    mails = poll_until(lambda: deployment.mailbox.for_task(task["id"]), f"the reminder mail of {title!r}",
                       DEADLINE)
    assert len(mails) == 1, mails
    rcpt, msg = mails[0]
    assert rcpt == [user.email], rcpt
    assert str(msg["Subject"]) == f"Reminder: {title}", msg["Subject"]

    def sent():
        resp = deployment["notify"].get(f"/api/tasks/{task['id']}/reminders", token=user.access_token)
        assert resp.status == 200, resp
        items = resp.body["items"]
        return items if items and items[0]["status"] == "sent" else None

    poll_until(sent, "the reminder to be recorded as sent", DEADLINE)
    return task


def _websocket_receives(deployment, user, title):
    """A WebSocket client of the sync role gets the task.created frame of a task created
    through the api role after it connected."""
    import websockets

    async def scenario():
        url = f"ws://127.0.0.1:{deployment['sync'].port}/ws/tasks?token={user.access_token}"
        async with websockets.connect(url, open_timeout=DEADLINE) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
            assert hello["type"] == "hello", hello
            task = await asyncio.to_thread(_api(deployment, user).create, title)
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
                if frame.get("type") == "task.created" and frame["task"]["id"] == task["id"]:
                    return frame

    frame = asyncio.run(asyncio.wait_for(scenario(), 2 * DEADLINE))
    assert frame["task"]["title"] == title, frame
    assert frame["task"]["user_id"] == user.id, frame


# ---------------------------------------------------------------------------------------------
# 1-4: the flows, one by one, on a quiet system


def test_a_task_created_through_the_api_role_reaches_the_audit_log(deployment, user):
    task = _api(deployment, user).create("audited through Kafka")

    def entries():
        resp = deployment["audit"].get(f"/api/audit-logs?task_id={task['id']}", token=user.access_token)
        assert resp.status == 200, resp
        return resp.body["items"] or None

    items = poll_until(entries, "the audit entry of the new task", DEADLINE)
    assert [(e["event_type"], e["sequence"], e["actor"]) for e in items] == \
        [("task.created", 1, f"user:{user.id}")], items
    assert items[0]["task"]["title"] == "audited through Kafka", items


def test_completing_a_recurring_task_creates_the_next_occurrence_exactly_once(deployment, user):
    api = _api(deployment, user)
    task = api.create("water the plants", due_date="2027-10-19T09:00", timezone="UTC", recurrence="daily")
    done = api.post(f"/api/tasks/{task['id']}/complete")
    assert done.status == 200, done
    poll_until(lambda: len(_series(deployment, user, task["series_id"])) >= 2, "the next occurrence", DEADLINE)
    # Once every event in Kafka has been consumed, there is still exactly one more.
    _wait_settled(deployment)
    items = _series(deployment, user, task["series_id"])
    assert len(items) == 2, items
    pending = [t for t in items if t["status"] == "pending"]
    assert len(pending) == 1, items
    assert instant(pending[0]["due_date"]) == instant("2027-10-20T09:00:00Z"), pending


def test_a_reminder_reaches_the_smtp_server_through_the_notify_role(deployment, user):
    _reminder_mail(deployment, user, "call the dentist")


def test_a_websocket_client_of_the_sync_role_receives_the_change(deployment, user):
    _websocket_receives(deployment, user, "pushed to the browser")


# ---------------------------------------------------------------------------------------------
# 5: chaos under load


class Load(threading.Thread):
    """Writes through the api role until stopped, and records every acknowledged write: creates
    (with an Idempotency-Key, so a retry of a create that committed before the api died is the
    same task), title updates of the task created last, every third round a recurring task
    created and completed, every tenth a task whose reminder is due 2 s later. A write that gets
    no answer (connection refused or reset: the api role is down) or a 503 is not acknowledged
    and is retried until it is; any other answer than success is recorded as an error."""

    RETRYABLE = (OSError, http.client.HTTPException)  # refused, reset, timed out, cut off

    def __init__(self, deployment, user):
        super().__init__(name="write-load", daemon=True)
        self.deployment = deployment
        self.user = user
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.acked = []  # (kind, task_id, version, title or None, series_id or None)
        self.reminded = []  # ids of the tasks created with a reminder
        self.unanswered = 0
        self.unavailable = 0  # 503 answers (retried, as the problem type says)
        self.errors = []  # unexpected answers
        self.crash = None

    def count(self):
        with self.lock:
            return len(self.acked)

    def writes(self):
        with self.lock:
            return list(self.acked)

    def _send(self, method, path, body=None, headers=None):
        """The answer to one request, retried while unanswered or 503; None when stopped first."""
        while not self.stopping.is_set():
            try:
                resp = self.deployment["api"].request(method, path, body=body,
                                                      headers=todo_harness.auth(self.user.access_token, headers))
                if resp.status != 503:
                    return resp
                with self.lock:  # "try again shortly": the database was out of reach or too contended
                    self.unavailable += 1
            except self.RETRYABLE:
                with self.lock:
                    self.unanswered += 1
            self.stopping.wait(0.1)  # a client's back-off before trying again
        return None

    def _ack(self, resp, expected, kind, title=None):
        if resp is None:
            return None
        if resp.status != expected:
            with self.lock:
                self.errors.append(resp)
            return None
        task = resp.body
        with self.lock:
            self.acked.append((kind, task["id"], task["version"], title, task["series_id"]))
        return task

    def _create(self, body):
        return self._send("POST", "/api/tasks", body, {"Idempotency-Key": str(uuid.uuid4())})

    def run(self):
        try:
            i = 0
            while not self.stopping.is_set():
                i += 1
                title = f"load {i}"
                task = self._ack(self._create({"title": title}), 201, "created", title)
                if task:
                    title = f"load {i} renamed"
                    self._ack(self._send("PATCH", f"/api/tasks/{task['id']}", {"title": title}), 200,
                              "updated", title)
                if i % 3 == 0:
                    body = {"title": f"daily {i}", "recurrence": "daily", "timezone": "UTC",
                            "due_date": "2030-01-01T09:00"}
                    task = self._ack(self._create(body), 201, "created", body["title"])
                    if task:
                        self._ack(self._send("POST", f"/api/tasks/{task['id']}/complete"), 200, "completed")
                if i % 10 == 5:  # a reminder 2 s ahead: it falls due amid the chaos
                    at = int(time.time()) + 2
                    body = {"title": f"remind {i}", "reminders": [1],
                            "due_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at + 60))}
                    task = self._ack(self._create(body), 201, "created", body["title"])
                    if task:
                        with self.lock:
                            self.reminded.append(task["id"])
                self.stopping.wait(WRITE_PAUSE)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.crash = e

    def stop(self):
        self.stopping.set()
        self.join(2 * todo_harness.HTTP_TIMEOUT)
        assert not self.is_alive(), "the load thread did not stop"
        assert self.crash is None, f"the load thread crashed: {self.crash!r}"


class Watcher(threading.Thread):
    """A WebSocket client of the sync role through the chaos, as the web app is: it keeps a
    connection open, and when it drops (the sync role was killed) reconnects and sends `resume`
    with the last seq it saw. Keeps every task frame it received, by seq."""

    def __init__(self, deployment, user):
        super().__init__(name="websocket-watcher", daemon=True)
        self.deployment = deployment
        self.user = user
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.start_seq = None  # the counter of the first hello
        self.last = None  # the highest seq received
        self.frames = {}  # seq -> the first frame received with it
        self.connections = 0
        self.resyncs = []  # resync-required frames (the client would have to fall back to /api/sync)
        self.crash = None

    def seen(self):
        with self.lock:
            return self.last, dict(self.frames), list(self.resyncs)

    async def _session(self):
        import websockets

        url = f"ws://127.0.0.1:{self.deployment.roles['sync'].port}/ws/tasks?token={self.user.access_token}"
        async with websockets.connect(url, open_timeout=5, close_timeout=1) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
            assert hello["type"] == "hello", hello
            with self.lock:
                self.connections += 1
                if self.start_seq is None:
                    self.start_seq = self.last = hello["seq"]
                since = self.last
            if self.connections > 1:
                await ws.send(json.dumps({"type": "resume", "since": since}))
            while not self.stopping.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except asyncio.TimeoutError:
                    continue
                with self.lock:
                    if frame.get("type") == "resync-required":
                        self.resyncs.append(frame)
                    elif str(frame.get("type", "")).startswith("task.") and "seq" in frame:
                        self.frames.setdefault(frame["seq"], frame)
                        self.last = max(self.last, frame["seq"])

    async def _main(self):
        import websockets

        while not self.stopping.is_set():
            try:
                await self._session()
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.2)  # a client's back-off before reconnecting

    def run(self):
        try:
            asyncio.run(self._main())
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.crash = e

    def stop(self):
        self.stopping.set()
        self.join(DEADLINE)
        assert not self.is_alive(), "the WebSocket client did not stop"
        assert self.crash is None, f"the WebSocket client crashed: {self.crash!r}"


def _counter(deployment, user):
    """The user's change counter now: the seq of a fresh connection's hello."""
    async def hello():
        import websockets

        url = f"ws://127.0.0.1:{deployment['sync'].port}/ws/tasks?token={user.access_token}"
        async with websockets.connect(url, open_timeout=DEADLINE) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))["seq"]

    return asyncio.run(hello())


def _all_pages(server, path, token):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit=500" + (f"&cursor={cursor}" if cursor else "")
        resp = server.get(url, token=token)
        assert resp.status == 200, resp
        items += resp.body["items"]
        cursor = resp.body["next_cursor"]
        if not cursor:
            return items


def _wait_progress(load, count, what):
    def progressed():
        assert load.is_alive(), f"the load thread ended: {load.crash!r}"
        return load.count() >= count

    poll_until(progressed, f"{count - load.count()} more acknowledged writes {what}", DEADLINE)


def test_chaos_every_role_killed_and_the_broker_down_under_load(deployment, user, todo_bin, request):
    watcher = Watcher(deployment, user)
    request.addfinalizer(watcher.stopping.set)
    watcher.start()
    poll_until(lambda: watcher.start_seq is not None or not watcher.is_alive(), "the WebSocket client's hello",
               DEADLINE)
    load = Load(deployment, user)
    load.start()
    try:
        _wait_progress(load, PROGRESS, "before the first kill")
        for name in ROLES:
            deployment.roles[name].kill()
            deployment.roles[name].start()
            _wait_progress(load, load.count() + PROGRESS, f"after {name} was killed and restarted")
        deployment.kafka.command("down 1")
        down_at = time.monotonic()
        before = load.count()
        # Held down for the scenario's 30 s while the api keeps acknowledging writes.
        while time.monotonic() - down_at < BROKER_DOWN:
            assert load.is_alive(), f"the load thread ended: {load.crash!r}"
            time.sleep(0.5)
        during = load.count() - before
        deployment.kafka.command("up 1")
        _wait_progress(load, load.count() + PROGRESS, "after the broker came back")
    finally:
        load.stop()
    assert watcher.is_alive(), f"the WebSocket client ended: {watcher.crash!r}"
    assert during > 0, "no write was acknowledged while the broker was down"
    assert not load.errors, f"writes answered with an unexpected status: {load.errors[:5]}"
    writes = load.writes()
    up_at = time.monotonic()

    _wait_settled(deployment, SETTLE)
    dead = {name: role.server.proc.poll() for name, role in deployment.roles.items() if not role.server.alive()}
    assert not dead, f"roles that died on their own: {dead}\n{deployment.diagnostics()}"
    kinds = {k: sum(1 for w in writes if w[0] == k) for k in ("created", "updated", "completed")}
    print(f"chaos: {len(writes)} acknowledged writes {kinds} ({len(load.reminded)} with a reminder), "
          f"{during} while the broker was down, "
          f"{load.unanswered} unanswered attempts and {load.unavailable} 503s retried; "
          f"settled {time.monotonic() - up_at:.1f} s after the load stopped")
    failures = []

    # Every acknowledged write has exactly one audit entry (task, version), of its kind; and no
    # event has two entries.
    entries = _all_pages(deployment["audit"], "/api/audit-logs", user.access_token)
    by_write = {}
    for e in entries:
        by_write.setdefault((e["task_id"], e["sequence"]), []).append(e)
    doubled = {k: [e["event_type"] for e in v] for k, v in by_write.items() if len(v) > 1}
    if doubled:
        failures.append(f"{len(doubled)} (task, version) pairs with more than one audit entry: "
                        f"{list(doubled.items())[:5]}")
    missing = [w for w in writes if (w[1], w[2]) not in by_write]
    if missing:
        failures.append(f"{len(missing)} of {len(writes)} acknowledged writes have no audit entry: {missing[:5]}")
    wrong = [(w, [e["event_type"] for e in by_write[(w[1], w[2])]]) for w in writes
             if (w[1], w[2]) in by_write and
             any(e["event_type"] != f"task.{w[0]}" for e in by_write[(w[1], w[2])])]
    if wrong:
        failures.append(f"acknowledged writes audited as another kind: {wrong[:5]}")

    # Every acknowledged task is readable, as its last acknowledged write left it.
    api = _api(deployment, user)
    last = {}
    for kind, task_id, version, title, _ in writes:
        last[task_id] = (version, title or last.get(task_id, (0, None))[1])
    for task_id, (version, title) in last.items():
        resp = api.get(f"/api/tasks/{task_id}")
        if resp.status != 200:
            failures.append(f"acknowledged task {task_id} is lost: {resp!r}")
        elif resp.body["version"] != version or resp.body["title"] != title:
            failures.append(f"task {task_id}: version {resp.body['version']} {resp.body['title']!r}, "
                            f"acknowledged {version} {title!r}")

    # Each completed recurring task has exactly one next occurrence; no series has more.
    tasks = _all_pages(deployment["api"], "/api/tasks?status=all", user.access_token)
    series = {}
    for t in tasks:
        if t["series_id"]:
            series.setdefault(t["series_id"], []).append(t)
    completed = {w[4] for w in writes if w[0] == "completed"}
    for series_id in completed:
        items = series.get(series_id, [])
        states = sorted(t["status"] for t in items)
        if states != ["completed", "pending"]:
            failures.append(f"series {series_id}: {len(items)} tasks {states}, expected one completed "
                            f"and its one next occurrence")
    for series_id, items in series.items():
        if len(items) > 2:
            failures.append(f"series {series_id} has {len(items)} tasks: {[t['id'] for t in items]}")

    # Each reminder that fell due amid the chaos was mailed exactly once (late, if its instant
    # passed while the notify role or the broker was down) and is recorded as sent.
    mailbox = deployment.mailbox

    def all_mailed():
        return all(mailbox.for_task(task_id) for task_id in load.reminded)

    try:
        poll_until(all_mailed, f"the mails of {len(load.reminded)} reminders", DEADLINE)
    except AssertionError as e:
        failures.append(f"{e}: {[t for t in load.reminded if not mailbox.for_task(t)]}")
    for task_id in load.reminded:
        mails = mailbox.for_task(task_id)
        if len(mails) > 1:
            failures.append(f"task {task_id}: its reminder was mailed {len(mails)} times")
        resp = deployment["notify"].get(f"/api/tasks/{task_id}/reminders", token=user.access_token)
        states = [r["status"] for r in resp.body["items"]] if resp.status == 200 else resp
        if mails and states != ["sent"]:
            failures.append(f"task {task_id}: mailed, but its reminders are {states}")

    # The WebSocket client, reconnecting and resuming across the sync role's death, has received
    # every change: each seq up to the counter, a frame for each acknowledged write.
    counter = _counter(deployment, user)
    try:
        poll_until(lambda: watcher.seen()[0] >= counter, f"the WebSocket client to reach seq {counter}", DEADLINE)
    except AssertionError as e:
        failures.append(str(e))
    watcher.stop()
    last, frames, resyncs = watcher.seen()
    print(f"chaos: the WebSocket client received {len(frames)} changes over {watcher.connections} connections")
    if watcher.connections < 2:
        failures.append("the WebSocket client never reconnected: was the sync role killed?")
    if resyncs:
        failures.append(f"the WebSocket client was told to resync: {resyncs[:3]}")
    absent = sorted(set(range(watcher.start_seq + 1, counter + 1)) - set(frames))
    if absent:
        failures.append(f"the WebSocket client ({watcher.connections} connections) never received "
                        f"{len(absent)} of the changes {watcher.start_seq + 1}..{counter}: {absent[:20]}")
    pushed = {(f["task"]["id"], f["task"]["version"]) for f in frames.values() if "task" in f}
    unpushed = [w for w in writes if (w[1], w[2]) not in pushed]
    if unpushed:
        failures.append(f"{len(unpushed)} acknowledged writes never reached the WebSocket client: {unpushed[:5]}")

    assert not failures, (f"{len(writes)} acknowledged writes ({load.unanswered} unanswered attempts "
                          f"retried):\n" + "\n".join(failures) + "\n" + deployment.diagnostics())

    # The audit chain still verifies (asked as an admin, made by the operator's CLI).
    r = run_cli(todo_bin, ["admin", "set-role", "--database-url", deployment.url, "--email", user.email,
                           "--role", "admin"])
    assert r.returncode == 0, r
    verify = deployment["audit"].get("/api/audit-logs/verify", token=user.access_token)
    assert verify.status == 200 and verify.body["valid"] is True, verify

    # The restarted roles still deliver: a reminder by mail, a change over WebSocket.
    _reminder_mail(deployment, user, "after the storm")
    _websocket_receives(deployment, user, "live after the storm")

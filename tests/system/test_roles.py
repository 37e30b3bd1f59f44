"""The five roles (`todo api`, `recurring`, `notify`, `sync`, `audit`) as processes of their own on
one PostgreSQL database, with the log bus over its outbox (DESIGN §1, ADR 0022).

Each role has its own data dir (as on separate machines) and shares only the database and the
JWT secret. A task created through the api role reaches the audit log (read through the audit
role); completing a recurring task creates the next occurrence once; a WebSocket client of each of
two sync replicas receives the change; a reminder reaches a local SMTP server through the notify
role; every role answers /health, /ready and /metrics, and 404s the routes of the others.

On the postgres backend the run's cluster is used; on SQLite (the default run) the module starts
a PostgreSQL cluster of its own, so `make test` runs this in both of its system-test runs."""

import asyncio
import json
import os
import socket
import threading
import time
import email
import email.policy

import pytest

import todo_harness
from task_harness import TaskApi, instant
from todo_harness import POSTGRES, SECRET, ServerFactory, assert_problem, poll_until, register, run_cli

ROLES = {"api": 8000, "recurring": 8001, "notify": 8002, "sync": 8003, "audit": 8004}
DEADLINE = 30.0
MAIL_FROM = "Todo <todo@example.test>"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every mail it receives."""

    def __init__(self):
        self.mails = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def for_task(self, task_id):
        with self.lock:
            return [m for m in self.mails if m[1]["X-Todo-Task-Id"] == task_id]


@pytest.fixture(scope="module")
def postgres(todo_bin):
    """(cluster, owned): the run's cluster on the postgres backend, else one started here."""
    if POSTGRES:
        yield todo_harness.cluster()
        return
    import pg_cluster

    if not os.path.exists(os.path.join(pg_cluster.BIN, "postgres")):
        pytest.skip(f"the roles need PostgreSQL and {pg_cluster.BIN}/postgres is not installed "
                    "(scripts/install-deps.sh installs postgresql-15)")
    cluster = pg_cluster.Cluster()
    try:
        cluster.init().start()
        cluster.prepare_template(todo_bin, todo_harness.scrubbed_env())
    except Exception:
        cluster.destroy()
        raise
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def mailbox():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


class Deployment:
    def __init__(self, cluster, database, roles):
        self.cluster = cluster
        self.database = database
        self.roles = roles  # name -> TodoServer

    def __getitem__(self, role):
        return self.roles[role]

    def sql(self, query, params=()):
        return self.cluster.query(self.database, query, params)

    def consumed_everything(self, group, topic="task-events"):
        heads = dict(self.sql('SELECT "partition", next_offset FROM log_heads WHERE topic = ?', (topic,)))
        done = dict(self.sql('SELECT "partition", "offset" FROM consumer_offsets '
                             'WHERE "group" = ? AND topic = ?', (group, topic)))
        return all(done.get(p, 0) >= head for p, head in heads.items())


@pytest.fixture(scope="module")
def deployment(todo_bin, tmp_path_factory, postgres, mailbox):
    database = postgres.new_database()
    url = postgres.url(database)
    factory = ServerFactory(todo_bin, tmp_path_factory)
    role_args = {
        "api": [],
        "recurring": [],
        "notify": ["--smtp-url", f"smtp://127.0.0.1:{mailbox.port}", "--mail-from", MAIL_FROM],
        "sync": [],
        "audit": [],
    }
    roles = {}
    try:
        for role, args in role_args.items():
            roles[role] = factory(args=["--database-url", url] + args, command=role)
        # A second replica of the sync role: each replica sees every update (ADR 0014, 0022).
        roles["sync-2"] = factory(args=["--database-url", url], command="sync")
        yield Deployment(postgres, database, roles)
    finally:
        stopped = factory.close()
    bad = [(srv.argv[0], rc) for srv, rc in stopped if rc != 0]
    assert not bad, f"roles that did not stop cleanly on SIGTERM: {bad}"


@pytest.fixture
def user_api(deployment):
    """A fresh user and its TaskApi on the api role."""
    user = register(deployment["api"], timezone="UTC")
    return user, TaskApi(deployment["api"], user)


# ---------------------------------------------------------------------------------------------


def test_every_role_answers_health_ready_and_metrics(deployment):
    for role, server in deployment.roles.items():
        assert server.listening["command"] == role.split("-")[0]
        health = server.get("/health")
        assert health.status == 200 and health.body == {"status": "ok"}, (role, health)
        ready = poll_until(lambda: (lambda r: r if r.status == 200 else None)(server.get("/ready")),
                           f"{role} to be ready", DEADLINE)
        assert ready.body["checks"] == {"database": "ok", "bus": "ok"}, (role, ready)
        metrics = server.get("/metrics")
        assert metrics.status == 200, (role, metrics)
        assert "todo_http_requests_total" in metrics.raw.decode(), role


def test_each_role_answers_only_its_own_routes(deployment, user_api):
    user, _ = user_api
    token = user.access_token
    assert_problem(deployment["audit"].get("/api/tasks", token=token), 404, "not-found")
    assert_problem(deployment["sync"].get("/api/audit-logs", token=token), 404, "not-found")
    assert_problem(deployment["recurring"].get("/api/tasks", token=token), 404, "not-found")
    assert_problem(deployment["notify"].post("/api/auth/login", {"email": user.email}), 404,
                   "not-found")
    assert_problem(deployment["api"].get("/api/audit-logs", token=token), 404, "not-found")
    # The notify role's own route answers with the api role's token.
    targets = deployment["notify"].get("/api/notification-targets", token=token)
    assert targets.status == 200, targets


def test_a_task_created_through_the_api_reaches_the_audit_log(deployment, user_api):
    user, api = user_api
    task = api.create("audited through the roles")
    audit = deployment["audit"]

    def entries():
        resp = audit.get(f"/api/audit-logs?task_id={task['id']}", token=user.access_token)
        assert resp.status == 200, resp
        return resp.body["items"] or None

    items = poll_until(entries, "the audit entry of the new task", DEADLINE)
    assert [e["event_type"] for e in items] == ["task.created"], items
    history = audit.get(f"/api/tasks/{task['id']}/history", token=user.access_token)
    assert history.status == 200 and len(history.body["items"]) == 1, history


def test_completing_a_recurring_task_creates_the_next_occurrence_once(deployment, user_api):
    _, api = user_api
    task = api.create("water the plants", due_date="2027-10-19T09:00", recurrence="daily")
    done = api.post(f"/api/tasks/{task['id']}/complete")
    assert done.status == 200, done

    def series():
        resp = api.get("/api/tasks?status=all")
        assert resp.status == 200, resp
        items = [t for t in resp.body["items"] if t["series_id"] == task["series_id"]]
        return items if len(items) >= 2 else None

    poll_until(series, "the next occurrence", DEADLINE)
    # Once the recurring group has consumed the whole log, there is still exactly one more.
    poll_until(lambda: deployment.consumed_everything("recurring-task-service"),
               "the recurring role to consume every task event", DEADLINE)
    items = series()
    assert len(items) == 2, items
    pending = [t for t in items if t["status"] == "pending"]
    assert len(pending) == 1, items
    assert instant(pending[0]["due_date"]) == instant("2027-10-20T09:00:00Z"), pending


def test_websocket_clients_of_every_sync_replica_receive_the_change(deployment, user_api):
    import websockets

    user, api = user_api
    replicas = [deployment["sync"], deployment["sync-2"]]

    async def next_created(ws, task_id):
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
            if frame.get("type") == "task.created" and frame["task"]["id"] == task_id:
                return frame

    async def scenario():
        sockets = []
        try:
            for sync in replicas:
                url = f"ws://127.0.0.1:{sync.port}/ws/tasks?token={user.access_token}"
                ws = await websockets.connect(url, open_timeout=DEADLINE)
                sockets.append(ws)
                hello = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
                assert hello["type"] == "hello", hello
            task = await asyncio.to_thread(api.create, "pushed to the browser")
            return await asyncio.gather(*(next_created(ws, task["id"]) for ws in sockets))
        finally:
            for ws in sockets:
                await ws.close()

    frames = asyncio.run(asyncio.wait_for(scenario(), 2 * DEADLINE))
    assert [f["task"]["title"] for f in frames] == ["pushed to the browser"] * 2, frames


def test_a_reminder_reaches_smtp_through_the_notify_role(deployment, user_api, mailbox):
    user, api = user_api
    instant = int(time.time()) + 3
    due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(instant + 60))
    task = api.create("call the dentist", due_date=due, reminders=[1])
    mails = poll_until(lambda: mailbox.for_task(task["id"]), "the reminder mail", DEADLINE)
    rcpt, msg = mails[0]
    assert rcpt == [user.email]
    assert str(msg["Subject"]) == "Reminder: call the dentist"

    def sent():
        resp = deployment["notify"].get(f"/api/tasks/{task['id']}/reminders", token=user.access_token)
        assert resp.status == 200, resp
        items = resp.body["items"]
        return items if items and items[0]["status"] == "sent" else None

    poll_until(sent, "the reminder to be recorded as sent", DEADLINE)


def test_a_role_refuses_sqlite_with_a_clear_error(todo_bin, tmp_path):
    for role in ROLES:
        r = run_cli(todo_bin, [role, "--jwt-secret", SECRET])
        assert r.returncode == 2, (role, r)
        err = r.stderr.decode()
        assert "--database-url" in err and "todo serve" in err, err
    r = run_cli(todo_bin, ["audit", "--database-url", "postgres://db/todo"])
    assert r.returncode == 2 and b"--jwt-secret" in r.stderr, r
    help_text = run_cli(todo_bin, ["sync", "--help"])
    assert help_text.returncode == 0 and b"--trusted-proxies" in help_text.stdout, help_text

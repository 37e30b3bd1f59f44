"""`todo serve --bus dapr` against a fake Dapr sidecar (fake_dapr_sidecar.py: Dapr's documented
publish API, programmatic subscriptions and SUCCESS/RETRY/DROP answers; no real daprd can be
installed here). ADR 0024.

A created task is published through the sidecar as a structured CloudEvent and reaches the audit
log through the delivery route; a redelivered event is applied once; writes are accepted while the
sidecar is down and the backlog drains when it is back; a poison event is retried, then answered
DROP and dead-lettered to task-events.dlq; with PostgreSQL stopped the answer is RETRY (never
counted as an attempt) and the event is applied once when it is back (postgres backend only); the
routes refuse a wrong token and a malformed CloudEvent; a WebSocket client gets its live frame
through the fan-out route; /dapr/subscribe lists each role's topics (the roles run on PostgreSQL:
on the SQLite run the module starts a cluster of its own, as test_roles does)."""

import json
import uuid

import pytest

from fake_dapr_sidecar import FakeDaprSidecar
from task_harness import TaskApi
from test_dead_letters import _refuse_audit_of  # noqa: F401  (a trigger, both backends)
from test_roles import postgres  # noqa: F401  (the fixture: a PostgreSQL cluster for the roles)
from todo_harness import POSTGRES, ServerFactory, assert_problem, cluster, poll_until, register, sql

DEADLINE = 30.0


@pytest.fixture
def sidecar():
    s = FakeDaprSidecar().start()
    yield s
    s.close()


def _serve(make_server, sidecar, *args, env=None):
    srv = make_server(args=["--bus", "dapr", "--dapr-http-port", str(sidecar.port), *args], env=env)
    sidecar.attach("127.0.0.1", srv.port)
    return srv


def _audit_entries(srv, event_id):
    return sql(srv.data_dir, "SELECT COUNT(*) FROM audit_logs WHERE event_id = ?", (event_id,))[0][0]


def _unshipped(srv):
    return sql(srv.data_dir, "SELECT COUNT(*) FROM outbox WHERE shipped_at IS NULL")[0][0]


def _history(api, task_id):
    def found():
        resp = api.get(f"/api/tasks/{task_id}/history")
        return resp.body["items"] if resp.status == 200 and resp.body["items"] else None

    return poll_until(found, "the task's audit entries", DEADLINE)


def _published_event(sidecar, task_id, type_suffix="created"):
    def found():
        for p in sidecar.published_to("task-events"):
            if p.event["data"]["task_id"] == task_id and p.event["type"].endswith(type_suffix):
                return p
        return None

    return poll_until(found, f"the task.{type_suffix} event at the sidecar", DEADLINE)


def test_a_created_task_is_published_through_the_sidecar_and_reaches_the_audit_log(
        make_server, sidecar):
    srv = _serve(make_server, sidecar)
    api = TaskApi(srv, register(srv))
    task = api.post("/api/tasks", {"title": "Through Dapr"})
    assert task.status == 201, task
    published = _published_event(sidecar, task.body["id"])
    assert published.pubsub == "todo-pubsub"
    assert published.content_type == "application/cloudevents+json"
    event = published.event
    assert event["specversion"] == "1.0" and event["type"] == "com.todo.task.created", event
    assert event["data"]["task_id"] == task.body["id"]
    assert published.metadata.get("partitionKey") == task.body["id"], published.metadata
    assert "dapr-api-token" not in {k.lower() for k in published.headers}

    entries = _history(api, task.body["id"])
    assert entries[0]["event_type"].endswith("created"), entries
    assert ("/dapr/events/task-events", event["id"], 200, "SUCCESS") in sidecar.answers_for(event["id"])
    poll_until(lambda: _unshipped(srv) == 0, "every outbox row shipped", DEADLINE)


def test_a_redelivered_event_is_applied_once(make_server, sidecar):
    srv = _serve(make_server, sidecar)
    api = TaskApi(srv, register(srv))
    task = api.post("/api/tasks", {"title": "Twice delivered"})
    published = _published_event(sidecar, task.body["id"])
    _history(api, task.body["id"])
    assert _audit_entries(srv, published.event["id"]) == 1
    # The broker hands the same event out again (a rebalance, a sidecar restart).
    for _ in range(2):
        status, body, _ = sidecar.app_request("POST", "/dapr/events/task-events",
                                              body=json.dumps(dict(published.event, topic="task-events")))
        assert (status, json.loads(body)) == (200, {"status": "SUCCESS"})
    assert _audit_entries(srv, published.event["id"]) == 1
    assert len(api.get(f"/api/tasks/{task.body['id']}/history").body["items"]) == 1


def test_writes_are_accepted_while_the_sidecar_is_down_and_the_backlog_drains(make_server, sidecar):
    srv = _serve(make_server, sidecar)
    api = TaskApi(srv, register(srv))
    warm = api.post("/api/tasks", {"title": "before"})
    _history(api, warm.body["id"])
    poll_until(lambda: _unshipped(srv) == 0, "the first task shipped", DEADLINE)
    sidecar.stop()
    created = []
    for i in range(5):
        resp = api.post("/api/tasks", {"title": f"while the sidecar is down {i}"})
        assert resp.status == 201, resp
        created.append(resp.body["id"])
    srv.wait_for_log(lambda o: o.get("msg") == "relay: the Dapr sidecar did not take an event; it is sent again",
                     timeout=DEADLINE)
    assert _unshipped(srv) > 0
    sidecar.start()
    for task_id in created:
        _history(api, task_id)
    poll_until(lambda: _unshipped(srv) == 0, "the backlog shipped", DEADLINE)
    # Each partition in the outbox's order: the sidecar saw the offsets ascending.
    seen = {}
    for p in sidecar.published_to("task-events"):
        part, offset = p.event["todopartition"], p.event["todooffset"]
        assert offset > seen.get(part, -1), (part, offset, seen)
        seen[part] = offset


def test_a_poison_event_is_retried_then_dropped_and_dead_lettered(make_server, sidecar, todo_bin):
    srv = _serve(make_server, sidecar, "--bus-retry-backoff", "1ms,1ms")  # three attempts
    api = TaskApi(srv, register(srv))
    task = api.post("/api/tasks", {"title": "template"})
    template = _published_event(sidecar, task.body["id"]).event
    _history(api, task.body["id"])
    poison_id = str(uuid.uuid4())
    _refuse_audit_of(srv, poison_id)
    poison = {k: v for k, v in template.items() if not k.startswith("todo")}
    poison["id"] = poison_id
    poison["data"] = dict(poison["data"], idempotency_key=poison_id)
    sidecar.inject("task-events", poison)

    def answered():
        answers = [a[3] for a in sidecar.answers_for(poison_id) if a[0] == "/dapr/events/task-events"]
        return answers if answers and answers[-1] != "RETRY" else None

    # The recurring group handles it at once; the audit group fails three times.
    assert poll_until(answered, "the poison's last answer", DEADLINE) == ["RETRY", "RETRY", "DROP"]
    letters = sql(srv.data_dir, 'SELECT "group", attempts, status FROM dead_letters WHERE event_id = ?',
                  (poison_id,))
    assert letters == [("audit-service", 3, "dead")], letters
    assert _audit_entries(srv, poison_id) == 0

    # The dead letter is an event of task-events.dlq, shipped through the sidecar like any other.
    def dlq():
        return [p for p in sidecar.published_to("task-events.dlq") if p.event.get("event_id") == poison_id]

    letter = poll_until(dlq, "the dead letter at the sidecar", DEADLINE)[0].event
    assert letter["group"] == "audit-service" and letter["event"]["id"] == poison_id, letter


@pytest.mark.skipif(not POSTGRES, reason="stops and starts the PostgreSQL server; SQLite has no server "
                    "to lose (run with TODO_TEST_BACKEND=postgres, as make test does)")
def test_retry_while_the_database_is_unreachable_then_applied_once(make_server, sidecar):
    srv = _serve(make_server, sidecar)
    api = TaskApi(srv, register(srv))
    task = api.post("/api/tasks", {"title": "template"})
    template = _published_event(sidecar, task.body["id"]).event
    _history(api, task.body["id"])
    event = {k: v for k, v in template.items() if not k.startswith("todo")}
    event["id"] = str(uuid.uuid4())
    event["data"] = dict(event["data"], idempotency_key=event["id"])
    pg = cluster()
    pg.stop("fast")
    try:
        sidecar.inject("task-events", event)
        poll_until(lambda: any(a[3] == "RETRY" for a in sidecar.answers_for(event["id"])),
                   "a RETRY while PostgreSQL is down", DEADLINE)
    finally:
        pg.start()
    poll_until(lambda: [a[3] for a in sidecar.answers_for(event["id"])][-1] == "SUCCESS",
               "SUCCESS once PostgreSQL is back", DEADLINE)
    answers = [a[3] for a in sidecar.answers_for(event["id"])]
    assert set(answers) == {"RETRY", "SUCCESS"}, answers  # never DROP: an outage is no attempt
    assert _audit_entries(srv, event["id"]) == 1
    assert sql(srv.data_dir, "SELECT COUNT(*) FROM dead_letters")[0][0] == 0


def test_a_malformed_cloud_event_is_a_400_naming_the_field(make_server, sidecar):
    srv = _serve(make_server, sidecar)
    cases = [("{not json", "body"),
             (json.dumps({"specversion": "1.0", "type": "t", "source": "s"}), "id"),
             (json.dumps({"specversion": "2.0", "id": "x", "type": "t", "source": "s"}), "specversion")]
    for body, field in cases:
        resp = srv.post("/dapr/events/task-events", raw_body=body.encode(),
                        headers={"content-type": "application/cloudevents+json"})
        assert_problem(resp, 400, "bad-request")
        assert [e["field"] for e in resp.body["errors"]] == [field], resp.body
    resp = srv.post("/dapr/events/no-such-topic", raw_body=b"{}")
    assert_problem(resp, 404, "not-found")
    assert srv.alive()


def test_the_tokens_both_ways(make_server):
    """APP_API_TOKEN: what the sidecar must send to the /dapr/ routes; DAPR_API_TOKEN: what the
    relay sends to the sidecar (the fake refuses a publish without it with 401)."""
    sidecar = FakeDaprSidecar(app_token="the-app-token", api_token="the-sidecar-token").start()
    try:
        srv = _serve(make_server, sidecar, env={"APP_API_TOKEN": "the-app-token",
                                                "DAPR_API_TOKEN": "the-sidecar-token"})
        assert_problem(srv.get("/dapr/subscribe"), 401, "token-missing")
        assert_problem(srv.get("/dapr/subscribe", headers={"dapr-api-token": "wrong"}), 401, "token-invalid")
        assert_problem(srv.post("/dapr/events/task-events", raw_body=b"{}",
                                headers={"dapr-api-token": "wrong"}), 401, "token-invalid")
        assert srv.get("/dapr/subscribe", headers={"dapr-api-token": "the-app-token"}).status == 200
        # The fake sidecar sends the right one: deliveries work; the relay sent its token.
        api = TaskApi(srv, register(srv))
        task = api.post("/api/tasks", {"title": "with tokens"})
        _history(api, task.body["id"])
        published = _published_event(sidecar, task.body["id"])
        assert {k.lower(): v for k, v in published.headers.items()}["dapr-api-token"] == "the-sidecar-token"
        assert "the-sidecar-token" not in srv.stderr_text() and "the-app-token" not in srv.stderr_text()
    finally:
        sidecar.close()


def _subscriptions(srv):
    resp = srv.get("/dapr/subscribe")
    assert resp.status == 200, resp
    return sorted((s["pubsubname"], s["topic"], s["route"]) for s in resp.body)


SERVE_SUBSCRIPTIONS = [("todo-pubsub", "reminders", "/dapr/events/reminders"),
                       ("todo-pubsub", "task-events", "/dapr/events/task-events"),
                       ("todo-pubsub-fanout", "task-updates", "/dapr/fanout/task-updates")]


def test_serve_subscribes_to_every_topic_its_services_consume(make_server, sidecar):
    srv = _serve(make_server, sidecar)
    assert _subscriptions(srv) == SERVE_SUBSCRIPTIONS
    for s in srv.get("/dapr/subscribe").body:
        assert s["metadata"] == {"rawPayload": "false"}, s


def test_openapi_documents_the_dapr_routes(make_server, sidecar):
    srv = _serve(make_server, sidecar)
    resp = srv.get("/openapi.json")
    assert resp.status == 200, resp
    paths = resp.body["paths"]
    assert "200" in paths["/dapr/subscribe"]["get"]["responses"]
    for path in ("/dapr/events/{topic}", "/dapr/fanout/{topic}"):
        responses = paths.get(path, {}).get("post", {}).get("responses", {})
        assert {"200", "400", "401", "404"} <= set(responses), f"{path} is not documented"
    status = resp.body["components"]["schemas"]["DaprStatus"]["properties"]["status"]
    assert set(status["enum"]) == {"SUCCESS", "RETRY", "DROP"}


def test_each_role_subscribes_to_the_topics_of_its_service(todo_bin, tmp_path_factory, postgres):  # noqa: F811
    sidecar = FakeDaprSidecar().start()
    factory = ServerFactory(todo_bin, tmp_path_factory)
    try:
        url = postgres.url(postgres.new_database())
        expected = {
            "api": [],
            "recurring": [("todo-pubsub", "task-events", "/dapr/events/task-events")],
            "notify": [("todo-pubsub", "reminders", "/dapr/events/reminders")],
            "sync": [("todo-pubsub-fanout", "task-updates", "/dapr/fanout/task-updates")],
            "audit": [("todo-pubsub", "task-events", "/dapr/events/task-events")],
        }
        for role, subscriptions in expected.items():
            srv = factory(args=["--database-url", url, "--bus", "dapr", "--dapr-http-port", str(sidecar.port)],
                          command=role)
            assert _subscriptions(srv) == subscriptions, role
    finally:
        factory.close()
        sidecar.close()


def test_live_sync_receives_task_updates_through_the_fanout_route(make_server, sidecar):
    import asyncio

    from task_harness import new_api
    from test_live_sync import connect, recv_json, run

    srv = _serve(make_server, sidecar)
    api = new_api(srv)

    async def scenario():
        ws, hello = await connect(srv, api.token)
        task = await asyncio.to_thread(api.create, "live through Dapr")
        frame = await recv_json(ws)
        assert frame["type"] == "task.created" and frame["task_id"] == task["id"], frame
        assert frame["seq"] == hello["seq"] + 1
        await ws.close()
        return task

    task = run(scenario())
    # It came through the fan-out component's route (at most once: always SUCCESS).
    update = next(p.event for p in sidecar.published_to("task-updates") if p.event["data"]["task_id"] == task["id"])
    poll_until(lambda: ("/dapr/fanout/task-updates", update["id"], 200, "SUCCESS") in sidecar.answers_for(update["id"]),
               "the fan-out route's answer", DEADLINE)

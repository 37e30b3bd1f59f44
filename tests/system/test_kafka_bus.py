"""`todo serve --bus kafka` against librdkafka's mock cluster (tests/support/kafka_mock_broker, a
process of its own): a created task reaches the audit log through Kafka, completing a recurring
task creates its next occurrence once, the outbox rows are shipped with
the CloudEvent headers (read back with kcat), and writes are accepted while
the broker is down and their events follow when it is back. ADR 0021.

The helper is found next to the binary's build tree (TODO_KAFKA_MOCK_BROKER overrides). The 2.0.2
mock cluster does not implement CreateTopics, so the topics are created through the helper."""

import json
import subprocess

import pytest

from mock_kafka import TOPICS, MockKafka, helper_path
from task_harness import TaskApi
from todo_harness import poll_until, register, sql

DEADLINE = 30.0


@pytest.fixture
def kafka(todo_bin):
    path = helper_path(todo_bin)
    if path is None:
        pytest.fail(f"the Kafka mock broker helper is not built next to {todo_bin}", pytrace=False)
    broker = MockKafka(path, TOPICS)
    yield broker
    broker.close()


def _serve(make_server, kafka):
    return make_server(args=["--bus", "kafka", "--kafka-brokers", kafka.brokers])


def _audited(api, task_id):
    def found():
        resp = api.get(f"/api/tasks/{task_id}/history")
        return resp.body["items"] if resp.status == 200 and resp.body["items"] else None

    return poll_until(found, "the task's audit entries", DEADLINE)


def _unshipped(srv):
    return sql(srv.data_dir, "SELECT COUNT(*) FROM outbox WHERE shipped_at IS NULL")[0][0]


def test_a_created_task_reaches_the_audit_log_and_a_completion_makes_one_next_occurrence(
        make_server, kafka):
    srv = _serve(make_server, kafka)
    api = TaskApi(srv, register(srv))
    task = api.post("/api/tasks", {"title": "Through Kafka"})
    assert task.status == 201, task
    entries = _audited(api, task.body["id"])
    assert entries[0]["event_type"].endswith("created"), entries

    first = api.post("/api/tasks", {"title": "Daily", "timezone": "UTC", "recurrence": "daily",
                                    "due_date": "2027-10-19T09:00"})
    assert first.status == 201, first
    assert api.post(f"/api/tasks/{first.body['id']}/complete").status == 200

    def series():
        resp = api.get("/api/tasks?status=all&limit=500")
        items = [t for t in resp.body["items"] if t.get("series_id") == first.body["series_id"]]
        return items if len(items) >= 2 else None

    assert len(poll_until(series, "the next occurrence", DEADLINE)) == 2
    poll_until(lambda: _unshipped(srv) == 0, "every outbox row shipped", DEADLINE)
    # Everything consumed: still exactly one next occurrence.
    assert len(series()) == 2

    # What Kafka holds: the CloudEvent in structured mode, keyed by task, with the ce_* headers.
    out = subprocess.run(
        ["kcat", "-b", kafka.brokers, "-C", "-t", "task-events", "-o", "beginning", "-e", "-q",
         "-f", "%k\t%h\t%s\n"],
        capture_output=True, text=True, timeout=DEADLINE, check=True).stdout
    lines = [line.split("\t", 2) for line in out.splitlines() if line]
    mine = [(h, v) for k, h, v in lines if k == task.body["id"]]
    assert mine, out
    headers, value = mine[0]
    event = json.loads(value)
    assert f"ce_id={event['id']}" in headers, headers
    assert f"ce_type={event['type']}" in headers, headers
    assert "ce_specversion=1.0" in headers, headers
    assert "content-type=application/cloudevents+json" in headers, headers


def test_writes_are_accepted_while_the_broker_is_down_and_follow_when_it_is_back(
        make_server, kafka):
    srv = _serve(make_server, kafka)
    api = TaskApi(srv, register(srv))
    warm = api.post("/api/tasks", {"title": "before"})
    _audited(api, warm.body["id"])
    kafka.command("down 1")
    created = []
    for i in range(5):
        resp = api.post("/api/tasks", {"title": f"while down {i}"})
        assert resp.status == 201, resp
        created.append(resp.body["id"])
    assert _unshipped(srv) > 0
    kafka.command("up 1")
    for task_id in created:
        _audited(api, task_id)
    poll_until(lambda: _unshipped(srv) == 0, "the backlog shipped", DEADLINE)

"""Per-account quotas over HTTP (docs/security.md "Quotas", docs/adr/0013-quotas.md): each quota
reached answers 409 quota-exceeded naming the quota, its limit and the usage; deleting makes room;
concurrent creates never pass the last slot together; a recurring next occurrence beyond the quota
is skipped and counted, not dead-lettered. And /metrics behind a token or on its own listener."""

import signal
import threading

import pytest

from task_harness import new_api
from todo_harness import (
    assert_problem,
    parse_metrics,
    poll_until,
    register,
    sql,
    wait_consumed,
)

TASKS = 5
TAGS = 4
BYTES = 2000
QUOTA_ARGS = ["--quota-tasks", str(TASKS), "--quota-tags", str(TAGS), "--quota-bytes", str(BYTES)]
METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture(scope="module")
def quota_server(module_servers):
    """One server with small quotas for the module; each test registers its own account."""
    return module_servers(args=QUOTA_ARGS)


def _quota_problem(resp, quota, limit, usage):
    body = assert_problem(resp, 409, "quota-exceeded")
    assert body["quota"] == quota, body
    assert body["limit"] == limit, body
    assert body["usage"] == usage, body
    assert str(limit) in body["detail"], body
    return body


def _live_count(api):
    resp = api.get("/api/tasks?status=all&limit=500")
    assert resp.status == 200, resp
    return len(resp.body["items"])


def test_the_task_quota_refuses_the_next_create_until_a_delete_makes_room(quota_server):
    api = new_api(quota_server)
    tasks = [api.create(f"task {i}") for i in range(TASKS)]
    _quota_problem(api.create_resp({"title": "one too many"}), "tasks", TASKS, TASKS)
    # The seed-compatible route is the same write path.
    _quota_problem(api.post(f"/api/{api.id}/tasks", {"title": "seed route"}), "tasks", TASKS, TASKS)
    assert _live_count(api) == TASKS

    # Completed tasks still count; deleted ones do not.
    assert api.complete(tasks[0]["id"]).status == 200
    _quota_problem(api.create_resp({"title": "still full"}), "tasks", TASKS, TASKS)
    assert api.remove(tasks[1]["id"]).status == 204
    api.create("fits again")
    _quota_problem(api.create_resp({"title": "full again"}), "tasks", TASKS, TASKS)


def test_the_tag_quota_counts_distinct_tags_and_frees_them_with_their_last_task(quota_server):
    api = new_api(quota_server)
    first = api.create("tagged", tags=["a", "b", "c", "d"])
    api.create("same tags are no new ones", tags=["a", "b"])
    _quota_problem(api.create_resp({"title": "new tag", "tags": ["e"]}), "tags", TAGS, TAGS)
    resp = api.patch(f"/api/tasks/{first['id']}", {"tags": ["a", "b", "c", "d", "e"]})
    _quota_problem(resp, "tags", TAGS, TAGS)
    assert api.task(first["id"])["version"] == 1  # nothing was written

    # Swapping a tag only this task has for a new one keeps the count.
    api.update(first["id"], {"tags": ["a", "b", "c", "e"]})
    # Deleting the last task with "c" and "e" frees two tags.
    assert api.remove(first["id"]).status == 204
    api.create("room for two", tags=["x", "y"])


def test_the_byte_quota_counts_the_text_of_live_tasks(quota_server):
    api = new_api(quota_server)
    big = api.create("big", description="d" * 1900)  # 3 + 1900 bytes
    _quota_problem(api.create_resp({"title": "t" * 98}), "bytes", BYTES, 1903)
    api.create("t" * 97)  # exactly at the limit
    # Growing a task by PUT (here the seed-compatible one) is refused, shrinking is not.
    resp = api.put(f"/api/{api.id}/tasks/{big['id']}", {"title": "bigger", "description": "d" * 1900})
    _quota_problem(resp, "bytes", BYTES, BYTES)
    api.update(big["id"], {"description": "d" * 100})
    api.create("room again", description="é" * 800)  # bytes of UTF-8: 103 + 97 + 10 + 1600
    _quota_problem(api.create_resp({"title": "ü" * 100}), "bytes", BYTES, 1810)
    assert api.remove(big["id"]).status == 204
    api.create("ü" * 100)


def test_concurrent_creates_never_pass_the_last_slot_together(quota_server):
    api = new_api(quota_server)
    for i in range(TASKS - 1):
        api.create(f"task {i}")
    statuses = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def racer(i):
        start.wait()
        resp = api.create_resp({"title": f"racer {i}"})
        with lock:
            statuses.append((resp.status, resp.body.get("type") if isinstance(resp.body, dict) else None))

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in statuses) == [201] + [409] * 11, statuses
    assert all(t == "quota-exceeded" for s, t in statuses if s == 409), statuses
    assert _live_count(api) == TASKS


def _skipped(server):
    resp = server.get("/metrics")
    assert resp.status == 200, resp
    for name, labels, value in parse_metrics(resp.raw.decode()):
        if name == "todo_recurring_skipped_total" and labels.get("reason") == "quota-exceeded":
            return value
    raise AssertionError("todo_recurring_skipped_total{reason=quota-exceeded} is not exported")


def test_a_recurring_occurrence_beyond_the_quota_is_skipped_not_dead_lettered(quota_server):
    server = quota_server
    api = new_api(server)
    before = _skipped(server)
    recurring = api.create("water the plants", recurrence="daily", due_date="2030-01-01T09:00")
    fillers = [api.create(f"filler {i}") for i in range(TASKS - 1)]
    assert api.complete(recurring["id"]).status == 200
    wait_consumed(server.data_dir, "recurring-task-service")

    assert _live_count(api) == TASKS  # no next occurrence
    assert _skipped(server) == before + 1
    assert sql(server.data_dir, "SELECT count(*) FROM dead_letters")[0][0] == 0
    assert sql(server.data_dir, "SELECT count(*) FROM delivery_attempts")[0][0] == 0
    assert server.wait_for_log(
        lambda o: o.get("msg") == "next occurrence skipped" and o.get("reason") == "quota-exceeded"
        and o.get("task_id") == recurring["id"]
    ), "the skip is logged with its reason"

    # With room again, completing the occurrence once more creates the next one.
    assert api.remove(fillers[0]["id"]).status == 204
    assert api.reopen(recurring["id"]).status == 200
    assert api.complete(recurring["id"]).status == 200

    def next_occurrence():
        items = api.get("/api/tasks?status=all&limit=500").body["items"]
        return [t for t in items if t.get("series_id") == recurring["series_id"] and t["id"] != recurring["id"]]

    (following,) = poll_until(next_occurrence, "the next occurrence once there is room")
    assert following["status"] == "pending"
    assert following["due_date"] > recurring["due_date"]


def test_the_notification_target_quota_refuses_the_next_target(make_server):
    srv = make_server(args=["--quota-notification-targets", "2"])
    api = new_api(srv)
    for i in range(2):
        resp = api.post("/api/notification-targets", {"kind": "email", "address": f"me{i}@example.com"})
        assert resp.status == 201, resp
    resp = api.post("/api/notification-targets", {"kind": "email", "address": "me2@example.com"})
    _quota_problem(resp, "notification_targets", 2, 2)
    assert len(api.get("/api/notification-targets").body["items"]) == 2


def test_usage_of_existing_accounts_is_kept_across_restarts(make_server):
    srv = make_server(args=QUOTA_ARGS)
    api = new_api(srv)
    for i in range(TASKS):
        api.create(f"task {i}")
    data_dir = srv.data_dir
    assert srv.stop() == 0
    again = make_server(args=QUOTA_ARGS, data_dir=data_dir)
    resp = again.post("/api/tasks", {"title": "after restart"}, token=api.token)
    _quota_problem(resp, "tasks", TASKS, TASKS)
    assert sql(data_dir, "SELECT tasks FROM user_usage WHERE user_id = ?", (api.id,))[0][0] == TASKS


# ---------------------------------------------------------------------------------------------
# /metrics


def test_metrics_are_open_by_default(server):
    resp = server.get("/metrics")
    assert resp.status == 200, resp
    assert resp.headers["content-type"].startswith("text/plain")


def test_a_metrics_token_is_required_when_configured(make_server):
    srv = make_server(args=["--metrics-token", METRICS_TOKEN])
    missing = srv.get("/metrics")
    assert_problem(missing, 401, "token-missing")
    assert missing.headers.get("www-authenticate", "").startswith("Bearer")
    assert_problem(srv.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789abc"}),
                   401, "token-invalid")
    assert_problem(srv.get("/metrics", headers={"Authorization": "Basic " + METRICS_TOKEN}), 401,
                   "token-invalid")
    assert_problem(srv.get("/metrics", headers={"Authorization": "Bearer " + METRICS_TOKEN + "x"}),
                   401, "token-invalid")
    for scheme in ("Bearer", "bearer"):
        ok = srv.get("/metrics", headers={"Authorization": f"{scheme} {METRICS_TOKEN}"})
        assert ok.status == 200, ok
        assert b"todo_http_requests_total" in ok.raw or b"# TYPE" in ok.raw, ok
    # The API's own tokens are something else: /health and the API are unaffected.
    assert srv.get("/health").status == 200


def test_metrics_on_a_separate_address_leave_the_main_port(make_server):
    srv = make_server(args=["--metrics-address", "127.0.0.1:0", "--metrics-token", METRICS_TOKEN])
    line = srv.wait_for_log(lambda o: o.get("msg") == "metrics listening")
    assert line and isinstance(line.get("port"), int) and line["port"] > 0, line
    assert line["port"] != srv.port
    assert_problem(srv.get("/metrics", headers={"Authorization": "Bearer " + METRICS_TOKEN}), 404,
                   "not-found")

    import http.client

    def scrape(headers):
        conn = http.client.HTTPConnection("127.0.0.1", line["port"], timeout=15)
        try:
            conn.request("GET", "/metrics", headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheader("content-type"), resp.read()
        finally:
            conn.close()

    status, ctype, body = scrape({"Authorization": "Bearer " + METRICS_TOKEN})
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype, body)
    assert b"todo_recurring_skipped_total" in body
    status, ctype, body = scrape({})
    assert status == 401 and ctype == "application/problem+json", (status, ctype, body)
    # Only /metrics lives there.
    conn = http.client.HTTPConnection("127.0.0.1", line["port"], timeout=15)
    conn.request("GET", "/api/tasks")
    assert conn.getresponse().status == 404
    conn.close()
    assert srv.stop(signal.SIGTERM) == 0


def test_bad_quota_and_metrics_flags_stop_the_start_with_a_message(todo_bin):
    from todo_harness import run_cli

    for args, needle in (
        (["serve", "--quota-tasks", "-3"], "--quota-tasks"),
        (["serve", "--quota-bytes", "ten"], "--quota-bytes"),
        (["serve", "--metrics-token", "short"], "--metrics-token"),
        (["serve", "--metrics-address", "nowhere"], "--metrics-address"),
    ):
        done = run_cli(todo_bin, args)
        assert done.returncode == 2, (args, done)
        assert needle in done.stderr.decode(), (args, done.stderr)

"""Races that one SQLite writer hides and PostgreSQL's concurrent SERIALIZABLE writers expose:
the same Idempotency-Key at once, one refresh token presented twice at once, the audit chain with
writers on every partition, and two `todo migrate` processes on one empty database.

They run on both backends (TODO_TEST_BACKEND); every round starts its requests together behind a
barrier, so the requests really are in flight at the same time. No outcome is waited for by
sleeping: threads are joined, and the asynchronous audit consumer is polled with a deadline."""

import subprocess
import threading
import uuid

from task_harness import new_api
from todo_harness import (
    POSTGRES,
    assert_problem,
    cluster,
    poll_until,
    register,
    run_cli,
    scrubbed_env,
    sql,
    wait_consumed,
)

ROUNDS = 25
DEADLINE = 60.0


def together(*calls):
    """Run the calls in threads released at once; returns their results (or raises the first
    exception one of them raised)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(i, call):
        try:
            barrier.wait(10)
            results[i] = call()
        except BaseException as e:  # noqa: BLE001 - re-raised below in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a request did not finish within 60 s"
    if errors:
        raise errors[0]
    return results


# --------------------------------------------------------------------------------------------
# (a) Idempotency-Key


def test_same_idempotency_key_at_once_makes_one_task_and_replays_it(server):
    api = new_api(server)
    for round_no in range(ROUNDS):
        key = str(uuid.uuid4())
        body = {"title": f"once {round_no}", "tags": ["race"]}
        responses = together(*[lambda: api.create_resp(body, headers={"Idempotency-Key": key})] * 3)
        for r in responses:
            assert r.status == 201, f"round {round_no}: {r!r}"
        first = [r for r in responses if r.headers.get("idempotent-replayed", "").lower() != "true"]
        assert len(first) == 1, f"round {round_no}: exactly one response is the original: {responses!r}"
        for r in responses:
            assert r.body == first[0].body, f"round {round_no}: a replay differs: {responses!r}"
            assert r.headers.get("location") == first[0].headers.get("location")
            assert r.headers.get("etag") == first[0].headers.get("etag")
    ids = api.ids()
    assert len(ids) == ROUNDS, f"{len(ids)} tasks for {ROUNDS} keys"


# --------------------------------------------------------------------------------------------
# (b) refresh token reuse


def _refresh(server, token):
    return server.post("/api/auth/refresh", {"refresh_token": token})


def test_one_refresh_token_presented_twice_at_once(server):
    """ADR 0004: presenting a rotated token again is theft, so the family is revoked. Whichever
    of two simultaneous presentations comes second sees a rotated token: at most one succeeds,
    the other is 401, and the winner's new token is revoked with the family."""
    winners = 0
    for round_no in range(ROUNDS):
        user = register(server)
        a, b = together(lambda: _refresh(server, user.refresh_token), lambda: _refresh(server, user.refresh_token))
        ok = [r for r in (a, b) if r.status == 200]
        assert len(ok) <= 1, f"round {round_no}: both succeeded: {a!r} {b!r}"
        for r in (a, b):
            if r.status != 200:
                assert_problem(r, 401, {"refresh-token-reused", "refresh-token-invalid"})
        if ok:
            winners += 1
            # The family is revoked: the token the winner got no longer refreshes.
            assert_problem(_refresh(server, ok[0].body["refresh_token"]), 401,
                           {"refresh-token-reused", "refresh-token-invalid"})
        # And the original is refused from now on.
        assert_problem(_refresh(server, user.refresh_token), 401, {"refresh-token-reused", "refresh-token-invalid"})
    assert winners >= 1, "no round had a winner: the token was refused without being rotated"


# --------------------------------------------------------------------------------------------
# (c) the audit chain with concurrent writers


def test_audit_chain_stays_one_valid_chain_under_concurrent_writers(todo_bin, make_server):
    srv = make_server()
    apis = [new_api(srv) for _ in range(6)]
    per_writer = 15

    def write(api):
        def run():
            for i in range(per_writer):
                task = api.create(f"chain {i}")
                if i % 3 == 0:
                    api.update(task["id"], {"title": f"chain {i} renamed"})
        return run

    together(*[write(api) for api in apis])
    events = sql(srv.data_dir, "SELECT COUNT(*) FROM outbox WHERE topic = 'task-events'")[0][0]
    assert events == len(apis) * (per_writer + (per_writer + 2) // 3)
    wait_consumed(srv.data_dir, "audit-service", timeout=DEADLINE)
    poll_until(lambda: sql(srv.data_dir, "SELECT COUNT(*) FROM audit_logs")[0][0] >= events,
               "every event to be audited", DEADLINE)

    admin = apis[0]
    r = run_cli(todo_bin, ["admin", "set-role", "--data-dir", srv.data_dir, "--email", admin.user.email,
                           "--role", "admin"])
    assert r.returncode == 0, (r.stdout, r.stderr)
    resp = admin.get("/api/audit-logs/verify")
    assert resp.status == 200, resp
    assert resp.body["valid"] is True, resp.body
    assert resp.body["entries_checked"] == events, resp.body
    # One chain: ids 1..N without gaps, each entry linked to the one before it.
    rows = sql(srv.data_dir, "SELECT id, prev_hash, hash FROM audit_logs ORDER BY id")
    assert [row[0] for row in rows] == list(range(rows[0][0], rows[0][0] + len(rows)))
    for before, after in zip(rows, rows[1:]):
        assert after[1] == before[2], (before, after)


# --------------------------------------------------------------------------------------------
# (d) two migrations at once


def test_two_migrations_at_once_on_an_empty_database(todo_bin, tmp_path):
    """Both processes succeed and every migration is recorded once: on PostgreSQL they meet on an
    empty database (an advisory lock orders them, ADR 0019); on SQLite on one fresh data dir."""
    for attempt in range(3):
        data_dir = tmp_path / f"migrate-{attempt}"
        data_dir.mkdir()
        env = scrubbed_env()
        if POSTGRES:
            name = cluster().new_database(migrated=False)
            args = ["migrate", "--database-url", cluster().url(name)]
        else:
            args = ["migrate", "--data-dir", str(data_dir)]
        procs = [subprocess.Popen([todo_bin] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
                 for _ in range(2)]
        outs = [p.communicate(timeout=60) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, (p.returncode, out, err)
        query = "SELECT version, COUNT(*) FROM schema_migrations GROUP BY version ORDER BY version"
        if POSTGRES:
            conn = cluster().connect(name)
            try:
                cur = conn.cursor()
                cur.execute(query)
                versions = cur.fetchall()
            finally:
                conn.close()
        else:
            versions = sql(str(data_dir), query)
        assert versions, "no migration recorded"
        assert all(count == 1 for _, count in versions), versions
        assert [v for v, _ in versions] == list(range(1, len(versions) + 1)), versions

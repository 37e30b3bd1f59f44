"""make bench's Kafka figures (issue 16), on PostgreSQL with librdkafka's mock cluster
(tests/support/kafka_mock_broker, a process of its own; it speaks the real Kafka protocol over
loopback, without a disk):

- the relay's shipping rate: a backlog of task events waits in the outbox, then `todo api
  --bus kafka` (the role that runs the relay, and nothing that consumes) starts and ships it; the
  rate is the rows marked shipped after the first batch over the time between the first and the
  last mark (the outbox's shipped_at), so process start-up and broker connection are left out;
- commit → audit entry and commit → WebSocket client, p50/p99, under light load (the
  todo_ws_load tool writing WS_PROBES_PER_SECOND tasks per second with WS_USERS × KAFKA_WS_PER_USER
  connections listening), on `todo serve --bus kafka` and, beside it, `todo serve` on the log bus
  of the same PostgreSQL cluster. The reference of both latencies is the outbox row's created_at,
  taken in the write transaction before its commit.

The mock cluster answers a fetch that finds nothing new only after the consumer's
fetch.wait.max.ms (librdkafka's rdkafka_mock_handlers.c: it does not cut the wait short when a
producer writes, as a real broker does), so with librdkafka's default of 500 ms that wait, not the
bus, is the latency. The Kafka run is therefore measured twice: with the default, and with
`--kafka-fetch-wait` KAFKA_FETCH_WAIT (5 ms), which stands in for a real broker's immediate
answer."""
import os
import subprocess
import sys
import tempfile
import time

import run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "system"))
from mock_kafka import TOPICS, MockKafka  # noqa: E402

RELAY_BACKLOG = int(os.environ.get("TODO_BENCH_RELAY_BACKLOG", "150000"))
KAFKA_WS_PER_USER = int(os.environ.get("TODO_BENCH_KAFKA_WS_PER_USER", "10"))
KAFKA_FETCH_WAIT = os.environ.get("TODO_BENCH_KAFKA_FETCH_WAIT", "5ms")
JWT_SECRET = "bench-secret-" + "x" * 32


def wait_until(condition, what, deadline_s=120):
    started = time.time()
    while time.time() - started < deadline_s:
        if condition():
            return time.time() - started
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not happen within {deadline_s} s")


def unshipped(store):
    return store.query("SELECT COUNT(*) FROM outbox WHERE shipped_at IS NULL")[0][0]


def migrate(binary, store):
    subprocess.run([binary, "migrate", *store.server_args], check=True, capture_output=True,
                   timeout=120)


def add_backlog(store, rows):
    """`rows` task events appended behind the outbox's own, spread over task-events' partitions,
    each a copy of a real event with an id of its own (the relay reads nothing else)."""
    partitions = TOPICS["task-events"]
    per_partition = rows // partitions
    conn = store.cluster.connect(store.database)
    try:
        cur = conn.cursor()
        for p in range(partitions):
            cur.execute(
                "INSERT INTO outbox (topic, \"partition\", \"offset\", key, event_id, payload, "
                "created_at, shipped_at) "
                "SELECT t.topic, %s, h.next_offset + g, t.key, 'bench-' || %s || '-' || g, "
                "       t.payload, t.created_at, NULL "
                "FROM (SELECT * FROM outbox WHERE topic = 'task-events' LIMIT 1) t, "
                "     (SELECT COALESCE(MAX(next_offset), 0) AS next_offset FROM log_heads "
                "      WHERE topic = 'task-events' AND \"partition\" = %s) h, "
                "     generate_series(0, %s - 1) g",
                (p, p, p, per_partition))
            cur.execute(
                "INSERT INTO log_heads (topic, \"partition\", next_offset) "
                "VALUES ('task-events', %s, %s) ON CONFLICT (topic, \"partition\") "
                "DO UPDATE SET next_offset = log_heads.next_offset + %s",
                (p, per_partition, per_partition))
        conn.commit()
    finally:
        conn.close()
    return per_partition * partitions


def relay_rate(binary, mock_broker, cluster):
    """Rows per second the relay ships from a backlog of RELAY_BACKLOG events."""
    broker = MockKafka(mock_broker, TOPICS)
    try:
        with tempfile.TemporaryDirectory(prefix="todo-bench-relay-") as data_dir:
            store = run.PostgresStore(cluster, data_dir)
            migrate(binary, store)
            kafka = ["--bus", "kafka", "--kafka-brokers", broker.brokers]
            # One real task event to copy.
            proc, port = run.start_server(binary, data_dir, store.server_args + kafka)
            try:
                token = run.call(port, "POST", "/api/auth/register",
                                 {"email": "relay@example.com",
                                  "password": "bench-password-4711"})["access_token"]
                run.call(port, "POST", "/api/tasks", {"title": "relay template"}, token)
                wait_until(lambda: unshipped(store) == 0, "the template's shipping")
            finally:
                run.stop_server(proc)
            backlog = add_backlog(store, RELAY_BACKLOG)
            started = time.time()
            proc, _ = run.start_server(binary, data_dir,
                                       store.server_args + kafka + ["--jwt-secret", JWT_SECRET],
                                       command="api")
            try:
                wait_until(lambda: unshipped(store) == 0, "the backlog's shipping", 300)
                wall = time.time() - started
            finally:
                run.stop_server(proc)
            first, last = store.query(
                "SELECT MIN(shipped_at), MAX(shipped_at) FROM outbox "
                "WHERE event_id LIKE 'bench-%%'")[0]
            after_first = store.query(
                "SELECT COUNT(*) FROM outbox WHERE event_id LIKE 'bench-%%' AND shipped_at > %s",
                (first,))[0][0]
            span_s = (last - first) / 1e6
            return {"backlog": backlog, "seconds_from_start": round(wall, 3),
                    "shipping_seconds": round(span_s, 3),
                    "events_per_second": round(after_first / span_s) if span_s > 0 else None}
    finally:
        broker.close()


def light_latencies(binary, ws_load, cluster, mock_broker, fetch_wait=None):
    """Commit → audit entry and commit → WebSocket client under light load, on `todo serve` with
    the bus Kafka (mock_broker given; fetch_wait: its --kafka-fetch-wait, None for the default)
    or the log bus (None)."""
    broker = MockKafka(mock_broker, TOPICS) if mock_broker else None
    try:
        with tempfile.TemporaryDirectory(prefix="todo-bench-kafka-lag-") as data_dir:
            store = run.PostgresStore(cluster, data_dir)
            args = store.server_args + ["--jwt-secret", JWT_SECRET]
            if broker:
                args += ["--bus", "kafka", "--kafka-brokers", broker.brokers]
                if fetch_wait:
                    args += ["--kafka-fetch-wait", fetch_wait]
            proc, port = run.start_server(binary, data_dir, args)
            try:
                tokens_path = os.path.join(data_dir, "ws-seed.txt")
                run.ws_seed(port, tokens_path)
                run.wait_for_audit(store)
                start = run.now_us()
                fanout = run.ws_fanout(ws_load, proc, port, store, tokens_path, False,
                                       per_user=KAFKA_WS_PER_USER)
                until = run.now_us()
                run.wait_for_audit(store)
                bus = "log"
                if broker:
                    bus = f"kafka, fetch wait {fetch_wait or '500ms (default)'}"
                return {"bus": bus,
                        "commit_to_audit": run.event_lag(store, start, until),
                        "commit_to_websocket": fanout["probes"]["latency_from_outbox"],
                        "connections": fanout.get("connections")}
            finally:
                run.stop_server(proc)
    finally:
        if broker:
            broker.close()


def kafka_figures(binary, ws_load, mock_broker, cluster):
    if not mock_broker or not os.access(mock_broker, os.X_OK):
        return {"skipped": f"no Kafka mock broker helper at {mock_broker!r} (make bench builds it)"}
    if ws_load is None:
        return {"skipped": "no todo_ws_load binary given (make bench passes it)"}
    return {"relay": relay_rate(binary, mock_broker, cluster),
            "light": [light_latencies(binary, ws_load, cluster, mock_broker),
                      light_latencies(binary, ws_load, cluster, mock_broker, KAFKA_FETCH_WAIT),
                      light_latencies(binary, ws_load, cluster, None)]}


def print_kafka(figures):
    print("\nKafka (librdkafka mock cluster on loopback), PostgreSQL")
    if "skipped" in figures:
        print(f"  skipped: {figures['skipped']}")
        return
    r = figures["relay"]
    print(f"  relay: {r['backlog']} events shipped at {run.fmt(r['events_per_second'], ',')}/s "
          f"({r['shipping_seconds']} s between the first and last mark, {r['seconds_from_start']} s "
          f"from the api role's start); target >= 20,000/s")
    print(f"  light load ({run.WS_PROBES_PER_SECOND} writes/s), latency from the outbox row's commit:")
    for light in figures["light"]:
        a, w = light["commit_to_audit"], light["commit_to_websocket"]
        print(f"    {light['bus']}:\n      to audit entry p50 {run.fmt(a['p50_ms'])} "
              f"p99 {run.fmt(a['p99_ms'])} ms ({a['events']} events); to WebSocket client "
              f"p50 {run.fmt(w['p50_ms'])} p99 {run.fmt(w['p99_ms'])} ms ({w['frames']} frames)"
              + ("; target p99 <= 25 ms" if light["bus"].startswith("kafka") else ""))

#!/usr/bin/python3
"""make bench: starts `todo serve` (release build) on a temporary data dir, seeds users and tasks,
runs wrk for each scenario (2 threads, 64 connections) and prints req/s, p50, p99 and the ratio to
/health measured in the same run, and the event lag — a task event's commit to its audit entry —
under the light load of seeding and under the create scenario. Then, on a fresh server, the
WebSocket figures of bench/ws_load.cpp (second argument: the todo_ws_load binary): the server's
RSS growth per idle authenticated connection, and fan-out — frames/s and latency to the client —
under light load and under the create scenario. The HTTP scenarios and the event lag run on SQLite
and on PostgreSQL (a temporary cluster with fsync and synchronous_commit on, so a create is as
durable as on SQLite), a table each, plus the create rate of two processes sharing the
PostgreSQL database. Writes the figures to bench/results/<timestamp>.json.

Arguments: the todo binary, then (all optional, make bench passes them) bench/ws_load.cpp's
todo_ws_load, the Kafka mock broker helper (bench/kafka_figures.py) and bench/reference_server.cpp's
todo_reference_server, the ceiling every figure is also a ratio to (issue 17), and
bench/open_loop.cpp's todo_open_loop (the mix at half its peak, at a fixed rate). Each scenario
prints req/s, p50/p99/p99.9, the ratios to /health and to the reference, and the server's CPU per
request."""
import datetime
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
DURATION = os.environ.get("TODO_BENCH_DURATION", "10s")
THREADS, CONNECTIONS = 2, 64
USERS, TASKS_PER_USER = 8, 250
SCENARIOS = ["health", "get_one", "list", "create", "complete", "mix"]
# WebSocket figures (issue 11): idle connections held at once, and fan-out connections per user.
WS_CONNECTIONS = int(os.environ.get("TODO_BENCH_WS_CONNECTIONS", "10000"))
WS_USERS = 8
WS_PER_USER = int(os.environ.get("TODO_BENCH_WS_PER_USER", "50"))
WS_PROBES_PER_SECOND = 10  # the tool's own writes: the light load, and latency probes under load
# The capacity run: many connections per user and the tool writing fast, so frames/s is what the
# machine delivers (the target: ≥ 100,000 frames/s with p99 ≤ 20 ms).
WS_CAPACITY_PER_USER = int(os.environ.get("TODO_BENCH_WS_CAPACITY_PER_USER", "500"))
WS_CAPACITY_WRITES_PER_SECOND = 200
# bench/open_loop.cpp's todo_open_loop (fifth argument): the mix at OPEN_LOOP_SHARE of its
# closed-loop peak, at a fixed rate, so queueing shows in p99 and p99.9.
OPEN_LOOP = None
OPEN_LOOP_SHARE = 0.5
# TODO_BENCH_ONLY=websocket runs the WebSocket figures alone, TODO_BENCH_ONLY=kafka the Kafka ones
# (bench/kafka_figures.py).
ONLY = os.environ.get("TODO_BENCH_ONLY", "")
# The backends of the HTTP figures, e.g. TODO_BENCH_BACKENDS=sqlite for SQLite alone.
BACKENDS = [b for b in os.environ.get("TODO_BENCH_BACKENDS", "sqlite,postgres").split(",") if b]
# Room for the idle connections (all of 8 accounts, from 127.0.0.1) plus the HTTP clients beside
# them; the defaults are 10,000 connections, 1,000 per client address and 32 WebSockets per account.
WS_SERVER_FLAGS = ["--max-connections", str(WS_CONNECTIONS + 1000),
                   "--max-connections-per-client", str(WS_CONNECTIONS + 1000),
                   "--ws-max-connections", str(WS_CONNECTIONS),
                   "--ws-max-connections-per-user", str(WS_CONNECTIONS)]


def start_server(binary, data_dir, extra_args=(), command="serve"):
    """Starts the server (`todo serve`, or the role `command` names) with its logs (access log
    included, as in production) going to a file, and waits for its `listening` line."""
    log_path = os.path.join(data_dir, "server.log" if command == "serve" else f"{command}.log")
    log_file = open(log_path, "w")
    proc = subprocess.Popen(
        [binary, command, "--port", "0", "--address", "127.0.0.1", "--data-dir", data_dir,
         "--login-limit-address", "1000000", *extra_args],
        stderr=log_file, stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("TODO_")})
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        with open(log_path) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "listening":
                    return proc, entry["port"]
        time.sleep(0.05)
    proc.kill()
    sys.exit("bench: the server did not start; see " + log_path)


def call(port, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as resp:
        text = resp.read()
        return json.loads(text) if text else None


def seed(port, path):
    run_id = int(time.time())
    lines = []
    for u in range(USERS):
        reg = call(port, "POST", "/api/auth/register",
                   {"email": f"bench{u}-{run_id}@example.com", "password": "bench-password-4711"})
        token = reg["access_token"]
        for t in range(TASKS_PER_USER):
            task = call(port, "POST", "/api/tasks",
                        {"title": f"Seed task {t}", "priority": ["low", "medium", "high"][t % 3],
                         "tags": ["seed", f"t{t % 5}"], "due_date": f"2030-01-{1 + t % 28:02d}T09:00:00Z"},
                        token)
            lines.append(f"{token} {task['id']}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def run_wrk(port, scenario, seed_path, connections=CONNECTIONS, server_pid=None):
    path = "/health" if scenario == "health" else "/"
    cmd = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", DURATION, "--latency",
           "-s", os.path.join(BENCH_DIR, "wrk", "scenario.lua"), f"http://127.0.0.1:{port}{path}"]
    env = os.environ | {"TODO_BENCH_SCENARIO": scenario, "TODO_BENCH_SEED": seed_path,
                        "TODO_BENCH_DIR": os.path.join(BENCH_DIR, "wrk")}
    cpu_before = cpu_seconds(server_pid) if server_pid else None
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    p999 = int(re.search(r"p99\.9 (\d+)us", out).group(1)) / 1000.0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = {"requests_per_second": rps, "p50_ms": p50, "p99_ms": p99, "p999_ms": p999,
              "non_2xx": int(errors.group(1)) if errors else 0}
    if server_pid and requests:
        # The server's own CPU (user + system) per request, in µs: what a request costs it.
        result["server_cpu_us_per_request"] = round(
            (cpu_seconds(server_pid) - cpu_before) * 1e6 / requests, 1)
    return result


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class SqliteStore:
    """The server's database on SQLite: `todo.db` in its data dir, read by the bench directly."""
    name = "sqlite"
    task_id_sql = "json_extract(payload, '$.data.task_id')"

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.path = os.path.join(data_dir, "todo.db")
        self.server_args = []

    def analyze(self):
        """Nothing: SQLite's planner takes the task's primary key without statistics."""

    def query(self, sql, params=()):
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


class PostgresStore:
    """A database of its own on the bench's PostgreSQL cluster."""
    name = "postgres"
    task_id_sql = "(payload::json -> 'data' ->> 'task_id')"

    def __init__(self, cluster, data_dir):
        self.data_dir = data_dir
        self.cluster = cluster
        self.database = cluster.new_database(migrated=False)
        self.server_args = ["--database-url", cluster.url(self.database)]

    def analyze(self):
        """ANALYZE the tables the seed changed, as autovacuum does within a minute on a live
        database (autovacuum_naptime) once 50 rows of a table changed: right after the seed the
        tables have no statistics yet, and the generic plans of the prepared statements then look
        a task up by `id = $1 AND user_id = $2` through a (user_id, ...) index, reading every task
        of its user, instead of the primary key. Tables the seed left empty (reminders) are left
        as autovacuum would leave them: analyzed empty, a generic plan would scan them whole."""
        conn = self.cluster.connect(self.database, autocommit=True)
        try:
            cur = conn.cursor()
            cur.execute("SELECT relname FROM pg_stat_user_tables WHERE n_mod_since_analyze >= 50")
            for (table,) in cur.fetchall():
                cur.execute(f'ANALYZE "{table}"')
        finally:
            conn.close()

    def query(self, sql, params=()):
        conn = self.cluster.connect(self.database)
        try:
            cur = conn.cursor()
            cur.execute(sql.replace("?", "%s"), params)
            return cur.fetchall()
        finally:
            conn.close()


def postgres_cluster():
    """A temporary PostgreSQL 15 cluster (tests/system/pg_cluster.py) with durable commits."""
    sys.path.insert(0, os.path.join(BENCH_DIR, "..", "tests", "system"))
    import pg_cluster
    return pg_cluster.Cluster().init().start(durable=True)


def wait_for_audit(store, deadline_s=120):
    """Waits until the audit consumer has an entry for every task event; returns the seconds it
    took from the call (0 when it was already there)."""
    started = time.time()
    while time.time() - started < deadline_s:
        events = store.query("SELECT COUNT(*) FROM outbox WHERE topic = 'task-events'")[0][0]
        audited = store.query("SELECT COUNT(*) FROM audit_logs")[0][0]
        if audited >= events:
            return time.time() - started
        time.sleep(0.05)
    sys.exit("bench: the audit consumer did not catch up within 120 s")


def event_lag(store, since_us, until_us):
    """Commit-to-audit latency of the task events appended in [since, until]: the audit entry's
    recorded_at (taken in the consumer's handler) minus the outbox row's created_at (taken in the
    writer's transaction, before its commit and fsync), in ms."""
    lags = sorted(r[0] / 1000.0 for r in store.query(
        "SELECT a.recorded_at - o.created_at FROM audit_logs a JOIN outbox o ON o.event_id = a.event_id "
        "WHERE o.topic = 'task-events' AND o.created_at BETWEEN ? AND ?", (since_us, until_us)))
    return {"events": len(lags), "p50_ms": percentile(lags, 0.50), "p99_ms": percentile(lags, 0.99),
            "max_ms": lags[-1] if lags else None}


class LagSampler(threading.Thread):
    """Reads the audit consumer's lag from /metrics every 200 ms while a scenario runs."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.samples, self.done = port, [], threading.Event()

    def run(self):
        pattern = re.compile(r'^todo_bus_consumer_lag\{group="audit-service"[^}]*\} (\d+)$', re.M)
        while not self.done.wait(0.2):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                    text = r.read().decode()
            except OSError:
                continue
            self.samples.append(sum(int(v) for v in pattern.findall(text)))


def now_us():
    return int(time.time() * 1e6)


def light_lag_without_fsync(binary):
    """The light-load lag with --durability normal: no fsync between the event's append and its
    commit, so the figure is the bus's own commit-to-handler time."""
    with tempfile.TemporaryDirectory(prefix="todo-bench-lag-") as data_dir:
        proc, port = start_server(binary, data_dir, ["--durability", "normal"])
        try:
            token = call(port, "POST", "/api/auth/register",
                         {"email": "lag@example.com", "password": "bench-password-4711"})["access_token"]
            start = now_us()
            for i in range(1000):
                call(port, "POST", "/api/tasks", {"title": f"lag probe {i}"}, token)
            store = SqliteStore(data_dir)
            wait_for_audit(store)
            return event_lag(store, start, now_us())
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def seconds(duration):
    return to_ms(duration) / 1000.0


class WsLoad:
    """One run of todo_ws_load: its first JSON line once every connection settled, then a line on
    its stdin starts the next step (idle: close; fanout: measure), then its last JSON line."""

    def __init__(self, ws_load, mode, port, tokens_path, *args):
        self.proc = subprocess.Popen(
            [ws_load, mode, "--url", f"ws://127.0.0.1:{port}/ws/tasks", "--tokens", tokens_path,
             *map(str, args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def line(self):
        text = self.proc.stdout.readline()
        if not text:
            self.proc.wait(timeout=30)
            raise RuntimeError(f"todo_ws_load ended with status {self.proc.returncode}")
        return json.loads(text)

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def finish(self):
        result = self.line()
        self.proc.wait(timeout=60)
        return result

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def ws_seed(port, path):
    """WS_USERS users with one task each, in the seed file's format (wrk's create scenario and the
    tool's token list both read it)."""
    run_id = int(time.time())
    lines = []
    for u in range(WS_USERS):
        token = call(port, "POST", "/api/auth/register",
                     {"email": f"ws{u}-{run_id}@example.com",
                      "password": "bench-password-4711"})["access_token"]
        task = call(port, "POST", "/api/tasks", {"title": "ws seed"}, token)
        lines.append(f"{token} {task['id']}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def ws_idle(ws_load, proc, port, tokens_path):
    """Server RSS before, while WS_CONNECTIONS idle connections are open, and after they closed."""
    before = rss_kib(proc.pid)
    tool = WsLoad(ws_load, "idle", port, tokens_path, "--connections", WS_CONNECTIONS)
    try:
        ready = tool.line()
        time.sleep(1.0)  # let the server finish what the last handshakes started
        held = rss_kib(proc.pid)
        tool.go()
        closed = tool.finish()
    finally:
        tool.kill()
    time.sleep(1.0)
    after = rss_kib(proc.pid)
    opened = ready["open"]
    return {"requested": WS_CONNECTIONS, "open": opened, "failed": ready["failed"],
            "connect_seconds": round(ready["seconds"], 3), "errors": ready["errors"],
            "dropped_while_held": closed["dropped_while_held"], "rss_before_kib": before,
            "rss_held_kib": held, "rss_after_close_kib": after,
            "rss_growth_per_connection_kib": round((held - before) / opened, 2) if opened else None}


def outbox_to_client(store, receipts_path):
    """Each probe frame's receipt time minus its task-updates event's outbox created_at (taken in
    the write transaction, before its commit: the reference of the event lag above), in ms."""
    receipts = []
    with open(receipts_path) as f:
        for line in f:
            task_id, received_us = line.split()
            receipts.append((task_id, int(received_us)))
    appended = dict(store.query(f"SELECT {store.task_id_sql}, MIN(created_at) FROM outbox "
                                "WHERE topic = 'task-updates' GROUP BY 1"))
    lags = sorted((received - appended[task_id]) / 1000.0
                  for task_id, received in receipts if task_id in appended)
    return {"frames": len(lags), "p50_ms": percentile(lags, 0.50), "p99_ms": percentile(lags, 0.99),
            "max_ms": lags[-1] if lags else None}


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ws_fanout(ws_load, proc, port, store, tokens_path, with_create_load,
              per_user=WS_PER_USER, writes_per_second=WS_PROBES_PER_SECOND):
    """WS_USERS × per_user connections; the tool writes writes_per_second tasks itself for
    DURATION, with wrk's create scenario running beside it when asked."""
    receipts_path = os.path.join(store.data_dir, "probe-receipts.txt")
    tool = WsLoad(ws_load, "fanout", port, tokens_path, "--per-user", per_user,
                  "--writes-per-second", writes_per_second, "--duration", seconds(DURATION),
                  "--probe-receipts", receipts_path)
    try:
        ready = tool.line()
        server_cpu = cpu_seconds(proc.pid)
        tool.go()
        wrk = run_wrk(port, "create", tokens_path) if with_create_load else None
        result = tool.finish()
        result["server_cpu_seconds"] = round(cpu_seconds(proc.pid) - server_cpu, 2)
    finally:
        tool.kill()
    result["connect_seconds"] = round(ready["seconds"], 3)
    result["probes"]["latency_from_outbox"] = outbox_to_client(store, receipts_path)
    if wrk:
        result["create_load"] = wrk
    return result


def websocket_figures(binary, ws_load):
    """The WebSocket figures, on a server of their own: the HTTP scenarios leave heap behind that
    new connections would reuse, which would hide their cost."""
    with tempfile.TemporaryDirectory(prefix="todo-bench-ws-") as data_dir:
        proc, port = start_server(binary, data_dir, WS_SERVER_FLAGS)
        try:
            tokens_path = os.path.join(RESULTS_DIR, "ws-seed.txt")
            ws_seed(port, tokens_path)
            time.sleep(0.5)
            store = SqliteStore(data_dir)
            figures = {"idle": ws_idle(ws_load, proc, port, tokens_path)}
            if figures["idle"]["open"] == 0:
                raise RuntimeError(f"no WebSocket connection opened: {figures['idle']['errors']}")
            figures["fanout"] = {
                "light": ws_fanout(ws_load, proc, port, store, tokens_path, False),
                "create": ws_fanout(ws_load, proc, port, store, tokens_path, True),
                "capacity": ws_fanout(ws_load, proc, port, store, tokens_path, False,
                                      WS_CAPACITY_PER_USER, WS_CAPACITY_WRITES_PER_SECOND)}
            return figures
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def fmt(value, spec=".2f"):
    return "—" if value is None else format(value, spec)


def print_websocket(ws):
    if "skipped" in ws:
        print(f"WebSocket figures skipped: {ws['skipped']}")
        return
    idle = ws["idle"]
    growth = idle["rss_growth_per_connection_kib"]
    print(f"WebSocket /ws/tasks: {idle['open']} of {idle['requested']} idle authenticated "
          f"connections open in {idle['connect_seconds']:.1f} s ({idle['failed']} failed); server RSS "
          f"{idle['rss_before_kib'] / 1024:.1f} → {idle['rss_held_kib'] / 1024:.1f} MiB, "
          f"{fmt(growth)} KiB per connection (target ≤ 15 KB); "
          f"{idle['dropped_while_held']} dropped while held")
    if idle["errors"]:
        print(f"  errors: {idle['errors']}")
    first = next(iter(ws["fanout"].values()))
    print(f"fan-out, {first['users']} users × {first['per_user']} connections, "
          f"{WS_PROBES_PER_SECOND} probe writes/s by the tool (capacity: {WS_CAPACITY_PER_USER} "
          f"connections per user, {WS_CAPACITY_WRITES_PER_SECOND} writes/s asked); latency to the "
          f"client's receipt, ms p50 / p99, from: the probe event's outbox append (in its "
          f"transaction), the probe's HTTP response, its request; every frame's task.updated_at "
          f"(ms precision, before the transaction)")
    print(f"  {'load':<7} {'frames/s':>9} {'frames':>8} {'probes':>6} {'outbox':>15} {'response':>15} "
          f"{'request':>15} {'updated_at':>15} {'gaps':>5} {'closed':>6}")

    def pair(latency):
        return fmt(latency["p50_ms"]) + " / " + fmt(latency["p99_ms"])

    for name, f in ws["fanout"].items():
        probes = f["probes"]
        closed = sum(v for k, v in f["errors"].items() if k.startswith("closed by the server"))
        print(f"  {name:<7} {f['frames_per_second']:>9.0f} {f['frames_total']:>8} {probes['created']:>6} "
              f"{pair(probes['latency_from_outbox']):>15} {pair(probes['latency_from_response']):>15} "
              f"{pair(probes['latency_from_request']):>15} {pair(f['latency_from_updated_at']):>15} "
              f"{f['seq_gaps'] + f['seq_backwards']:>5} {closed:>6}")
        if probes["frames_received"] < probes["frames_expected"]:
            print(f"    only {probes['frames_received']} of {probes['frames_expected']} probe frames arrived")
        print(f"    CPU seconds over the run: server {f['server_cpu_seconds']:.1f}, "
              f"todo_ws_load {f['cpu_seconds']:.1f}")
        if "create_load" in f:
            c = f["create_load"]
            print(f"    beside wrk create: {c['requests_per_second']:.0f} req/s, p99 {c['p99_ms']:.2f} ms")
        if f["errors"] or probes["failures"]:
            print(f"    errors: {f['errors']} probe failures: {probes['failures']}")


def open_loop(port, seed_path, rate, server_pid):
    """The mix at a fixed `rate` for DURATION (bench/open_loop.cpp), in run_wrk's terms."""
    cpu_before = cpu_seconds(server_pid)
    out = subprocess.run(
        [OPEN_LOOP, "--port", str(port), "--seed", seed_path, "--rate", f"{rate:.1f}",
         "--seconds", str(seconds(DURATION)), "--connections", str(CONNECTIONS)],
        capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    return {"requests_per_second": r["rate_achieved"], "rate_asked": r["rate_asked"],
            "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "p999_ms": r["p999_ms"],
            "max_ms": r["max_ms"], "non_2xx": r["failed"],
            "server_cpu_us_per_request": round(
                (cpu_seconds(server_pid) - cpu_before) * 1e6 / max(1, r["answered"]), 1)}


def run_wrk_together(ports, scenario, seed_path):
    """The scenario on several servers at once, the connections split between them: one wrk per
    server, their rates summed (p99 is the worst of them)."""
    results = [None] * len(ports)
    connections = CONNECTIONS // len(ports)

    def one(i):
        results[i] = run_wrk(ports[i], scenario, seed_path, connections)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(ports))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests_per_second": sum(r["requests_per_second"] for r in results),
            "p50_ms": max(r["p50_ms"] for r in results), "p99_ms": max(r["p99_ms"] for r in results),
            "p999_ms": max(r["p999_ms"] for r in results),
            "non_2xx": sum(r["non_2xx"] for r in results), "processes": len(ports)}


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def http_figures(binary, store_of):
    """The wrk scenarios and the event lag on one backend (`store_of(data_dir)` gives its store);
    on PostgreSQL also the create scenario on two processes sharing the database."""
    with tempfile.TemporaryDirectory(prefix="todo-bench-") as data_dir:
        store = store_of(data_dir)
        # One secret for every process, so the seeded tokens work on a second one.
        args = store.server_args + ["--jwt-secret", "bench-secret-" + "x" * 32]
        proc, port = start_server(binary, data_dir, args)
        try:
            time.sleep(0.5)  # let the process settle before reading its idle memory
            idle_rss = rss_kib(proc.pid)
            seed_path = os.path.join(data_dir, "seed.txt")
            seed_start = now_us()
            seed(port, seed_path)  # one create at a time: the light load
            wait_for_audit(store)
            lag = {"light": event_lag(store, seed_start, now_us())}
            store.analyze()  # the steady state: a database whose tables have statistics
            results = {}
            for scenario in SCENARIOS:
                sampler = LagSampler(port) if scenario == "create" else None
                if sampler:
                    sampler.start()
                    window_start = now_us()
                results[scenario] = run_wrk(port, scenario, seed_path, server_pid=proc.pid)
                if sampler:
                    window_end = now_us()
                    sampler.done.set()
                    sampler.join()
                    catch_up = wait_for_audit(store)
                    lag["create"] = event_lag(store, window_start, window_end)
                    lag["create"]["max_consumer_lag_events"] = max(sampler.samples, default=0)
                    lag["create"]["catch_up_after_load_s"] = round(catch_up, 3)
            if OPEN_LOOP and os.access(OPEN_LOOP, os.X_OK):
                results["mix, open loop 50 %"] = open_loop(
                    port, seed_path, OPEN_LOOP_SHARE * results["mix"]["requests_per_second"],
                    proc.pid)
                wait_for_audit(store)
            loaded_rss = rss_kib(proc.pid)
            if store.name == "postgres":
                with tempfile.TemporaryDirectory(prefix="todo-bench-2-") as second_dir:
                    second, second_port = start_server(binary, second_dir, args)
                    try:
                        results["create, 2 processes"] = run_wrk_together(
                            [port, second_port], "create", seed_path)
                        wait_for_audit(store)
                    finally:
                        stop_server(second)
        finally:
            stop_server(proc)
    return {"backend": store.name, "scenarios": results, "event_lag": lag,
            "idle_rss_kib": idle_rss, "loaded_rss_kib": loaded_rss}


def print_reference(reference):
    if "skipped" in reference:
        print(f"reference server: skipped ({reference['skipped']})")
        return
    print(f"reference: a minimal Beast server (bench/reference_server.cpp, {os.cpu_count()} threads) "
          f"answering the /health scenario: {reference['requests_per_second']:.0f} req/s, "
          f"p50 {reference['p50_ms']:.2f} p99 {reference['p99_ms']:.2f} p99.9 "
          f"{reference['p999_ms']:.2f} ms, {fmt(reference.get('server_cpu_us_per_request'), '.1f')} "
          f"µs CPU per request")


def print_http(figures, reference):
    ref = reference.get("requests_per_second")
    for f in figures:
        base = f["scenarios"]["health"]["requests_per_second"]
        print(f"{f['backend']}:")
        print(f"  {'scenario':<20} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} "
              f"{'× health':>8} {'× ref':>6} {'CPU µs':>7} {'non-2xx':>7}")
        for name, r in f["scenarios"].items():
            r["ratio_to_health"] = r["requests_per_second"] / base if base else 0
            if ref:
                r["ratio_to_reference"] = r["requests_per_second"] / ref
            print(f"  {name:<20} {r['requests_per_second']:>8.0f} {r['p50_ms']:>7.2f} "
                  f"{r['p99_ms']:>7.2f} {fmt(r.get('p999_ms')):>8} {r['ratio_to_health']:>8.2f} "
                  f"{fmt(r.get('ratio_to_reference')):>6} "
                  f"{fmt(r.get('server_cpu_us_per_request'), '.0f'):>7} {r['non_2xx']:>7}")
    for f in figures:
        print(f"{f['backend']}: idle RSS {f['idle_rss_kib'] / 1024:.1f} MiB; after load "
              f"{f['loaded_rss_kib'] / 1024:.1f} MiB")
    for f in figures:
        if "serialization_failures" in f:
            print(f"{f['backend']}: {f['serialization_failures']} transactions aborted by a "
                  f"serialization failure and {f['deadlocks']} by a deadlock (each ran again)")
    print("event lag, a task event's commit to its audit entry (ms):")
    for f in figures:
        for name, l in f["event_lag"].items():
            extra = ""
            if name == "create":
                extra = (f"; audit-service lag peaked at {l['max_consumer_lag_events']} events, "
                         f"caught up {l['catch_up_after_load_s']} s after the load")
            print(f"  {f['backend']:<8} {name:<15} {l['events']:>7} events  p50 {fmt(l['p50_ms'])}  "
                  f"p99 {fmt(l['p99_ms'])}  max {fmt(l['max_ms'])}{extra}")


def reference_figures(reference):
    """bench/reference_server.cpp with `todo serve`'s default thread count (one per core), under
    the /health scenario: the ceiling of this stack on this machine."""
    if not reference or not os.access(reference, os.X_OK):
        return {"skipped": f"no reference server binary at {reference!r} (make bench builds it)"}
    proc = subprocess.Popen([reference, "--threads", str(os.cpu_count())], stdout=subprocess.PIPE,
                            text=True)
    try:
        port = json.loads(proc.stdout.readline())["port"]
        with tempfile.NamedTemporaryFile("w", prefix="todo-bench-ref-", suffix=".txt") as seed:
            return run_wrk(port, "health", seed.name, server_pid=proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def kafka_section(binary, ws_load, mock_broker, cluster):
    import kafka_figures as kafka  # bench/kafka_figures.py, which imports this module
    try:
        return kafka.kafka_figures(binary, ws_load, mock_broker, cluster)
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
        return {"skipped": f"{type(e).__name__}: {e}"}


def print_kafka(figures):
    import kafka_figures as kafka
    kafka.print_kafka(figures)


def main():
    binary = sys.argv[1]
    ws_load = sys.argv[2] if len(sys.argv) > 2 else None
    mock_broker = sys.argv[3] if len(sys.argv) > 3 else None
    reference_bin = sys.argv[4] if len(sys.argv) > 4 else None
    global OPEN_LOOP
    OPEN_LOOP = sys.argv[5] if len(sys.argv) > 5 else None
    os.makedirs(RESULTS_DIR, exist_ok=True)
    if ONLY == "websocket":
        print_websocket(websocket_figures(binary, ws_load))
        return
    if ONLY == "kafka":
        cluster = postgres_cluster()
        try:
            print_kafka(kafka_section(binary, ws_load, mock_broker, cluster))
        finally:
            cluster.destroy()
        return
    reference = reference_figures(reference_bin)
    figures = []
    kafka_figures = {"skipped": "PostgreSQL is not among TODO_BENCH_BACKENDS"}
    if "sqlite" in BACKENDS:
        figures.append(http_figures(binary, SqliteStore))
        figures[-1]["event_lag"]["light, no fsync"] = light_lag_without_fsync(binary)
    if "postgres" in BACKENDS:
        cluster = postgres_cluster()
        try:
            figures.append(http_figures(binary, lambda data_dir: PostgresStore(cluster, data_dir)))
            # What limits the writes: transactions the server aborted on a conflict (each one
            # runs again), from the server's own log.
            with open(cluster.log, errors="replace") as f:
                log = f.read()
            figures[-1]["serialization_failures"] = log.count("could not serialize access")
            figures[-1]["deadlocks"] = log.count("deadlock detected")
            kafka_figures = kafka_section(binary, ws_load, mock_broker, cluster)
        finally:
            cluster.destroy()
    if ws_load is None:
        ws = {"skipped": "no todo_ws_load binary given (make bench passes it)"}
    else:
        try:
            ws = websocket_figures(binary, ws_load)
        except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
            ws = {"skipped": f"{type(e).__name__}: {e}"}
    print(f"todo bench — wrk {THREADS} threads, {CONNECTIONS} connections, {DURATION} each, "
          f"same machine ({os.cpu_count()} cores)")
    print_reference(reference)
    print_http(figures, reference)
    print_websocket(ws)
    print_kafka(kafka_figures)
    report = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "duration": DURATION, "threads": THREADS, "connections": CONNECTIONS,
              "reference": reference, "backends": figures, "websocket": ws,
              "kafka": kafka_figures}
    name = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json"
    with open(os.path.join(RESULTS_DIR, name), "w") as f:
        json.dump(report, f, indent=2)
    print(f"written to bench/results/{name}")


if __name__ == "__main__":
    main()

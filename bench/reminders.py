#!/usr/bin/python3
"""The reminders figure of make bench (issue 12): 10,000 reminders due at the same instant, fired by
`todo serve`'s notification service and delivered to a webhook sink in this process.

Starts the server (--allow-private-webhooks) on a temporary data dir, registers USERS accounts, each
with one `webhook` target pointing at a threaded HTTP server here, and creates REMINDERS tasks
(spread over the accounts, from a thread pool) due at T, the first whole minute at least
TODO_BENCH_REMINDER_LEAD seconds (default 45) away, with `reminders: [0]`: one reminder each at T.
While they wait it measures the idle service: the server's CPU seconds (utime + stime from
/proc/<pid>/stat) and context switches of all its threads over a quiet IDLE_WINDOW seconds. Then it
waits for every delivery and reports lateness (time − instant), p50 / p99 / max:

- fired_at: the reminder's `fired_at` from GET /api/tasks/{id}/reminders (the server's record; the
  time its firing tick started, shared by every reminder of one tick, as is the lateness histogram
  of /metrics);
- fired, committed: the `ts` of the server's `reminder fired` log line, written after the firing
  batch's transaction committed;
- in-app received: a WebSocket per account (GET /ws/tasks, as the web app holds one) receives the
  `reminder.fired` frame: its receipt time minus the frame's `fire_at` — what a person with the app
  open sees;
- webhook recorded: the webhook delivery's `updated_at` (after the sink answered, as recorded);
- webhook received: the sink's receipt time minus the body's `data.fire_at`.

Also the server's and this process's CPU over the firing and delivery. Run alone (make bench runs
it after run.py): /usr/bin/python3 bench/reminders.py <todo binary>. Writes
bench/results/<timestamp>-reminders.json."""
import asyncio
import concurrent.futures
import datetime
import http.server
import json
import os
import re
import resource
import signal
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import RESULTS_DIR, call, cpu_seconds, percentile, start_server  # noqa: E402

REMINDERS = int(os.environ.get("TODO_BENCH_REMINDERS", "10000"))
USERS = 10
CLIENT_THREADS = 16
LEAD_S = float(os.environ.get("TODO_BENCH_REMINDER_LEAD", "45"))
IDLE_WINDOW_S = 10.0
DELIVERY_DEADLINE_S = float(os.environ.get("TODO_BENCH_REMINDER_DEADLINE", "600"))
NOTIFY_WORKERS = os.environ.get("TODO_BENCH_NOTIFY_WORKERS")  # unset: the server's default
# More server flags, e.g. "--durability normal", to see what a figure depends on.
EXTRA_FLAGS = os.environ.get("TODO_BENCH_REMINDER_FLAGS", "").split()


def parse_time(text):
    """RFC 3339 with Z and milliseconds, as the server writes it, to epoch seconds."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Sink(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.lock = threading.Lock()
        self.receipts = {}  # webhook-id → (received, fire_at, late)
        self.duplicates = 0
        self.bad = 0


class SinkHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        received = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sink = self.server
        try:
            data = json.loads(body)["data"]
            entry = (received, parse_time(data["fire_at"]), bool(data.get("late")))
            key = self.headers.get("webhook-id") or data["delivery_id"]
        except (ValueError, KeyError, TypeError):
            entry, key = None, None
        with sink.lock:
            if entry is None:
                sink.bad += 1
            elif key in sink.receipts:
                sink.duplicates += 1
            else:
                sink.receipts[key] = entry
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class InAppSink:
    """One WebSocket per account on /ws/tasks, read on an asyncio loop in its own thread: the
    receipt time of each `reminder.fired` frame, by reminder id."""

    def __init__(self, port, tokens):
        import websockets  # Debian's python3-websockets (scripts/install-deps.sh)
        self.websockets = websockets
        self.lock = threading.Lock()
        self.receipts = {}  # reminder id → (received, fire_at)
        self.closed = []  # close codes of connections that ended early
        self.ready = threading.Event()
        self.failure = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, args=(port, tokens), daemon=True)
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError(f"in-app sink: {self.failure or 'no hello in 30 s'}")

    def _run(self, port, tokens):
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main(port, tokens))
        except Exception as e:  # noqa: BLE001 - reported by __init__ or in the figures
            self.failure = f"{type(e).__name__}: {e}"
            self.ready.set()

    async def _main(self, port, tokens):
        conns = []
        for token in tokens:
            ws = await self.websockets.connect(f"ws://127.0.0.1:{port}/ws/tasks?token={token}",
                                               open_timeout=30, max_size=None)
            await ws.recv()  # hello
            conns.append(ws)
        self.ready.set()
        await asyncio.gather(*(self._read(ws) for ws in conns))

    async def _read(self, ws):
        try:
            async for message in ws:
                received = time.time()
                if '"reminder.fired"' not in message:
                    continue
                frame = json.loads(message)
                with self.lock:
                    self.receipts[frame["reminder_id"]] = (received, parse_time(frame["fire_at"]))
        except self.websockets.ConnectionClosed as e:
            self.closed.append(e.code)

    def count(self):
        with self.lock:
            return len(self.receipts)


def metrics_text(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def metric(text, name):
    m = re.search(rf"^{re.escape(name)} ([\d.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def lateness_histogram(text):
    buckets = [(float("inf") if le == "+Inf" else float(le), int(float(n))) for le, n in re.findall(
        r'^todo_reminder_lateness_seconds_bucket\{le="([^"]+)"\} ([\d.e+-]+)$', text, re.M)]
    count = metric(text, "todo_reminder_lateness_seconds_count")
    total = metric(text, "todo_reminder_lateness_seconds_sum")

    def quantile(q):  # the upper bound of the bucket the quantile falls in
        for le, n in buckets:
            if count and n >= q * count:
                return le
        return None

    return {"count": int(count), "mean_s": total / count if count else None,
            "p50_le_s": quantile(0.50), "p99_le_s": quantile(0.99),
            "buckets": {("+Inf" if le == float("inf") else str(le)): n for le, n in buckets}}


def deliveries_by_status(text):
    out = {}
    for channel, status, n in re.findall(
            r'^todo_notification_deliveries_total\{channel="([^"]+)",status="([^"]+)"\} (\d+)$',
            text, re.M):
        out[f"{channel}/{status}"] = int(n)
    return out


def thread_switches(pid):
    """Voluntary + involuntary context switches of every thread of the process (how often its
    threads woke up), by thread id: (name, count)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                name, count = "?", 0
                for line in f:
                    if line.startswith("Name:"):
                        name = line.split(None, 1)[1].strip()
                    elif line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        count += int(line.split()[1])
            out[tid] = (name, count)
        except OSError:
            pass
    return out


def thread_cpu(pid):
    """utime + stime of each thread of the process, in seconds, by thread id."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return out


def switches_between(before, after):
    """Context switches over a window, in total and by thread name (threads that woke at all)."""
    woken = {}
    for tid, (name, count) in after.items():
        n = count - before.get(tid, (name, 0))[1]
        if n:
            woken[f"{name}/{tid}"] = n
    return sum(woken.values()), dict(sorted(woken.items(), key=lambda kv: -kv[1]))


def stats(values):
    values = sorted(values)
    return {"count": len(values), "p50_s": percentile(values, 0.50),
            "p99_s": percentile(values, 0.99), "max_s": values[-1] if values else None,
            "over_1s": sum(1 for v in values if v > 1.0)}


def wait_until(predicate, deadline_s, what):
    end = time.time() + deadline_s
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {deadline_s:.0f} s waiting for {what}")


def measure(binary):
    sink = Sink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}/hook"
    flags = ["--allow-private-webhooks", "--register-limit-address", "1000"]
    if NOTIFY_WORKERS:
        flags += ["--notify-workers", NOTIFY_WORKERS]
    flags += EXTRA_FLAGS
    with tempfile.TemporaryDirectory(prefix="todo-bench-reminders-") as data_dir:
        proc, port = start_server(binary, data_dir, flags)
        try:
            return run(proc, port, sink, sink_url, os.path.join(data_dir, "server.log"))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            sink.shutdown()


def fired_from_log(log_path, instant):
    """Lateness of each `reminder fired` log line: its `ts` (ms) is taken after the firing batch's
    write transaction committed, unlike `fired_at`, which is the firing tick's start."""
    out = []
    with open(log_path) as f:
        for line in f:
            if '"reminder fired"' not in line:
                continue
            try:
                out.append(parse_time(json.loads(line)["ts"]) - instant)
            except (ValueError, KeyError):
                pass
    return out


def run(proc, port, sink, sink_url, log_path):
    run_id = int(time.time())
    tokens = []
    for u in range(USERS):
        token = call(port, "POST", "/api/auth/register",
                     {"email": f"rem{u}-{run_id}@example.com",
                      "password": "bench-password-4711"})["access_token"]
        call(port, "POST", "/api/notification-targets", {"kind": "webhook", "url": sink_url}, token)
        tokens.append(token)
    app_sink = InAppSink(port, tokens)

    now = time.time()
    instant = (int(now + LEAD_S) // 60 + 1) * 60  # the first whole minute at least LEAD_S away
    due = iso(instant)

    def create(i):
        task = call(port, "POST", "/api/tasks",
                    {"title": f"reminder bench {i}", "due_date": due, "reminders": [0]},
                    tokens[i % USERS])
        return task["id"], tokens[i % USERS]

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(CLIENT_THREADS) as pool:
        tasks = list(pool.map(create, range(REMINDERS)))
    create_s = time.time() - started
    # The notification service consumes the schedule events behind the writes.
    wait_until(lambda: metric(metrics_text(port), "todo_reminders_scheduled_total") >= REMINDERS,
               max(5.0, instant - time.time() - 1), "the reminders to be scheduled")
    scheduled_s = time.time() - started
    time.sleep(1.0)  # let the last commits and the access log settle
    if instant - time.time() < IDLE_WINDOW_S + 2:
        raise RuntimeError(f"creating took {create_s:.1f} s: no room for the idle window before "
                           f"the instant; raise TODO_BENCH_REMINDER_LEAD (now {LEAD_S:.0f} s)")
    cpu0, sw0 = cpu_seconds(proc.pid), thread_switches(proc.pid)
    time.sleep(IDLE_WINDOW_S)
    switches, by_thread = switches_between(sw0, thread_switches(proc.pid))
    idle = {"window_s": IDLE_WINDOW_S,
            "server_cpu_seconds": round(cpu_seconds(proc.pid) - cpu0, 3),
            "context_switches": switches, "context_switches_by_thread": by_thread,
            "threads": len(os.listdir(f"/proc/{proc.pid}/task"))}

    time.sleep(max(0.0, instant - time.time() - 0.5))
    before_fire_cpu, before_threads = cpu_seconds(proc.pid), thread_cpu(proc.pid)
    before_self = resource.getrusage(resource.RUSAGE_SELF)

    def delivered():
        with sink.lock:
            return len(sink.receipts) >= REMINDERS and app_sink.count() >= REMINDERS
    try:
        wait_until(delivered, DELIVERY_DEADLINE_S, "every webhook and in-app delivery")
        missing = 0
    except RuntimeError:
        with sink.lock:
            missing = REMINDERS - len(sink.receipts)
    all_received_s = time.time() - instant
    fire_cpu = round(cpu_seconds(proc.pid) - before_fire_cpu, 2)
    after_self = resource.getrusage(resource.RUSAGE_SELF)
    sink_cpu = round(after_self.ru_utime + after_self.ru_stime
                     - before_self.ru_utime - before_self.ru_stime, 2)
    busiest = sorted(((cpu - before_threads.get(tid, 0.0), tid)
                      for tid, cpu in thread_cpu(proc.pid).items()), reverse=True)
    busiest = [round(cpu, 2) for cpu, _ in busiest[:8] if cpu > 0]
    time.sleep(0.5)  # the last outcomes are recorded (and logged) after the sink answered
    text = metrics_text(port)

    # The server's own record of each reminder and its deliveries.
    def reminders_of(task):
        return call(port, "GET", f"/api/tasks/{task[0]}/reminders", None, task[1])["items"]
    with concurrent.futures.ThreadPoolExecutor(CLIENT_THREADS) as pool:
        items = [r for rs in pool.map(reminders_of, tasks) for r in rs]
    fired, recorded, statuses, late, in_app = [], [], {}, 0, 0
    for r in items:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        late += bool(r.get("late"))
        if r.get("fired_at"):
            fired.append(parse_time(r["fired_at"]) - parse_time(r["fire_at"]))
        for d in r.get("deliveries", []):
            if d["channel"] == "webhook" and d["status"] == "delivered":
                recorded.append(parse_time(d["updated_at"]) - parse_time(r["fire_at"]))
            if d["channel"] == "in-app" and d["status"] == "delivered":
                in_app += 1
    with sink.lock:
        receipts = list(sink.receipts.values())
        duplicates, bad = sink.duplicates, sink.bad
    received = [got - fire_at for got, fire_at, _ in receipts]
    with app_sink.lock:
        in_app_received = [got - fire_at for got, fire_at in app_sink.receipts.values()]
    late_at_sink = sum(1 for _, _, was_late in receipts if was_late)
    span = (max(r[0] for r in receipts) - min(r[0] for r in receipts)) if receipts else 0
    return {
        "reminders": REMINDERS, "users": USERS, "instant": due,
        "notify_workers": int(NOTIFY_WORKERS) if NOTIFY_WORKERS else "default",
        "extra_server_flags": EXTRA_FLAGS,
        "create_seconds": round(create_s, 2), "scheduled_after_seconds": round(scheduled_s, 2),
        "idle": idle,
        "reminder_status": statuses, "late": late, "in_app_delivered": in_app,
        "lateness": {"fired_at (tick start)": stats(fired),
                     "fired, committed (log ts)": stats(fired_from_log(log_path, instant)),
                     "in-app received (WebSocket)": stats(in_app_received),
                     "webhook recorded (server)": stats(recorded),
                     "webhook received (sink)": stats(received)},
        "metrics_histogram": lateness_histogram(text),
        "metrics_deliveries": deliveries_by_status(text),
        "metrics_missed": int(metric(text, "todo_reminders_missed_total")),
        "in_app_sink": {"received": len(in_app_received), "connections": USERS,
                        "closed_early": app_sink.closed},
        "sink": {"received": len(receipts), "missing": missing, "duplicates": duplicates,
                 "unparsed": bad, "marked_late": late_at_sink, "deliveries_per_second":
                 round(len(receipts) / span, 1) if span else None},
        "all_received_after_instant_s": round(all_received_s, 2),
        "server_cpu_seconds_firing_and_delivering": fire_cpu,
        "server_busiest_threads_cpu_seconds": busiest,
        "sink_process_cpu_seconds": sink_cpu,
    }


def fmt(value, spec=".3f"):
    return "—" if value is None else format(value, spec)


def print_figures(r):
    if "skipped" in r:
        print(f"reminders figure skipped: {r['skipped']}")
        return
    extra = "; " + " ".join(r["extra_server_flags"]) if r["extra_server_flags"] else ""
    print(f"reminders: {r['reminders']} due at {r['instant']} ({r['users']} users, one webhook "
          f"target each, a local sink; notify workers {r['notify_workers']}{extra}); created in "
          f"{r['create_seconds']:.1f} s, all scheduled {r['scheduled_after_seconds']:.1f} s "
          f"after the first create")
    print(f"  {'lateness, s (time − instant)':<30} {'count':>6} {'p50':>8} {'p99':>8} {'max':>8} "
          f"{'> 1 s':>6}")
    for name, s in r["lateness"].items():
        print(f"  {name:<30} {s['count']:>6} {fmt(s['p50_s']):>8} {fmt(s['p99_s']):>8} "
              f"{fmt(s['max_s']):>8} {s['over_1s']:>6}   (target p99 ≤ 1 s)")
    h = r["metrics_histogram"]
    print(f"  /metrics lateness histogram: {h['count']} fired, p50 ≤ {h['p50_le_s']} s, "
          f"p99 ≤ {h['p99_le_s']} s; missed {r['metrics_missed']}")
    sink = r["sink"]
    in_app = r["in_app_sink"]
    print(f"  in-app: {in_app['received']} reminder.fired frames over {in_app['connections']} "
          f"WebSockets (closed early: {in_app['closed_early'] or 'none'})")
    print(f"  reminders {r['reminder_status']}, late {r['late']}; in-app delivered "
          f"{r['in_app_delivered']}; deliveries {r['metrics_deliveries']}")
    print(f"  sink: {sink['received']} received ({sink['missing']} missing, {sink['duplicates']} "
          f"duplicates), {fmt(sink['deliveries_per_second'], '.0f')} deliveries/s, the last "
          f"{r['all_received_after_instant_s']:.1f} s after the instant; server CPU "
          f"{r['server_cpu_seconds_firing_and_delivering']:.1f} s meanwhile (busiest threads "
          f"{r['server_busiest_threads_cpu_seconds']}), this process (the sink) "
          f"{r['sink_process_cpu_seconds']:.1f} s")
    idle = r["idle"]
    print(f"  idle, {r['reminders']} reminders scheduled ahead: server CPU "
          f"{idle['server_cpu_seconds']:.2f} s and {idle['context_switches']} context switches "
          f"({idle['threads']} threads) over {idle['window_s']:.0f} s (target: no CPU)")
    if idle["context_switches_by_thread"]:
        print(f"    woken threads: {idle['context_switches_by_thread']}")


def main_figures(binary):
    try:
        return measure(binary)
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        return {"skipped": f"{type(e).__name__}: {e}"}


def main():
    binary = sys.argv[1]
    os.makedirs(RESULTS_DIR, exist_ok=True)
    figures = main_figures(binary)
    print_figures(figures)
    report = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "cores": os.cpu_count(), "load_average": os.getloadavg(), "reminders": figures}
    name = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-reminders.json"
    with open(os.path.join(RESULTS_DIR, name), "w") as f:
        json.dump(report, f, indent=2)
    print(f"written to bench/results/{name}")
    if "skipped" in figures:
        sys.exit(1)


if __name__ == "__main__":
    main()

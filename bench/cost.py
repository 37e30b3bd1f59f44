#!/usr/bin/python3
"""bench/cost.py BINARY [BINARY...]: CPU cost per request, in instructions, under callgrind.

Wall-clock figures (bench/run.py) move by ±20 % on this 2-core machine whenever anything else
runs; instruction counts do not. For each binary this starts `todo serve` under
`valgrind --tool=callgrind` with instrumentation off, seeds two users, then per scenario turns
instrumentation on, sends REQUESTS requests one after another on one keep-alive connection, turns it
off and reads the count: the server's instructions (every thread: I/O, pools, writer, consumers)
per request. Comparing two builds of the same scenario says what a change cost or saved.

Usage: /usr/bin/python3 bench/cost.py build/release/src/app/todo /path/to/other/todo
Environment: TODO_COST_REQUESTS (default 400); TODO_COST_KEEP=DIR keeps each scenario's
callgrind dump as DIR/<scenario>.callgrind, for `callgrind_annotate --inclusive=yes`."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REQUESTS = int(os.environ.get("TODO_COST_REQUESTS", "400"))
KEEP = os.environ.get("TODO_COST_KEEP")
USERS, TASKS_PER_USER = 2, 40
SCENARIOS = ["health", "get_one", "list", "create", "complete"]
CREATE_BODY = json.dumps({"title": "Benchmark task", "priority": "high", "tags": ["bench", "load"],
                          "due_date": "2030-01-01T09:00:00Z", "reminders": [15]})


def start(binary, data_dir):
    log_path = os.path.join(data_dir, "server.log")
    out_path = os.path.join(data_dir, "callgrind.out")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_path}",
         binary, "serve", "--port", "0", "--address", "127.0.0.1", "--data-dir", data_dir,
         "--login-limit-address", "1000000"],
        stderr=open(log_path, "w"), stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("TODO_")})
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        with open(log_path) as f:
            for line in f:
                if line.startswith("{") and '"listening"' in line:
                    return proc, json.loads(line)["port"]
        time.sleep(0.2)
    proc.kill()
    sys.exit(f"cost: {binary} did not start; see {log_path}")


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None, token=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 400:
            sys.exit(f"cost: {method} {path} → {resp.status} {data[:200]!r}")
        return json.loads(data) if data else None


def collected_instructions(pid):
    """Dumps the counts collected since the last zeroing and returns their total (Ir)."""
    out = subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("cost: callgrind_control --dump failed: " + out.stderr)
    return out


def total_from_dumps(data_dir, before, scenario):
    total = 0
    for name in os.listdir(data_dir):
        if name.startswith("callgrind.out") and name not in before:
            if KEEP:
                os.makedirs(KEEP, exist_ok=True)
                shutil.copy(os.path.join(data_dir, name), os.path.join(KEEP, f"{scenario}.callgrind"))
            with open(os.path.join(data_dir, name)) as f:
                for line in f:
                    m = re.match(r"^(?:summary|totals): (\d+)", line)
                    if m:  # summary: in the header (may be 0), totals: at the end
                        total = max(total, int(m.group(1)))
    return total


def measure(binary):
    results = {}
    with tempfile.TemporaryDirectory(prefix="todo-cost-") as data_dir:
        proc, port = start(binary, data_dir)
        try:
            client = Client(port)
            rows = []
            for u in range(USERS):
                reg = client.call("POST", "/api/auth/register", json.dumps(
                    {"email": f"cost{u}@example.com", "password": "bench-password-4711"}))
                for t in range(TASKS_PER_USER):
                    task = client.call("POST", "/api/tasks", json.dumps(
                        {"title": f"Seed task {t}", "priority": ["low", "medium", "high"][t % 3],
                         "tags": ["seed", f"t{t % 5}"],
                         "due_date": f"2030-01-{1 + t % 28:02d}T09:00:00Z"}), reg["access_token"])
                    rows.append((reg["access_token"], task["id"]))
            for scenario in SCENARIOS:
                # Let the consumers finish the previous scenario's events before counting.
                time.sleep(2)
                subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True,
                               capture_output=True)
                subprocess.run(["callgrind_control", "--instr=on", str(proc.pid)], check=True,
                               capture_output=True)
                for i in range(REQUESTS):
                    token, task_id = rows[i % len(rows)]
                    if scenario == "health":
                        client.call("GET", "/health")
                    elif scenario == "get_one":
                        client.call("GET", f"/api/tasks/{task_id}", token=token)
                    elif scenario == "list":
                        client.call("GET", "/api/tasks?limit=50", token=token)
                    elif scenario == "create":
                        client.call("POST", "/api/tasks", CREATE_BODY, token)
                    elif scenario == "complete":
                        action = "complete" if (i // len(rows)) % 2 == 0 else "reopen"
                        client.call("POST", f"/api/tasks/{task_id}/{action}", token=token)
                # The events these writes produced are consumed (audit, recurring) before the count.
                time.sleep(3)
                before = set(os.listdir(data_dir))
                subprocess.run(["callgrind_control", "--instr=off", str(proc.pid)], check=True,
                               capture_output=True)
                collected_instructions(proc.pid)
                results[scenario] = total_from_dumps(data_dir, before, scenario) / REQUESTS
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
    return results


def main():
    binaries = sys.argv[1:]
    if not binaries:
        sys.exit(__doc__)
    table = {b: measure(b) for b in binaries}
    print(f"instructions per request (callgrind, {REQUESTS} sequential requests per scenario; "
          "every server thread, event consumers included)")
    for i, b in enumerate(binaries):
        print(f"  {chr(65 + i)} = {b}")
    print("scenario   " + "".join(f"{chr(65 + i):>16}" for i in range(len(binaries))))
    for scenario in SCENARIOS:
        cells = "".join(f"{table[b][scenario]:>16,.0f}" for b in binaries)
        print(f"{scenario:<11}{cells}")


if __name__ == "__main__":
    main()

"""Black-box harness for the `todo` binary: process control, HTTP helpers, JWT forging.

Standard library only (plus pytest for failing with a message). Imported by conftest.py and by
the test modules (pytest puts this directory on sys.path: rootdir-less "prepend" import mode).
"""

import atexit
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

# A known secret for servers the tests start (>= 32 bytes, easy to grep for in logs).
SECRET = "system-test-jwt-secret-4f1c2a9e8b7d6c5e3a1f0b9c8d7e6f5a"
OTHER_SECRET = "another-secret-that-the-server-never-saw-0123456789"

READY_TIMEOUT = 10.0  # seconds to wait for the "listening" log line
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
HTTP_TIMEOUT = 15.0  # socket timeout of every HTTP request the tests make

HIGH_LIMIT = "100000"  # login and sign-up rate limits for servers that do not test rate limiting

UUID7_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


# --------------------------------------------------------------------------------------------
# environment of child processes


def scrubbed_env(extra=None):
    """The current environment without any TODO_* variable, BETTER_AUTH_SECRET or DATABASE_URL
    (the backend is the test run's choice, see backend_env), nor the Dapr sidecar's variables
    (DAPR_*, APP_API_TOKEN: todo reads them as --dapr-* defaults), plus extra."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TODO_", "DAPR_"))
        and k not in ("BETTER_AUTH_SECRET", "DATABASE_URL", "APP_API_TOKEN")
    }
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


# --------------------------------------------------------------------------------------------
# the backend: TODO_TEST_BACKEND=sqlite (default) or postgres

BACKEND = os.environ.get("TODO_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"TODO_TEST_BACKEND={BACKEND!r}: expected sqlite or postgres")
POSTGRES = BACKEND == "postgres"

_cluster = None  # pg_cluster.Cluster of this session (set by conftest's session fixture)


def set_cluster(cluster):
    global _cluster
    _cluster = cluster


def cluster():
    assert _cluster is not None, "the PostgreSQL cluster of this run has not been started"
    return _cluster


def database_url(data_dir, migrated=True):
    """On PostgreSQL: the URL of the database that belongs to this data dir (made on first use, so
    a server restarted on the same data dir finds its data; empty if not `migrated`). None on
    SQLite."""
    if not POSTGRES:
        return None
    return cluster().url(cluster().database_for(os.path.abspath(str(data_dir)), migrated))


def backend_env(data_dir, env, migrated=True):
    """env plus DATABASE_URL of data_dir's database on PostgreSQL, unless env names a database."""
    url = database_url(data_dir, migrated)
    env = dict(env or {})
    if url and not any(k in env for k in ("DATABASE_URL", "TODO_DATABASE_URL")):
        env["DATABASE_URL"] = url
    return env


def open_db(data_dir, write=False):
    """A connection to the server's database of data_dir: <data_dir>/todo.db, read-only unless
    `write` (the server keeps it in WAL mode, so a test may read or write while it runs); on
    PostgreSQL a pg_cluster.Connection to its database (with the same interface)."""
    if POSTGRES:
        import pg_cluster

        return pg_cluster.Connection(cluster().connect(cluster().database_for(os.path.abspath(str(data_dir)))))
    path = os.path.abspath(os.path.join(str(data_dir), "todo.db"))
    if write:
        return sqlite3.connect(path, timeout=30)
    return sqlite3.connect("file:" + urllib.parse.quote(path) + "?mode=ro", uri=True, timeout=30)


def sql(data_dir, query, params=(), write=False):
    """The rows of one statement on data_dir's database (committed when `write`)."""
    conn = open_db(data_dir, write)
    try:
        rows = conn.execute(query, params).fetchall()
        if write or POSTGRES:
            conn.commit()
        return rows
    finally:
        conn.close()


def assert_database_made(data_dir):
    """The server or `todo migrate` made its database: <data_dir>/todo.db on SQLite; on PostgreSQL
    the data dir's database holds the migrated schema, and no SQLite file appeared instead."""
    if POSTGRES:
        assert not os.path.exists(os.path.join(str(data_dir), "todo.db")), os.listdir(str(data_dir))
        versions = sql(data_dir, "SELECT COUNT(*) FROM schema_migrations")[0][0]
        assert versions > 0, "no migration recorded in the PostgreSQL database"
    else:
        assert os.path.isfile(os.path.join(str(data_dir), "todo.db")), os.listdir(str(data_dir))


def poll_until(condition, what, timeout=30.0):
    """condition()'s first truthy value; fails naming `what` when the deadline passes first."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < end, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def consumed_everything(data_dir, group, topic="task-events"):
    """True once consumer `group` has committed, on every partition of `topic`, the offset the
    next event will get: whatever it would do with the events so far, it has done."""
    heads = dict(sql(data_dir, 'SELECT "partition", next_offset FROM log_heads WHERE topic = ?', (topic,)))
    done = dict(sql(data_dir, 'SELECT "partition", "offset" FROM consumer_offsets '
                              'WHERE "group" = ? AND topic = ?', (group, topic)))
    return all(done.get(p, 0) >= head for p, head in heads.items())


def wait_consumed(data_dir, group, topic="task-events", timeout=30.0):
    poll_until(lambda: consumed_everything(data_dir, group, topic), f"{group} to consume all of {topic}", timeout)


def cli_data_dir(args, env=None):
    """The data dir a `todo` command line names (--data-dir, --data-dir=, TODO_DATA_DIR), or None."""
    args = list(args)
    for i, a in enumerate(args):
        if a == "--data-dir" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--data-dir="):
            return a.split("=", 1)[1]
    return (env or {}).get("TODO_DATA_DIR")


def run_cli(todo_bin, args, env=None, timeout=20.0):
    """Run `todo ARGS` to completion; returns subprocess.CompletedProcess with text output.
    On PostgreSQL a command that names a data dir gets DATABASE_URL of that data dir's database
    (commands without the flag ignore the variable)."""
    data_dir = cli_data_dir(args, env)
    if data_dir:
        # `todo migrate` on a data dir seen for the first time finds an empty database to migrate.
        env = backend_env(data_dir, env, migrated=not (args and args[0] == "migrate"))
    try:
        return subprocess.run(
            [todo_bin] + list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=scrubbed_env(env),
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:  # the child has been killed by subprocess.run
        pytest.fail(
            f"`todo {' '.join(args)}` did not exit within {timeout} s "
            f"(stdout={e.stdout!r}, stderr={e.stderr!r})",
            pytrace=False,
        )


def text(b):
    return b.decode("utf-8", "replace") if isinstance(b, (bytes, bytearray)) else (b or "")


# --------------------------------------------------------------------------------------------
# HTTP


class Response:
    """status, headers (lower-cased names, repeated headers joined with ', '), body.

    body is the parsed JSON when the Content-Type is JSON (application/json,
    application/problem+json) and the body is non-empty, otherwise the raw bytes.
    Unpacks as a 3-tuple: status, headers, body = server.request(...).
    """

    def __init__(self, status, headers, body, method, path, raw):
        self.status = status
        self.headers = headers
        self.body = body
        self.method = method
        self.path = path
        self.raw = raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def header_tokens(self, name):
        """Comma-separated header value as a set of lower-cased tokens."""
        return {t.strip().lower() for t in self.headers.get(name, "").split(",") if t.strip()}

    def __repr__(self):
        return f"<{self.method} {self.path} -> {self.status} {self.headers!r} {self.body!r}>"


def headers_dict(header_list):
    out = {}
    for name, value in header_list:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def parse_body(headers, raw):
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if raw and (ctype == "application/json" or ctype.endswith("+json")):
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return raw
    return raw


def encode_json(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def do_request(conn, method, path, body=None, headers=None, raw_body=None):
    """One request on an existing http.client connection; returns a Response."""
    hdrs = dict(headers or {})
    data = None
    if raw_body is not None:
        data = raw_body
    elif body is not None:
        data = encode_json(body)
        if not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    h = headers_dict(resp.getheaders())
    return Response(resp.status, h, parse_body(h, raw), method, path, raw)


def read_response(sock, timeout=HTTP_TIMEOUT):
    """Read one HTTP response from a raw socket. Returns a Response, or None when the server
    closed (or reset) the connection without sending anything."""
    sock.settimeout(timeout)
    resp = http.client.HTTPResponse(sock, method="GET")
    try:
        resp.begin()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        return None
    try:
        raw = resp.read()
    except (http.client.IncompleteRead, ConnectionResetError) as e:
        raw = getattr(e, "partial", b"") or b""
    h = headers_dict(resp.getheaders())
    return Response(resp.status, h, parse_body(h, raw), "?", "?", raw)


def wait_closed(sock, timeout):
    """Wait until the peer closes (EOF or reset) the socket. Returns (closed, data_received)."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, data
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, data
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return True, data
        if not chunk:
            return True, data
        data += chunk


ANY = object()  # assert_problem(..., instance=ANY): any string


def assert_problem(resp, status, ptype, instance=None):
    """Assert resp is an application/problem+json error with this status and type.

    ptype is one slug or a collection of acceptable slugs. instance defaults to the request
    path without its query string; ANY accepts any string."""
    st, h, b = resp
    allowed = {ptype} if isinstance(ptype, str) else set(ptype)
    assert st == status, f"expected {status} {sorted(allowed)}, got {resp!r}"
    ctype = h.get("content-type", "").split(";")[0].strip().lower()
    assert ctype == "application/problem+json", f"problem Content-Type expected, got {resp!r}"
    assert isinstance(b, dict), f"problem body must be a JSON object: {resp!r}"
    for key in ("type", "title", "status", "detail", "instance"):
        assert key in b, f"problem body lacks {key!r}: {b!r}"
    assert b["type"] in allowed, f"expected type in {sorted(allowed)}, got {b['type']!r}: {b!r}"
    assert b["status"] == status and not isinstance(b["status"], bool), b
    assert isinstance(b["title"], str) and b["title"], b
    assert isinstance(b["detail"], str), b
    if instance is ANY:
        assert isinstance(b["instance"], str), b
    else:
        if instance is None:
            instance = resp.path.split("?", 1)[0]
        assert b["instance"] == instance, f"instance {b['instance']!r} != {instance!r}"
    return b


def error_fields(body):
    """The set of `field` names of a validation problem's `errors` list (checks its shape)."""
    errs = body.get("errors")
    assert isinstance(errs, list) and errs, f"validation problem needs a non-empty errors list: {body!r}"
    for e in errs:
        assert isinstance(e, dict), body
        assert isinstance(e.get("field"), str) and e["field"], body
        assert isinstance(e.get("reason"), str) and e["reason"], body
    return {e["field"] for e in errs}


def assert_validation(resp, fields, instance=None):
    """422 validation-error whose errors name exactly these fields."""
    body = assert_problem(resp, 422, "validation-error", instance)
    got = error_fields(body)
    assert got == set(fields), f"errors should name exactly {sorted(fields)}, got {sorted(got)}: {body!r}"
    return body


# --------------------------------------------------------------------------------------------
# the server process

_ALL_PROCESSES = []  # safety net: whatever the fixtures did not stop is killed at exit


@atexit.register
def _kill_leftovers():
    for proc in _ALL_PROCESSES:
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass


class TodoServer:
    """One `todo serve` process. Use start() (done by the factories), then request()/stop()."""

    def __init__(self, todo_bin, argv, env, data_dir):
        self.todo_bin = todo_bin
        self.argv = list(argv)
        self.env = env
        self.data_dir = data_dir
        self.proc = None
        self.port = None
        self.listening = None  # the parsed "listening" log line
        self.raw_lines = []  # every stderr line, decoded
        self.stdout_lines = []
        self._logs = []  # stderr lines that are JSON objects
        self._cond = threading.Condition()
        self._threads = []
        self.returncode = None
        self.killed = False

    # -- process ----------------------------------------------------------------------------

    def start(self, wait=True):
        self.proc = subprocess.Popen(
            [self.todo_bin] + self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
        )
        _ALL_PROCESSES.append(self.proc)
        for stream, is_stderr in ((self.proc.stderr, True), (self.proc.stdout, False)):
            t = threading.Thread(target=self._pump, args=(stream, is_stderr), daemon=True)
            t.start()
            self._threads.append(t)
        if wait:
            self.wait_ready()
        return self

    def _pump(self, stream, is_stderr):
        try:
            for line in iter(stream.readline, b""):
                decoded = line.decode("utf-8", "replace").rstrip("\r\n")
                with self._cond:
                    if is_stderr:
                        self.raw_lines.append(decoded)
                        try:
                            obj = json.loads(decoded)
                        except ValueError:
                            obj = None
                        if isinstance(obj, dict):
                            self._logs.append(obj)
                    else:
                        self.stdout_lines.append(decoded)
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._cond.notify_all()

    def wait_ready(self, timeout=READY_TIMEOUT):
        def found():
            for obj in self._logs:
                if obj.get("msg") == "listening":
                    return obj
            return None

        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                obj = found()
                if obj is not None or self.proc.poll() is not None:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.1))
        if obj is None:
            rc = self.proc.poll()
            self.stop(signal.SIGKILL)
            why = f"exited with code {rc}" if rc is not None else f"not listening after {timeout} s"
            pytest.fail(
                f"todo serve {why}; argv={self.argv!r}\n--- stderr ---\n" + self.stderr_text(),
                pytrace=False,
            )
        port = obj.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            self.stop(signal.SIGKILL)
            pytest.fail(f"listening log line has no valid port: {obj!r}", pytrace=False)
        self.port = port
        self.listening = obj
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send sig, wait up to timeout, then SIGKILL. Returns the exit code (negative for a
        signal, as in subprocess)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        for t in self._threads:
            t.join(5)
        return self.returncode

    def wait_exit(self, timeout):
        """Wait for the process to exit on its own; returns the code or None on timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    # -- logs -------------------------------------------------------------------------------

    @property
    def logs(self):
        with self._cond:
            return list(self._logs)

    def stderr_text(self):
        with self._cond:
            return "\n".join(self.raw_lines)

    def stdout_text(self):
        with self._cond:
            return "\n".join(self.stdout_lines)

    def wait_for_log(self, predicate, timeout=5.0):
        """First parsed log line for which predicate(obj) is true, waiting up to timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for obj in self._logs:
                    if predicate(obj):
                        return obj
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(min(remaining, 0.1))

    # -- HTTP -------------------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def connection(self, timeout=HTTP_TIMEOUT):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def socket(self, timeout=HTTP_TIMEOUT):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw_body=None, timeout=HTTP_TIMEOUT):
        """One request on a fresh connection. body is JSON-encoded (Content-Type
        application/json unless headers give one); raw_body is sent as is."""
        conn = self.connection(timeout)
        try:
            return do_request(conn, method, path, body, headers, raw_body)
        finally:
            conn.close()

    def get(self, path, token=None, headers=None):
        return self.request("GET", path, headers=auth(token, headers))

    def post(self, path, body=None, token=None, headers=None, raw_body=None):
        return self.request("POST", path, body=body, headers=auth(token, headers), raw_body=raw_body)

    def patch(self, path, body=None, token=None, headers=None, raw_body=None):
        return self.request("PATCH", path, body=body, headers=auth(token, headers), raw_body=raw_body)

    def put(self, path, body=None, token=None, headers=None, raw_body=None):
        return self.request("PUT", path, body=body, headers=auth(token, headers), raw_body=raw_body)

    def delete(self, path, token=None, headers=None):
        return self.request("DELETE", path, headers=auth(token, headers))


def auth(token, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return h


class ServerFactory:
    """Starts servers, each on --port 0 and 127.0.0.1 with its own fresh data dir, and stops
    them all in close()."""

    def __init__(self, todo_bin, tmp_path_factory):
        self.todo_bin = todo_bin
        self.tmp = tmp_path_factory
        self.servers = []

    def new_data_dir(self):
        d = self.tmp.mktemp("data")
        d.mkdir(parents=True, exist_ok=True)
        return str(d)

    def __call__(
        self,
        args=(),
        env=None,
        data_dir=None,
        secret=SECRET,
        high_limits=True,
        defaults=True,
        wait=True,
        command="serve",
    ):
        """Start `todo serve` (or another command that serves: a role, `todo api`, ...).

        args: extra flags; env: extra environment (after TODO_*/BETTER_AUTH_SECRET are scrubbed);
        data_dir: reuse a directory (default: a fresh one); secret: passed as --jwt-secret
        (None: no flag); high_limits: add high --login-limit-* and --register-limit-address
        flags unless args set them;
        defaults=False: pass only `serve` + args (configure through env yourself)."""
        args = list(args)
        if data_dir is None:
            data_dir = self.new_data_dir()
        argv = [command]
        if defaults:
            argv += ["--address", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)]
            if secret is not None:
                argv += ["--jwt-secret", secret]
            if high_limits:
                for flag in ("--login-limit-address", "--login-limit-account", "--register-limit-address"):
                    if not any(a == flag or a.startswith(flag + "=") for a in args):
                        argv += [flag, HIGH_LIMIT]
            # Unknown paths stay 404 even when the web app (./web/dist) has been built.
            if not any(a == "--web-dir" or a.startswith("--web-dir=") for a in args):
                argv += ["--web-dir", os.path.join(str(data_dir), "no-web-app")]
        argv += args
        # On PostgreSQL the data dir's database, through the environment so argv stays as a test
        # wrote it (and a test that names its own database keeps it).
        if not any(a == "--database-url" or a.startswith("--database-url=") for a in args):
            env = backend_env(data_dir, env)
        srv = TodoServer(self.todo_bin, argv, scrubbed_env(env), str(data_dir))
        self.servers.append(srv)
        return srv.start(wait=wait)

    def close(self):
        """Stop every server; returns [(server, exit code)] of those that were still running."""
        stopped = []
        for srv in self.servers:
            if srv.alive():
                stopped.append((srv, srv.stop()))
            elif srv.proc is not None:
                srv.stop()  # reap and join the pump threads
        return stopped


# --------------------------------------------------------------------------------------------
# users


class User:
    def __init__(self, email, password, body):
        self.email = email  # as returned by the server (normalized)
        self.password = password
        self.body = body
        self.user = body.get("user")
        self.id = body.get("user_id") or (self.user or {}).get("id")
        self.access_token = body.get("access_token")
        self.refresh_token = body.get("refresh_token")

    def __repr__(self):
        return f"<User {self.email} {self.id}>"


def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex}@example.com"


def unique_password():
    return f"Sys-{uuid.uuid4().hex[:20]}-pw"


def register(server, email=None, password=None, **extra):
    """Register a fresh user (201 asserted) and return a User with its tokens."""
    email = email or unique_email()
    password = password or unique_password()
    body = {"email": email, "password": password}
    body.update(extra)
    resp = server.post("/api/auth/register", body)
    assert resp.status == 201, f"register failed: {resp!r}"
    assert isinstance(resp.body, dict), resp
    return User(resp.body.get("email", email), password, resp.body)


def login(server, email, password):
    return server.post("/api/auth/login", {"email": email, "password": password})


# --------------------------------------------------------------------------------------------
# JWT


def b64url(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    s = s.encode("ascii") if isinstance(s, str) else s
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def json_segment(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def hs_sign(signing_input, secret, digest=hashlib.sha256):
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return b64url(hmac.new(key, signing_input.encode("ascii"), digest).digest())


def forge(payload, secret=SECRET, header=None, digest=hashlib.sha256):
    """A signed JWT. payload/header may be dicts (JSON-encoded) or raw bytes (used as is)."""
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    h = b64url(header) if isinstance(header, (bytes, str)) else json_segment(header)
    p = b64url(payload) if isinstance(payload, (bytes, str)) else json_segment(payload)
    signing_input = f"{h}.{p}"
    return f"{signing_input}.{hs_sign(signing_input, secret, digest)}"


def claims(user_id, email, now=None, **overrides):
    """Valid access-token claims for a user; overrides with value None remove the claim."""
    now = int(time.time()) if now is None else now
    c = {
        "sub": user_id,
        "email": email,
        "role": "user",
        "iat": now,
        "exp": now + 900,
        "iss": "todo",
        "aud": "todo-api",
        "jti": str(uuid.uuid4()),
    }
    for k, v in overrides.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def decode_jwt(token):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


# --------------------------------------------------------------------------------------------
# raw sockets


def send_interleaved(sock, head, body, chunk=65536, timeout=HTTP_TIMEOUT):
    """Send head then body without ever blocking, stopping as soon as the server has sent
    something back (e.g. an early 413) or refuses more data. Returns bytes of body sent."""
    sock.setblocking(False)
    data = head + body
    sent = 0
    deadline = time.monotonic() + timeout
    try:
        while sent < len(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, writable, _ = select.select([sock], [sock], [], min(remaining, 1.0))
            if readable:
                break
            if writable:
                try:
                    sent += sock.send(data[sent : sent + chunk])
                except (BlockingIOError, InterruptedError):
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
    finally:
        sock.setblocking(True)
    return max(0, sent - len(head))


def _proc_net_tcp_entries():
    entries = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 5:
                continue
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            rem_port = int(parts[2].rsplit(":", 1)[1], 16)
            tx, rx = (int(x, 16) for x in parts[4].split(":"))
            entries.append((local_port, rem_port, tx, rx))
    return entries


def wait_request_consumed(server_port, client_port, timeout=5.0):
    """Linux: wait until the bytes the client sent on the connection client_port<->server_port
    have been acknowledged and read by the server process (client send queue and server
    receive queue both empty). Returns True when that was observed, False when /proc/net/tcp
    is unavailable. Fails on timeout."""
    if not os.path.exists("/proc/net/tcp"):
        return False
    deadline = time.monotonic() + timeout
    while True:
        entries = _proc_net_tcp_entries()
        client = [e for e in entries if e[0] == client_port and e[1] == server_port]
        srv = [e for e in entries if e[0] == server_port and e[1] == client_port]
        if client and srv and client[0][2] == 0 and srv[0][3] == 0:
            return True
        if time.monotonic() > deadline:
            pytest.fail(f"server did not read the request within {timeout} s: {client} {srv}")
        time.sleep(0.005)


# --------------------------------------------------------------------------------------------
# Prometheus text format


_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse_metrics(textual):
    """[(name, {label: value}, float value)] of every sample line."""
    samples = []
    for line in textual.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            continue
        name, labels_text, value = m.groups()
        labels = {}
        if labels_text:
            for lm in _LABEL_RE.finditer(labels_text):
                labels[lm.group(1)] = lm.group(2).replace('\\"', '"').replace("\\\\", "\\")
        try:
            v = float(value)
        except ValueError:
            continue
        samples.append((name, labels, v))
    return samples

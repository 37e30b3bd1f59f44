"""The PostgreSQL server of a system-test run on the postgres backend (TODO_TEST_BACKEND=postgres).

One cluster per pytest session: initdb and postgres from Debian's postgresql-15 into a temporary
directory, listening on a Unix socket in that directory only (no TCP port to race for). As root it
runs as the system user `todo-test-pg` (initdb refuses root; the same user the C++ store tests
use). The postmaster gets PR_SET_PDEATHSIG, so a killed pytest takes it along; stop() removes the
directory. Each `todo` data dir the tests use gets a database of its own, copied from a template
that `todo migrate` prepared once (CREATE DATABASE ... TEMPLATE is a file copy, far cheaper than
running every migration again per server).
"""

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import psycopg2
import psycopg2.extensions

BIN = "/usr/lib/postgresql/15/bin"
SERVER_USER = "todo-test-pg"  # the cluster's owner when the tests run as root
SUPERUSER = "postgres"
TEMPLATE = "todo_template"
PORT = 5432  # only names the socket file (.s.PGSQL.5432); there is no TCP listener

_PR_SET_PDEATHSIG = 1


def _server_user():
    """(uid, gid) to run the server as: ourselves, or todo-test-pg when we are root."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    deadline = time.monotonic() + 60
    while True:
        try:
            pw = pwd.getpwnam(SERVER_USER)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
        # Another process (the C++ store tests) may be adding it at this moment: look again.
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if time.monotonic() > deadline:
            raise RuntimeError(f"cannot create the user {SERVER_USER}")
        time.sleep(0.1)


def _demote(uid, gid, die_with_parent):
    libc = ctypes.CDLL(None, use_errno=True)

    def run():
        if os.geteuid() != uid:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        if die_with_parent:  # after setuid, which clears the parent-death signal
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)

    return run


def _remove_abandoned():
    """Directories of earlier runs that were killed (their postmaster died with them, through the
    parent-death signal, but nobody removed the directory): those whose owner.pid is gone."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        if not name.startswith("todo-syspg-"):
            continue
        path = os.path.join(root, name)
        try:
            with open(os.path.join(path, "owner.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue  # being made right now, or not ours
        try:
            os.kill(pid, 0)
            continue  # its pytest still runs
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


class Cluster:
    def __init__(self, base=None):
        self.uid, self.gid = _server_user()
        _remove_abandoned()
        self.base = base or tempfile.mkdtemp(prefix="todo-syspg-")
        with open(os.path.join(self.base, "owner.pid"), "w") as f:
            f.write(f"{os.getpid()}\n")
        os.chown(self.base, self.uid, self.gid)
        self.data = os.path.join(self.base, "data")
        self.log = os.path.join(self.base, "postgres.log")
        self.proc = None
        self._lock = threading.Lock()
        self._databases = {}  # key (a data dir) -> database name
        self._counter = 0

    # -- the server process --------------------------------------------------------------

    def _run_as_server(self, argv, log_path):
        with open(log_path, "ab") as log:
            os.chown(log_path, self.uid, self.gid)
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               preexec_fn=_demote(self.uid, self.gid, False), cwd=self.base)
        if r.returncode != 0:
            with open(log_path, errors="replace") as f:
                raise RuntimeError(f"{argv[0]} failed ({r.returncode}):\n{f.read()}")

    def init(self):
        self._run_as_server([f"{BIN}/initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                             "--locale=C", "--no-sync", "--no-instructions"],
                            os.path.join(self.base, "initdb.log"))
        return self

    def start(self, timeout=60.0, durable=False):
        """Start the postmaster (from the calling thread, whose death the child watches) and wait
        until it accepts connections. Tests run without fsync; `durable` (the benchmarks) keeps
        PostgreSQL's defaults: fsync, full-page writes and synchronous_commit on."""
        log = open(self.log, "ab")
        os.chown(self.log, self.uid, self.gid)
        safety = [] if durable else ["-c", "fsync=off", "-c", "full_page_writes=off"]
        self.proc = subprocess.Popen(
            [f"{BIN}/postgres", "-D", self.data, "-k", self.base, "-c", "listen_addresses=", "-p", str(PORT),
             *safety, "-c", "synchronous_commit=on", "-c", "max_connections=500",
             "-c", "shared_buffers=128MB", "-c", "log_min_messages=warning"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_demote(self.uid, self.gid, True), cwd=self.base)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                self.connect("postgres").close()
                return self
            except psycopg2.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not answer within {timeout} s:\n{self.log_text()}")
            time.sleep(0.02)

    def stop(self, mode="immediate", timeout=30.0):
        """Stop the postmaster: 'fast' (SIGINT: clients are disconnected, a clean shutdown) or
        'immediate' (SIGQUIT)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- databases -------------------------------------------------------------------------

    def url(self, database):
        return f"postgresql://{SUPERUSER}@/{database}?host={self.base}&port={PORT}"

    def connect(self, database, autocommit=False):
        conn = psycopg2.connect(host=self.base, port=PORT, user=SUPERUSER, dbname=database, connect_timeout=5)
        conn.autocommit = autocommit
        return conn

    def query(self, database, query, params=()):
        """Runs one statement (sqlite3-style ? placeholders) in its own transaction; its rows."""
        conn = Connection(self.connect(database))
        try:
            rows = conn.execute(query, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def admin(self, statement):
        conn = self.connect("postgres", autocommit=True)
        try:
            conn.cursor().execute(statement)
        finally:
            conn.close()

    def prepare_template(self, todo_bin, env):
        """The template every test database is copied from: migrated by `todo migrate` itself."""
        self.admin(f"CREATE DATABASE {TEMPLATE}")
        r = subprocess.run([todo_bin, "migrate", "--database-url", self.url(TEMPLATE)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"todo migrate of the template failed ({r.returncode}): {r.stderr!r}")
        self.admin(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true")

    def new_database(self, migrated=True):
        """A fresh database: migrated (a copy of the template) or empty."""
        with self._lock:
            self._counter += 1
            name = f"t{self._counter}_{os.getpid()}"
        template = TEMPLATE if migrated else "template0"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY file_copy")
        return name

    def database_for(self, key, migrated=True):
        """The database of one key (a data dir), made on first use (migrated, or empty for a test
        of `todo migrate` itself): a server restarted on the same data dir finds its data again."""
        with self._lock:
            name = self._databases.get(key)
        if name is None:
            name = self.new_database(migrated)
            with self._lock:
                name = self._databases.setdefault(key, name)
        return name


# --------------------------------------------------------------------------------------------
# a sqlite3-like connection, so tests read and write the server's tables on either backend


class Row(tuple):
    """A row that is a tuple and can also be read by column name (like sqlite3.Row)."""

    def __new__(cls, values, names):
        row = super().__new__(cls, values)
        row._names = names
        return row

    def keys(self):
        return list(self._names)

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)


def _value(v):
    return bytes(v) if isinstance(v, memoryview) else v


def translate(query):
    """sqlite3's ? placeholders as psycopg2's %s (a literal % doubled)."""
    return query.replace("%", "%%").replace("?", "%s")


class Cursor:
    def __init__(self, cur, named):
        self._cur = cur
        self._named = named

    def _row(self, r):
        values = tuple(_value(v) for v in r)
        if self._named:
            return Row(values, [d[0] for d in self._cur.description])
        return values

    def fetchone(self):
        if self._cur.description is None:
            return None
        r = self._cur.fetchone()
        return None if r is None else self._row(r)

    def fetchall(self):
        if self._cur.description is None:  # a statement without rows (sqlite3 returns [])
            return []
        return [self._row(r) for r in self._cur.fetchall()]

    def __iter__(self):
        return iter(self.fetchall())


class Connection:
    """The part of sqlite3.Connection the tests use: execute (with ? placeholders), commit,
    close, `with conn:`, row_factory = sqlite3.Row, and isolation_level = None with an explicit
    BEGIN IMMEDIATE (here a SERIALIZABLE transaction, as the server's own writes)."""

    def __init__(self, conn):
        self._conn = conn
        self.row_factory = None

    @property
    def isolation_level(self):
        return None if self._conn.autocommit else ""

    @isolation_level.setter
    def isolation_level(self, value):
        self._conn.autocommit = value is None

    def execute(self, query, params=()):
        q = query.strip()
        if q.upper().startswith("BEGIN"):
            q = "BEGIN ISOLATION LEVEL SERIALIZABLE"
        cur = self._conn.cursor()
        cur.execute(translate(q), tuple(params) or None)
        return Cursor(cur, self.row_factory is not None)

    def commit(self):
        self._conn.commit()

    def rollback(self):
        self._conn.rollback()

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self._conn.commit()
        else:
            self._conn.rollback()
        return False

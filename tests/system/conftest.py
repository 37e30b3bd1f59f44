"""Fixtures of the black-box system tests of `todo`.

Run: TODO_BIN=/path/to/todo /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/system
On PostgreSQL: the same with TODO_TEST_BACKEND=postgres (a cluster of its own for the session,
a database per data dir; see pg_cluster.py and docs/adr/0019-postgresql-backend.md).
"""

import os

import pytest

from task_harness import new_api
import todo_harness
from todo_harness import POSTGRES, ServerFactory, register, scrubbed_env


@pytest.fixture(scope="session")
def todo_bin():
    path = os.environ.get("TODO_BIN")
    if not path:
        pytest.fail(
            "TODO_BIN is not set: run the system tests as "
            "`TODO_BIN=/path/to/todo /usr/bin/python3 -m pytest tests/system` (or `make system-test`)",
            pytrace=False,
        )
    path = os.path.abspath(path)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        pytest.fail(f"TODO_BIN={path!r} is not an executable file", pytrace=False)
    return path


@pytest.fixture(scope="session", autouse=True)
def backend(todo_bin):
    """The backend of this run: on PostgreSQL, a cluster for the whole session (started here,
    destroyed at the end) with the migrated template every test database is copied from."""
    if not POSTGRES:
        yield "sqlite"
        return
    import pg_cluster

    cluster = pg_cluster.Cluster()
    try:
        cluster.init().start()
        cluster.prepare_template(todo_bin, scrubbed_env())
    except Exception:
        cluster.destroy()
        raise
    todo_harness.set_cluster(cluster)
    try:
        yield "postgres"
    finally:
        todo_harness.set_cluster(None)
        cluster.destroy()


def _tail(srv, n=60):
    lines = srv.stderr_text().splitlines()[-n:]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def module_servers(todo_bin, tmp_path_factory):
    """A server factory whose servers live for the whole test module."""
    factory = ServerFactory(todo_bin, tmp_path_factory)
    yield factory
    stopped = factory.close()
    bad = [(srv, rc) for srv, rc in stopped if rc != 0]
    if bad:
        msg = "\n".join(
            f"server {srv.argv!r} exited {rc} on SIGTERM (killed={srv.killed}); stderr tail:\n{_tail(srv)}"
            for srv, rc in bad
        )
        pytest.fail(msg, pytrace=False)


@pytest.fixture(scope="module")
def server(module_servers):
    """The default server of a module: known --jwt-secret (SECRET), high login rate limits,
    127.0.0.1, --port 0, fresh data dir."""
    return module_servers()


@pytest.fixture
def make_server(todo_bin, tmp_path_factory, request):
    """Factory for per-test servers: make_server(args=[...], env={...}, data_dir=..., secret=...).
    Every server it started is stopped at teardown (SIGTERM, SIGKILL after a deadline)."""
    factory = ServerFactory(todo_bin, tmp_path_factory)
    yield factory
    factory.close()
    # Printed output is shown by pytest only when the test failed.
    for srv in factory.servers:
        print(f"--- server {srv.argv!r} exit={srv.returncode} killed={srv.killed}; stderr tail ---")
        print(_tail(srv))


@pytest.fixture
def register_user(server):
    """register_user(**fields) -> User registered on the module's default server."""

    def _register(**kwargs):
        return register(server, **kwargs)

    return _register


@pytest.fixture
def api(server):
    """The tasks API (task_harness.TaskApi) of a user registered for this test on the module's
    default server: time zone UTC, no default reminders."""
    return new_api(server)


@pytest.fixture
def other_api(server):
    """A second, unrelated user of the module's default server (for isolation tests)."""
    return new_api(server)

"""Process lifecycle: restart with a generated secret, secrets from the environment, graceful
shutdown, migrate, and what never reaches the logs."""

import hashlib
import hmac
import json
import os
import signal
import uuid

import pytest

from todo_harness import (
    assert_database_made,
    SECRET,
    assert_problem,
    b64url,
    claims,
    forge,
    login,
    register,
    run_cli,
    text,
    unique_email,
    unique_password,
    wait_request_consumed,
)


def _stop_cleanly(srv, sig=signal.SIGTERM):
    rc = srv.stop(sig)
    assert not srv.killed, f"server did not exit within the deadline after {sig!r}; stderr:\n{srv.stderr_text()}"
    assert rc == 0, f"exit code {rc} after {sig!r}; stderr:\n{srv.stderr_text()}"


def _signed_with(token, secret):
    h, p, s = token.split(".")
    return s == b64url(hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())


# --------------------------------------------------------------------------------------------
# secrets


def test_generated_secret_survives_restart(make_server):
    data_dir = make_server.new_data_dir()
    first = make_server(secret=None, data_dir=data_dir)
    user = register(first)
    _stop_cleanly(first)

    second = make_server(secret=None, data_dir=data_dir)
    status, _, me = second.get("/api/me", token=user.access_token)
    assert status == 200, me
    assert me["id"] == user.id
    r = login(second, user.email, user.password)
    assert r.status == 200, r
    refreshed = second.post("/api/auth/refresh", {"refresh_token": user.refresh_token})
    assert refreshed.status == 200, refreshed
    status, _, _ = second.get("/api/me", token=refreshed.body["access_token"])
    assert status == 200

    # whatever file holds the generated secret, its content is not logged
    logs = first.stderr_text() + first.stdout_text() + second.stderr_text() + second.stdout_text()
    for name in os.listdir(data_dir):
        path = os.path.join(data_dir, name)
        if name.startswith("todo.db") or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            content = f.read().decode("utf-8", "replace").strip()
        if len(content) >= 32:
            assert content not in logs, f"content of {name} (the generated secret?) appears in logs"


def test_generated_secrets_differ_between_data_dirs(make_server):
    a = make_server(secret=None)
    b = make_server(secret=None)
    user = register(a)
    assert_problem(b.get("/api/me", token=user.access_token), 401, "token-signature-invalid")


@pytest.mark.parametrize("variable", ["TODO_JWT_SECRET", "BETTER_AUTH_SECRET"])
def test_secret_from_environment(make_server, variable):
    secret = f"{variable.lower()}-{uuid.uuid4().hex}"
    srv = make_server(secret=None, env={variable: secret})
    user = register(srv)
    assert _signed_with(user.access_token, secret), "issued token is not signed with the env secret"
    status, _, body = srv.get("/api/me", token=forge(claims(user.id, user.email), secret))
    assert status == 200, body
    assert_problem(
        srv.get("/api/me", token=forge(claims(user.id, user.email), SECRET)), 401, "token-signature-invalid"
    )


# --------------------------------------------------------------------------------------------
# signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_server_exits_0_on_signal(make_server, sig):
    srv = make_server()
    assert srv.get("/health").status == 200
    _stop_cleanly(srv, sig)


def test_open_idle_keep_alive_connection_does_not_delay_shutdown(make_server):
    srv = make_server()  # default --idle-timeout 60
    conn = srv.connection()
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.wait_exit(5.0)
        assert rc == 0, f"exit code {rc} (None: still running 5 s after SIGTERM); stderr:\n{srv.stderr_text()}"
    finally:
        conn.close()


def test_in_flight_request_completes_on_sigterm(make_server):
    data_dir = make_server.new_data_dir()
    srv = make_server(data_dir=data_dir)
    email, password = unique_email("inflight"), unique_password()
    conn = srv.connection()
    try:
        conn.request("GET", "/health")  # the connection is accepted and served
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        body = json.dumps({"email": email, "password": password})
        conn.request("POST", "/api/auth/register", body=body, headers={"Content-Type": "application/json"})
        # wait until the server process has read the request (argon2id then takes ~50-100 ms)
        wait_request_consumed(srv.port, conn.sock.getsockname()[1])
        srv.proc.send_signal(signal.SIGTERM)
        resp = conn.getresponse()
        raw = resp.read()
        assert resp.status == 201, (resp.status, raw)
        assert json.loads(raw)["email"] == email
    finally:
        conn.close()
    rc = srv.wait_exit(10.0)
    assert rc == 0, f"exit code {rc} after SIGTERM; stderr:\n{srv.stderr_text()}"

    # the registration was committed
    again = make_server(data_dir=data_dir)
    r = login(again, email, password)
    assert r.status == 200, r


# --------------------------------------------------------------------------------------------
# migrate


def test_migrate_creates_the_database_and_is_idempotent(todo_bin, make_server):
    data_dir = make_server.new_data_dir()
    for _ in range(2):
        r = run_cli(todo_bin, ["migrate", "--data-dir", data_dir])
        assert r.returncode == 0, (r.returncode, text(r.stdout), text(r.stderr))
        assert_database_made(data_dir)

    srv = make_server(data_dir=data_dir)
    user = register(srv)
    _stop_cleanly(srv)

    r = run_cli(todo_bin, ["migrate", "--data-dir", data_dir])
    assert r.returncode == 0, (r.returncode, text(r.stdout), text(r.stderr))

    srv = make_server(data_dir=data_dir)
    assert login(srv, user.email, user.password).status == 200


def test_migrate_through_environment(todo_bin, make_server):
    data_dir = make_server.new_data_dir()
    r = run_cli(todo_bin, ["migrate"], env={"TODO_DATA_DIR": data_dir})
    assert r.returncode == 0, (r.returncode, text(r.stdout), text(r.stderr))
    assert_database_made(data_dir)


# --------------------------------------------------------------------------------------------
# what never reaches the logs


@pytest.mark.parametrize("how", ["flag", "env"])
def test_secrets_passwords_and_tokens_never_logged(make_server, how):
    if how == "flag":
        srv = make_server(args=["--log-level", "trace"])
    else:
        srv = make_server(secret=None, args=["--log-level", "trace"], env={"TODO_JWT_SECRET": SECRET})
    password = unique_password()
    user = register(srv, password=password, display_name="Logged Person")
    wrong = password + "-wrong"
    assert login(srv, user.email, wrong).status == 401
    ok = login(srv, user.email, password)
    assert ok.status == 200
    refreshed = srv.post("/api/auth/refresh", {"refresh_token": ok.body["refresh_token"]})
    assert refreshed.status == 200
    assert srv.get("/api/me", token=refreshed.body["access_token"]).status == 200
    assert srv.patch("/api/me", {"display_name": "Renamed"}, token=user.access_token).status == 200
    assert srv.post(
        "/api/auth/logout", {"refresh_token": refreshed.body["refresh_token"]}, token=user.access_token
    ).status == 204
    _stop_cleanly(srv)
    logs = srv.stderr_text() + "\n" + srv.stdout_text()
    assert srv.logs, "no logs at all"
    forbidden = {
        "the JWT secret": SECRET,
        "the password": password,
        "the wrong password": wrong,
        "the access token": user.access_token,
        "a refresh token": user.refresh_token,
        "a rotated refresh token": refreshed.body["refresh_token"],
        "a refreshed access token": refreshed.body["access_token"],
    }
    for what, value in forbidden.items():
        assert value not in logs, f"{what} appears in the logs"

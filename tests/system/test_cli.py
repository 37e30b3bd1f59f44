"""Command line: version, help, flag and environment validation, flag syntax."""

import os
import re
import uuid

import pytest

from todo_harness import (
    assert_database_made,
    RFC3339_UTC_RE,
    SECRET,
    claims,
    forge,
    register,
    run_cli,
    text,
)

SERVE_FLAGS = [
    ("--port", "TODO_PORT"),
    ("--address", "TODO_ADDRESS"),
    ("--data-dir", "TODO_DATA_DIR"),
    ("--jwt-secret", "TODO_JWT_SECRET"),
    ("--log-level", "TODO_LOG_LEVEL"),
    ("--cors-origins", "TODO_CORS_ORIGINS"),
    ("--durability", "TODO_DURABILITY"),
    ("--read-timeout", "TODO_READ_TIMEOUT"),
    ("--idle-timeout", "TODO_IDLE_TIMEOUT"),
    ("--login-limit-address", "TODO_LOGIN_LIMIT_ADDRESS"),
    ("--login-limit-account", "TODO_LOGIN_LIMIT_ACCOUNT"),
    ("--access-token-ttl", "TODO_ACCESS_TOKEN_TTL"),
]


def test_version_prints_name_and_semver(todo_bin):
    r = run_cli(todo_bin, ["version"])
    out = text(r.stdout)
    assert r.returncode == 0, (r.returncode, out, text(r.stderr))
    assert "todo" in out.lower(), out
    assert re.search(r"\b\d+\.\d+\.\d+\b", out), out


def test_help_lists_commands_and_flags_with_env_names(todo_bin):
    r = run_cli(todo_bin, ["--help"])
    out = text(r.stdout)
    assert r.returncode == 0, (r.returncode, out, text(r.stderr))
    for command in ("serve", "migrate", "version"):
        assert re.search(rf"\b{command}\b", out), f"--help does not list {command!r}:\n{out}"
    for flag, env in SERVE_FLAGS:
        assert flag in out, f"--help does not list {flag}:\n{out}"
        assert env in out, f"--help does not list {env}:\n{out}"


def test_serve_help_lists_serve_flags(todo_bin):
    r = run_cli(todo_bin, ["serve", "--help"])
    out = text(r.stdout)
    assert r.returncode == 0, (r.returncode, out, text(r.stderr))
    for flag, env in SERVE_FLAGS:
        assert flag in out, f"serve --help does not list {flag}:\n{out}"
        assert env in out, f"serve --help does not list {env}:\n{out}"


def test_unknown_command_exits_2(todo_bin):
    r = run_cli(todo_bin, ["frobnicate"])
    assert r.returncode == 2, (r.returncode, text(r.stdout), text(r.stderr))
    assert text(r.stderr).strip(), "an unknown command should be explained on stderr"


# (id, bad args, extra env, flag whose valid default is left out, acceptable names in the message)
BAD_CONFIG = [
    ("port-abc", ["--port", "abc"], None, "--port", ["--port"]),
    ("port-equals-abc", ["--port=abc"], None, "--port", ["--port"]),
    ("port-out-of-range", ["--port", "70000"], None, "--port", ["--port"]),
    ("port-missing-value", ["--port"], None, "--port", ["--port"]),
    ("unknown-flag", ["--bogus"], None, None, ["--bogus"]),
    ("unknown-flag-with-value", ["--bogus=1"], None, None, ["--bogus"]),
    ("short-secret", ["--jwt-secret", "too-short-secret"], None, "--jwt-secret", ["--jwt-secret"]),
    ("secret-31-bytes", ["--jwt-secret", "x" * 31], None, "--jwt-secret", ["--jwt-secret"]),
    (
        "short-secret-env",
        [],
        {"TODO_JWT_SECRET": "too-short-secret"},
        "--jwt-secret",
        ["TODO_JWT_SECRET", "--jwt-secret"],
    ),
    (
        "short-better-auth-secret-env",
        [],
        {"BETTER_AUTH_SECRET": "too-short-secret"},
        "--jwt-secret",
        ["BETTER_AUTH_SECRET", "TODO_JWT_SECRET", "--jwt-secret"],
    ),
    ("durability", ["--durability", "sometimes"], None, None, ["--durability"]),
    ("log-level", ["--log-level", "verbose"], None, None, ["--log-level"]),
    ("read-timeout", ["--read-timeout", "abc"], None, None, ["--read-timeout"]),
    ("idle-timeout", ["--idle-timeout", "abc"], None, None, ["--idle-timeout"]),
    ("login-limit-address", ["--login-limit-address", "abc"], None, None, ["--login-limit-address"]),
    ("login-limit-account", ["--login-limit-account", "abc"], None, None, ["--login-limit-account"]),
    ("port-env", [], {"TODO_PORT": "abc"}, "--port", ["TODO_PORT", "--port"]),
    ("log-level-env", [], {"TODO_LOG_LEVEL": "verbose"}, None, ["TODO_LOG_LEVEL", "--log-level"]),
    ("durability-env", [], {"TODO_DURABILITY": "sometimes"}, None, ["TODO_DURABILITY", "--durability"]),
    ("access-token-ttl-abc", ["--access-token-ttl", "abc"], None, None, ["--access-token-ttl"]),
    ("access-token-ttl-zero", ["--access-token-ttl", "0"], None, None, ["--access-token-ttl"]),
    ("access-token-ttl-negative", ["--access-token-ttl", "-5"], None, None, ["--access-token-ttl"]),
    ("access-token-ttl-over-7-days", ["--access-token-ttl", "604801"], None, None, ["--access-token-ttl"]),
    ("access-token-ttl-minutes", ["--access-token-ttl", "15m"], None, None, ["--access-token-ttl"]),
    (
        "access-token-ttl-env",
        [],
        {"TODO_ACCESS_TOKEN_TTL": "forever"},
        None,
        ["TODO_ACCESS_TOKEN_TTL", "--access-token-ttl"],
    ),
]


@pytest.mark.parametrize(
    "bad_args,env,omit,names", [c[1:] for c in BAD_CONFIG], ids=[c[0] for c in BAD_CONFIG]
)
def test_bad_configuration_exits_2_with_one_line_naming_the_flag(
    todo_bin, tmp_path, bad_args, env, omit, names
):
    valid = {
        "--address": "127.0.0.1",
        "--port": "0",
        "--data-dir": str(tmp_path),
        "--jwt-secret": SECRET,
    }
    args = ["serve"]
    for flag, value in valid.items():
        if flag != omit:
            args += [flag, value]
    args += bad_args  # last, so that a flag missing its value really is missing it
    r = run_cli(todo_bin, args, env=env)
    err = text(r.stderr)
    assert r.returncode == 2, f"exit {r.returncode} for {bad_args} env={env}; stderr:\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr, got:\n{err}"
    assert any(n in lines[0] for n in names), f"message should name one of {names}: {lines[0]!r}"


def test_migrate_with_unknown_flag_exits_2(todo_bin, tmp_path):
    r = run_cli(todo_bin, ["migrate", "--data-dir", str(tmp_path), "--bogus"])
    err = text(r.stderr)
    assert r.returncode == 2, (r.returncode, err)
    assert "--bogus" in err, err


def test_secret_of_exactly_32_bytes_is_accepted(make_server):
    secret = uuid.uuid4().hex  # 32 ASCII characters
    assert len(secret.encode()) == 32
    srv = make_server(secret=secret)
    user = register(srv)
    status, _, body = srv.get("/api/me", token=forge(claims(user.id, user.email), secret))
    assert status == 200, body


@pytest.fixture
def equals_server(make_server):
    data_dir = make_server.new_data_dir()
    return make_server(
        defaults=False,
        args=[
            "--address=127.0.0.1",
            "--port=0",
            f"--data-dir={data_dir}",
            f"--jwt-secret={SECRET}",
            "--login-limit-address=1000",
            "--log-level=info",
        ],
        data_dir=data_dir,
    )


def test_serve_with_equals_flag_syntax(equals_server):
    status, _, body = equals_server.get("/health")
    assert status == 200, body
    assert equals_server.listening.get("address") == "127.0.0.1", equals_server.listening
    assert_database_made(equals_server.data_dir)


def test_serve_configured_only_through_environment(make_server):
    data_dir = make_server.new_data_dir()
    srv = make_server(
        defaults=False,
        data_dir=data_dir,
        env={
            "TODO_ADDRESS": "127.0.0.1",
            "TODO_PORT": "0",
            "TODO_DATA_DIR": data_dir,
            "TODO_JWT_SECRET": SECRET,
            "TODO_LOG_LEVEL": "info",
            "TODO_LOGIN_LIMIT_ADDRESS": "1000",
        },
    )
    assert srv.listening.get("address") == "127.0.0.1", srv.listening
    assert_database_made(data_dir)
    user = register(srv)
    # the secret really came from TODO_JWT_SECRET: a token forged with it is accepted
    status, _, body = srv.get("/api/me", token=forge(claims(user.id, user.email), SECRET))
    assert status == 200, body
    assert body["id"] == user.id


def test_listening_line_shape(server):
    line = server.listening
    assert line["msg"] == "listening"
    assert line.get("level") == "info", line
    assert RFC3339_UTC_RE.match(str(line.get("ts", ""))), line
    assert line.get("address") == "127.0.0.1", line
    assert line["port"] == server.port


@pytest.mark.parametrize("durability", ["full", "normal"])
def test_durability_modes_start(make_server, durability):
    srv = make_server(args=["--durability", durability])
    status, _, body = srv.get("/ready")
    assert status == 200, body


@pytest.mark.parametrize("level", ["trace", "debug", "info"])
def test_verbose_log_levels_start(make_server, level):
    srv = make_server(args=["--log-level", level])
    status, _, body = srv.get("/health")
    assert status == 200, body

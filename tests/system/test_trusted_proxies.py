"""--trusted-proxies: behind an ingress the client address (login rate limits, access logs) comes
from X-Forwarded-For, but only when the TCP peer is a configured trusted proxy (ADR 0022)."""

from todo_harness import assert_problem, login, register

CLIENT_A = "203.0.113.10"
CLIENT_B = "203.0.113.20"


def failed_login(server, user, forwarded_for):
    return server.post("/api/auth/login", {"email": user.email, "password": "not-the-password-1"},
                       headers={"X-Forwarded-For": forwarded_for})


def request_log(server, path_suffix, forwarded_for):
    """The access-log line of the request sent with this X-Forwarded-For value."""
    resp = server.get(f"/health?probe={path_suffix}", headers={"X-Forwarded-For": forwarded_for})
    rid = resp.headers["x-request-id"]
    line = server.wait_for_log(lambda o: o.get("msg") == "request" and o.get("request_id") == rid)
    assert line is not None, f"no access-log line for {rid}"
    return line


def test_behind_a_trusted_proxy_the_forwarded_client_is_rate_limited(make_server):
    server = make_server(args=["--trusted-proxies", "127.0.0.1, ::1", "--login-limit-address", "2"])
    user = register(server)
    for _ in range(2):
        assert_problem(failed_login(server, user, CLIENT_A), 401, "invalid-credentials")
    resp = failed_login(server, user, CLIENT_A)
    assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["retry-after"]) > 0
    # Another client behind the same proxy is not held back by the first one's attempts, nor is a
    # client that claims CLIENT_A itself before the address our proxy appended.
    assert_problem(failed_login(server, user, CLIENT_B), 401, "invalid-credentials")
    assert_problem(failed_login(server, user, f"{CLIENT_A}, {CLIENT_B}"), 401, "invalid-credentials")
    # The right password still gets in from an address that is not limited.
    ok = server.post("/api/auth/login", {"email": user.email, "password": user.password},
                     headers={"X-Forwarded-For": "198.51.100.7"})
    assert ok.status == 200, ok


def test_the_access_log_names_the_forwarded_client_and_the_peer(make_server):
    server = make_server(args=["--trusted-proxies", "127.0.0.0/8"])
    line = request_log(server, "a", f"198.51.100.1, {CLIENT_A}")
    assert line["client"] == CLIENT_A and line["peer"] == "127.0.0.1", line
    # Garbage is ignored, never a crash: the peer is the client.
    for bad in ("unknown", "999.1.1.1", "[::1", "1.2.3.4 junk", ""):
        line = request_log(server, "b", bad)
        assert line["client"] == "127.0.0.1", (bad, line)
    assert server.get("/health").status == 200


def test_without_trusted_proxies_the_header_is_ignored(make_server):
    server = make_server(args=["--login-limit-address", "2"])
    user = register(server)
    assert_problem(failed_login(server, user, CLIENT_A), 401, "invalid-credentials")
    assert_problem(failed_login(server, user, CLIENT_B), 401, "invalid-credentials")
    # Both came from 127.0.0.1, whatever they claimed.
    assert_problem(failed_login(server, user, "198.51.100.9"), 429, "rate-limited")
    line = request_log(server, "c", CLIENT_A)
    assert line["client"] == "127.0.0.1", line


def test_a_bad_trusted_proxies_value_is_refused_naming_the_flag(make_server):
    from todo_harness import run_cli

    r = run_cli(make_server.todo_bin, ["serve", "--trusted-proxies", "10.0.0.0/8,ingress.local"])
    assert r.returncode == 2, r
    assert b"--trusted-proxies" in r.stderr and b"ingress.local" in r.stderr, r

"""HTTP protocol behaviour: problem+json errors, limits, keep-alive, timeouts, CORS, request ids,
operational routes and metrics."""

import json
import time

import pytest

from todo_harness import (
    ANY,
    RFC3339_UTC_RE,
    assert_problem,
    assert_validation,
    parse_metrics,
    read_response,
    register,
    send_interleaved,
    wait_closed,
)

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def user(server):
    return register(server)


# --------------------------------------------------------------------------------------------
# routing errors


def test_unknown_route_is_problem_404(server):
    resp = server.get("/does-not-exist")
    assert_problem(resp, 404, "not-found")


def test_unknown_api_route_is_problem_404(server, user):
    resp = server.get("/api/does-not-exist", token=user.access_token)
    assert_problem(resp, 404, "not-found")


@pytest.mark.parametrize(
    "method,path,allowed",
    [
        ("DELETE", "/health", {"GET"}),
        ("POST", "/metrics", {"GET"}),
        ("GET", "/api/auth/login", {"POST"}),
        ("GET", "/api/auth/register", {"POST"}),
        ("DELETE", "/api/auth/refresh", {"POST"}),
        ("PUT", "/api/me", {"GET", "PATCH"}),
    ],
)
def test_wrong_method_is_405_with_allow(server, user, method, path, allowed):
    headers = {"Authorization": f"Bearer {user.access_token}"}
    resp = server.request(method, path, headers=headers)
    assert_problem(resp, 405, "method-not-allowed")
    allow = {m.upper() for m in resp.header_tokens("allow")}
    assert allowed <= allow, f"Allow {resp.headers.get('allow')!r} should contain {allowed}"
    assert method not in allow


# --------------------------------------------------------------------------------------------
# request bodies


def test_malformed_json_is_400(server):
    resp = server.post(
        "/api/auth/register",
        raw_body=b'{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(resp, 400, "malformed-json")


def test_malformed_json_on_login_is_400(server):
    resp = server.post(
        "/api/auth/login", raw_body=b"{not json}", headers={"Content-Type": "application/json"}
    )
    assert_problem(resp, 400, "malformed-json")


def test_text_plain_body_is_415(server):
    resp = server.post(
        "/api/auth/login",
        raw_body=b'{"email":"a@example.com","password":"whatever-password"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_problem(resp, 415, "unsupported-media-type")


def test_text_plain_patch_is_415(server, user):
    resp = server.patch(
        "/api/me",
        raw_body=b'{"display_name":"x"}',
        token=user.access_token,
        headers={"Content-Type": "text/plain"},
    )
    assert_problem(resp, 415, "unsupported-media-type")


def test_json_with_charset_is_accepted(server):
    # an unknown account: reaching the credential check proves the body was accepted
    resp = server.post(
        "/api/auth/login",
        raw_body=json.dumps({"email": "nobody-charset@example.com", "password": "not-the-one-123"}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert_problem(resp, 401, "invalid-credentials")


def test_invalid_utf8_is_400(server):
    resp = server.post(
        "/api/auth/register",
        raw_body=b'{"email":"\xff@x.io","password":"valid-length-pw-1"}',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(resp, 400, "invalid-utf8")


def test_overlong_utf8_encoding_is_400(server):
    # b"\xc0\xaf" is an overlong encoding of "/": not valid UTF-8
    resp = server.post(
        "/api/auth/login",
        raw_body=b'{"email":"a\xc0\xaf@x.io","password":"valid-length-pw-1"}',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(resp, 400, "invalid-utf8")


@pytest.mark.parametrize("raw", [b"[]", b"42", b'"a string"', b"null", b"true"])
def test_json_that_is_not_an_object_is_422(server, raw):
    resp = server.post(
        "/api/auth/register", raw_body=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(resp, 422, "validation-error")


def test_body_of_exactly_1_mib_is_accepted(server):
    raw = b"{" + b" " * (MIB - 2) + b"}"  # an empty object padded with whitespace
    assert len(raw) == MIB
    resp = server.post(
        "/api/auth/register", raw_body=raw, headers={"Content-Type": "application/json"}
    )
    assert_validation(resp, {"email", "password"})


def _oversized_post(server, size):
    sock = server.socket()
    try:
        head = (
            "POST /api/auth/register HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n"
        ).encode()
        body = b"{" + b" " * (size - 2) + b"}"
        send_interleaved(sock, head, body)
        resp = read_response(sock)
    finally:
        sock.close()
    assert resp is not None, "the server closed the connection without answering 413"
    resp.path = "/api/auth/register"
    return resp


def test_body_one_byte_over_1_mib_is_413(server):
    assert_problem(_oversized_post(server, MIB + 1), 413, "payload-too-large")


def test_body_of_2_mib_is_413(server):
    assert_problem(_oversized_post(server, 2 * MIB), 413, "payload-too-large")


def test_server_still_serves_after_oversized_body(server):
    _oversized_post(server, 2 * MIB)
    status, _, body = server.get("/health")
    assert status == 200, body


def test_header_of_8_kib_is_fine(server):
    status, _, body = server.get("/health", headers={"X-Padding": "a" * 8192})
    assert status == 200, body


def test_header_block_over_16_kib_is_431_or_closed(server):
    sock = server.socket()
    try:
        request = (
            "GET /health HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            f"X-Big: {'a' * 20480}\r\n\r\n"
        ).encode()
        send_interleaved(sock, b"", request)
        resp = read_response(sock)
    finally:
        sock.close()
    if resp is not None:  # a response is preferred; a closed connection is tolerated
        # the request line may not be parsed when the header block is too large: any instance
        assert_problem(resp, 431, "headers-too-large", instance=ANY)
    status, _, body = server.get("/health")
    assert status == 200, body


# --------------------------------------------------------------------------------------------
# connections


def test_keep_alive_serves_several_requests_on_one_connection(server):
    conn = server.connection()
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        assert r.status == 200
        r.read()
        local = conn.sock.getsockname()
        conn.auto_open = 0  # any reconnect would raise NotConnected instead of hiding a close
        for method, path, body, expected in [
            ("GET", "/health", None, 200),
            ("GET", "/does-not-exist", None, 404),
            (
                "POST",
                "/api/auth/login",
                json.dumps({"email": "nobody-ka@example.com", "password": "not-the-one-123"}),
                401,
            ),
            ("GET", "/ready", None, 200),
        ]:
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            assert r.status == expected, (method, path, r.status)
            assert conn.sock is not None and conn.sock.getsockname() == local
    finally:
        conn.close()


def test_slowloris_partial_request_is_disconnected(make_server):
    srv = make_server(args=["--read-timeout", "1"])
    sock = srv.socket()
    try:
        sock.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nX-Slow: ".encode())
        closed, data = wait_closed(sock, 5.0)
        assert closed, f"connection still open 5 s after a partial request (read timeout 1 s); got {data!r}"
    finally:
        sock.close()
    status, _, _ = srv.get("/health")
    assert status == 200


def test_idle_keep_alive_connection_is_closed(make_server):
    srv = make_server(args=["--idle-timeout", "1"])
    conn = srv.connection()
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        assert r.status == 200
        r.read()
        assert conn.sock is not None, "the server closed the connection right after the response"
        closed, data = wait_closed(conn.sock, 5.0)
        assert closed, "idle keep-alive connection still open 5 s after --idle-timeout 1"
        assert data == b"", f"unexpected bytes on an idle connection: {data!r}"
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# CORS

ALLOWED = "http://app.example"
ALLOWED_2 = "http://second.example"


@pytest.fixture(scope="module")
def cors_server(module_servers):
    return module_servers(args=["--cors-origins", f"{ALLOWED},{ALLOWED_2}"])


@pytest.mark.parametrize("origin", [ALLOWED, ALLOWED_2])
def test_cors_allowed_origin_is_echoed(cors_server, origin):
    resp = cors_server.get("/health", headers={"Origin": origin})
    assert resp.status == 200
    assert resp.headers.get("access-control-allow-origin") == origin, resp.headers
    assert "origin" in resp.header_tokens("vary"), resp.headers


def test_cors_headers_also_on_errors(cors_server):
    resp = cors_server.get("/api/me", headers={"Origin": ALLOWED})
    assert_problem(resp, 401, "token-missing")
    assert resp.headers.get("access-control-allow-origin") == ALLOWED, resp.headers


def test_cors_preflight(cors_server):
    resp = cors_server.request(
        "OPTIONS",
        "/api/me",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert resp.status == 204, resp
    assert resp.headers.get("access-control-allow-origin") == ALLOWED, resp.headers
    methods = {m.upper() for m in resp.header_tokens("access-control-allow-methods")}
    assert "PATCH" in methods, resp.headers
    allowed_headers = resp.header_tokens("access-control-allow-headers")
    assert {"authorization", "content-type"} <= allowed_headers, resp.headers


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://app.example",
        "http://app.example:8080",
        "http://app.example.evil.com",
        "http://sub.app.example",
        "null",
    ],
)
def test_cors_other_origins_get_no_allow_origin(cors_server, origin):
    resp = cors_server.get("/health", headers={"Origin": origin})
    assert resp.status == 200
    assert "access-control-allow-origin" not in resp.headers, resp.headers
    pre = cors_server.request(
        "OPTIONS",
        "/api/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert "access-control-allow-origin" not in pre.headers, pre
    assert pre.status != 500, pre


def test_cors_no_header_without_origin(cors_server):
    resp = cors_server.get("/health")
    assert "access-control-allow-origin" not in resp.headers, resp.headers


@pytest.mark.parametrize("origin", [ALLOWED, "http://localhost:5173"])
def test_no_cors_by_default(server, origin):
    resp = server.get("/health", headers={"Origin": origin})
    assert resp.status == 200
    assert "access-control-allow-origin" not in resp.headers, resp.headers
    pre = server.request(
        "OPTIONS",
        "/api/me",
        headers={"Origin": origin, "Access-Control-Request-Method": "PATCH"},
    )
    assert "access-control-allow-origin" not in pre.headers, pre
    assert pre.status != 500, pre


# --------------------------------------------------------------------------------------------
# request ids and access log


def _access_line(server, request_id):
    return server.wait_for_log(
        lambda o: o.get("msg") == "request" and o.get("request_id") == request_id
    )


def _assert_access_line(line, request_id, method, path, status):
    assert line is not None, f"no access-log line with request_id {request_id!r}"
    assert line.get("method") == method, line
    assert line.get("path") == path, line
    assert line.get("status") == status, line
    d = line.get("duration_ms")
    assert isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0, line


def test_request_id_is_generated_and_logged(server):
    resp = server.get("/health")
    rid = resp.headers.get("x-request-id", "")
    assert rid, resp.headers
    _assert_access_line(_access_line(server, rid), rid, "GET", "/health", 200)


def test_generated_request_ids_differ(server):
    a = server.get("/health").headers.get("x-request-id")
    b = server.get("/health").headers.get("x-request-id")
    assert a and b and a != b


def test_request_id_is_echoed_and_logged(server):
    rid = "sys-test.ID_0123456789-abc"
    resp = server.get("/health", headers={"X-Request-Id": rid})
    assert resp.headers.get("x-request-id") == rid, resp.headers
    _assert_access_line(_access_line(server, rid), rid, "GET", "/health", 200)


def test_request_id_of_128_chars_is_echoed(server):
    rid = ("a1B2.c3_D-" * 13)[:128]
    resp = server.get("/health", headers={"X-Request-Id": rid})
    assert resp.headers.get("x-request-id") == rid, resp.headers


@pytest.mark.parametrize(
    "bad",
    ["x" * 129, "has space", "semi;colon", "<script>", "quote\"d", "slash/ed"],
    ids=["too-long", "space", "semicolon", "angle", "quote", "slash"],
)
def test_insane_request_id_is_replaced(server, bad):
    resp = server.get("/health", headers={"X-Request-Id": bad})
    rid = resp.headers.get("x-request-id", "")
    assert rid and rid != bad, resp.headers
    line = _access_line(server, rid)
    assert line is not None, f"no access-log line for the replacement id {rid!r}"


def test_error_responses_carry_request_id_and_are_logged(server):
    rid = "sys-test-404-request"
    resp = server.get("/does-not-exist-either", headers={"X-Request-Id": rid})
    assert resp.status == 404
    assert resp.headers.get("x-request-id") == rid
    _assert_access_line(_access_line(server, rid), rid, "GET", "/does-not-exist-either", 404)


def test_access_log_of_a_post(server):
    rid = "sys-test-login-401"
    resp = server.post(
        "/api/auth/login",
        {"email": "nobody-log@example.com", "password": "not-the-one-123"},
        headers={"X-Request-Id": rid},
    )
    assert resp.status == 401
    assert resp.headers.get("x-request-id") == rid
    _assert_access_line(_access_line(server, rid), rid, "POST", "/api/auth/login", 401)


# --------------------------------------------------------------------------------------------
# operational routes


def test_health(server):
    status, headers, body = server.get("/health")
    assert status == 200
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert isinstance(body, dict) and body.get("status") == "ok", body


def test_ready(server):
    status, headers, body = server.get("/ready")
    assert status == 200
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert isinstance(body, dict), body
    assert body.get("status") == "ready", body
    assert body.get("checks", {}).get("database") == "ok", body
    assert body.get("checks", {}).get("bus") == "ok", body


def test_openapi(server):
    status, headers, body = server.get("/openapi.json")
    assert status == 200
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert isinstance(body, dict), body
    assert str(body.get("openapi", "")).startswith("3.1"), body.get("openapi")
    paths = body.get("paths")
    assert isinstance(paths, dict), body
    for p in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/me",
    ]:
        assert p in paths, f"openapi paths lack {p}: {sorted(paths)}"


def _metrics(server):
    resp = server.get("/metrics")
    assert resp.status == 200, resp
    ctype = resp.headers.get("content-type", "")
    assert ctype.split(";")[0].strip() == "text/plain", ctype
    assert "version=0.0.4" in ctype.replace(" ", ""), ctype
    assert isinstance(resp.body, bytes)
    return resp.body.decode("utf-8"), parse_metrics(resp.body.decode("utf-8"))


def _poll_metrics(server, condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        raw, samples = _metrics(server)
        if condition(samples):
            return raw, samples
        if time.monotonic() > deadline:
            return raw, samples
        time.sleep(0.05)


def _value(samples, name, **labels):
    return sum(v for n, lb, v in samples if n == name and all(lb.get(k) == x for k, x in labels.items()))


def test_metrics_count_requests_by_route_method_status(server, user):
    server.get("/health")
    server.get("/api/unknown-route-for-metrics-1", token=user.access_token)
    server.get("/api/unknown-route-for-metrics-2", token=user.access_token)
    server.get("/api/me")  # 401
    server.get("/api/me", token=user.access_token)  # 200
    total = "todo_http_requests_total"

    def ready(samples):
        return (
            _value(samples, total, route="/health", method="GET", status="200") >= 1
            and _value(samples, total, route="unmatched", method="GET", status="404") >= 2
            and _value(samples, total, route="/api/me", method="GET", status="401") >= 1
            and _value(samples, total, route="/api/me", method="GET", status="200") >= 1
        )

    raw, samples = _poll_metrics(server, ready)
    assert "todo_http_requests_total{" in raw
    assert ready(samples), raw
    # unknown paths are not labels (bounded cardinality)
    assert "unknown-route-for-metrics" not in raw, raw
    for n, lb, _ in samples:
        if n == total:
            assert {"route", "method", "status"} <= set(lb), (n, lb)


def test_metrics_duration_histogram(server):
    server.get("/health")
    hist = "todo_http_request_duration_seconds"

    def ready(samples):
        return _value(samples, hist + "_count", route="/health") >= 1

    raw, samples = _poll_metrics(server, ready)
    assert hist + "_bucket{" in raw, raw
    assert ready(samples), raw
    buckets = [(lb, v) for n, lb, v in samples if n == hist + "_bucket" and lb.get("route") == "/health"]
    assert buckets, raw
    assert all("le" in lb for lb, _ in buckets), buckets
    count = _value(samples, hist + "_count", route="/health")
    inf = _value(samples, hist + "_bucket", route="/health", le="+Inf")
    assert inf == count, (inf, count)
    assert any(n == hist + "_sum" and lb.get("route") == "/health" for n, lb, _ in samples), raw
    # cumulative buckets: non-decreasing in le, per label set
    series = {}
    for lb, v in buckets:
        key = tuple(sorted((k, x) for k, x in lb.items() if k != "le"))
        series.setdefault(key, []).append((float(lb["le"]), v))
    for points in series.values():
        values = [v for _, v in sorted(points)]
        assert values == sorted(values), points


# --------------------------------------------------------------------------------------------
# logs


def test_every_log_line_is_a_json_object(server):
    server.get("/health")
    assert server.raw_lines, "no log lines at all"
    for line in server.raw_lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            pytest.fail(f"log line is not JSON: {line!r}")
        assert isinstance(obj, dict), line
        assert RFC3339_UTC_RE.match(str(obj.get("ts", ""))), line
        assert obj.get("level") in {"trace", "debug", "info", "warn", "error"}, line
        assert isinstance(obj.get("msg"), str) and obj["msg"], line


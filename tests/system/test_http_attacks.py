"""Attacks on the HTTP layer (issue 10): each request that once crashed, stalled or bloated the
server, sent as an attacker would; the server must survive, answer as documented and stay small."""

import json
import os
import socket
import time

import pytest

from todo_harness import assert_problem, parse_metrics, poll_until, read_response, wait_closed

MIB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# helpers


def send_raw(server, data, timeout=15.0):
    """Send raw bytes on a fresh connection; return (response or None, socket)."""
    sock = server.socket(timeout)
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return read_response(sock, timeout), sock


def health_ok(server):
    resp = server.get("/health")
    return resp.status == 200


def metric(server, name, **labels):
    text = server.get("/metrics").raw.decode()
    total = 0.0
    for n, ls, v in parse_metrics(text):
        if n == name and all(ls.get(k) == val for k, val in labels.items()):
            total += v
    return total


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


# --------------------------------------------------------------------------------------------
# 1. a huge trailer field must not abort the process


@pytest.mark.parametrize(
    "trailer",
    [
        b"X: " + b"a" * 65535,  # field value too large for basic_fields
        b"X" * 70000 + b": a",  # field name too large
    ],
    ids=["long-value", "long-name"],
)
def test_huge_trailer_field_is_refused_and_server_survives(server, trailer):
    request = (
        b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        + trailer
        + b"\r\n\r\n"
    )
    resp, sock = send_raw(server, request)
    sock.close()
    assert server.alive(), server.stderr_text()[-2000:]
    assert resp is not None
    assert resp.status in (400, 431), resp
    assert health_ok(server)
    assert metric(server, "todo_http_connection_errors_total") >= 1


# --------------------------------------------------------------------------------------------
# 2. trailers count toward the header limit, chunk extensions toward the body limit


def _send_in_background(server, data):
    import threading

    sock = server.socket(30.0)
    result = {}

    def run():
        try:
            sock.sendall(data)
        except OSError:
            pass
        result["resp"] = read_response(sock, 30.0)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return sock, t, result


def test_huge_trailer_sections_are_refused_with_rss_bounded(server):
    assert health_ok(server)
    before = rss_kib(server.proc.pid)
    trailer = b"a: b\r\n" * 500_000  # 3 MB of small fields, each one harmless
    request = (
        b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n"
        + trailer
        + b"\r\n"
    )
    sends = [_send_in_background(server, request) for _ in range(4)]
    for sock, t, result in sends:
        t.join(60)
        sock.close()
        resp = result.get("resp")
        assert resp is not None and resp.status == 431, resp
    assert server.alive()
    grown = rss_kib(server.proc.pid) - before
    assert grown < 64 * 1024, f"RSS grew by {grown} KiB"
    assert health_ok(server)


def test_chunk_extensions_count_toward_the_body_limit(server):
    # 1-byte chunks, each with a 1000-byte extension: 1 KiB of data but 2 MB of extensions.
    chunk = b"1;" + b"e" * 1000 + b"\r\nx\r\n"
    request = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 2000 + b"0\r\n\r\n"
    )
    sock, t, result = _send_in_background(server, request)
    t.join(60)
    sock.close()
    assert_problem(result.get("resp"), 413, "payload-too-large", instance="/api/auth/login")
    assert health_ok(server)


# --------------------------------------------------------------------------------------------
# 3. stalled bodies: bytes in flight are capped, memory stays bounded


def _stall_body(server, length, sent, results, index):
    sock = server.socket(30.0)
    head = (
        f"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    try:
        sock.sendall(head + b" " * sent)
    except OSError:
        pass
    results[index] = sock


def test_stalled_bodies_are_capped_and_rss_stays_bounded(make_server):
    import threading

    server = make_server(args=["--max-body-in-flight", "8"])
    assert health_ok(server)
    before = rss_kib(server.proc.pid)
    n = 100
    socks = [None] * n
    threads = [
        threading.Thread(target=_stall_body, args=(server, MIB, MIB - 1, socks, i), daemon=True)
        for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        # Every client has sent all but one byte. Those beyond the budget got a 503 at once.
        answers = [b""] * n

        def refused_count():
            for i, sock in enumerate(socks):
                if answers[i].startswith(b"HTTP/1.1 503"):
                    continue
                sock.setblocking(False)
                try:
                    answers[i] += sock.recv(65536)
                except OSError:
                    pass
            return sum(1 for a in answers if a.startswith(b"HTTP/1.1 503"))

        deadline = time.monotonic() + 20
        while refused_count() < n - 16 and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = refused_count()
        for a in answers:
            if a.startswith(b"HTTP/1.1 503"):
                assert b"retry-after:" in a.lower(), a
        assert refused >= n - 16, f"only {refused} of {n} stalled bodies were refused"
        grown = rss_kib(server.proc.pid) - before
        assert grown < 48 * 1024, f"RSS grew by {grown} KiB with {n} stalled 1 MiB bodies"
        started = time.monotonic()
        assert health_ok(server)
        assert time.monotonic() - started < 2.0
        assert metric(server, "todo_http_connection_errors_total", reason="body_bytes_in_flight") >= 1
    finally:
        for sock in socks:
            sock.close()
    # Once they are gone the budget is free again: a whole 1 MiB body is read (and refused by the
    # route as malformed JSON, not by the budget).
    def accepted():
        resp = server.post(
            "/api/auth/login", raw_body=b" " * (MIB - 1), headers={"Content-Type": "application/json"}
        )
        return resp.status != 503

    poll_until(accepted, "the body budget to be released", timeout=10.0)


# --------------------------------------------------------------------------------------------
# 4. caps on open connections, in total and per client address


def _connect_from(server, source, timeout=10.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def _is_open_and_served(sock):
    """The connection was admitted: a request on it is answered 200."""
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = read_response(sock, 10.0)
    return resp is not None and resp.status == 200


def _assert_refused(sock):
    resp = read_response(sock, 10.0)
    assert resp is not None, "a refused connection must be answered before it is closed"
    assert_problem(resp, 503, "overloaded", instance="/")
    assert resp.headers.get("retry-after"), resp
    return resp


def test_connections_per_client_address_are_capped(make_server):
    server = make_server(args=["--max-connections-per-client", "4"])
    held = [_connect_from(server, "127.0.0.1") for _ in range(4)]
    try:
        for sock in held:
            assert _is_open_and_served(sock)
        extra = _connect_from(server, "127.0.0.1")
        _assert_refused(extra)
        extra.close()
        # Another client address is not affected.
        other = _connect_from(server, "127.0.0.2")
        assert _is_open_and_served(other)
        other.close()
        assert metric_from(server, "127.0.0.2", "client_connection_limit") >= 1
    finally:
        held.pop().close()
    # With one slot free again, the next connection is admitted.
    poll_until(lambda: _is_open_and_served(_connect_from(server, "127.0.0.1")), "a free slot", 10)
    for sock in held:
        sock.close()


def test_connections_in_total_are_capped(make_server):
    server = make_server(args=["--max-connections", "3"])
    held = [_connect_from(server, f"127.0.0.{i + 1}") for i in range(3)]
    try:
        for sock in held:
            assert _is_open_and_served(sock)
        extra = _connect_from(server, "127.0.0.9")
        _assert_refused(extra)
        extra.close()
    finally:
        for sock in held:
            sock.close()
    poll_until(lambda: _is_open_and_served(_connect_from(server, "127.0.0.9")), "a free slot", 10)
    assert metric_from(server, "127.0.0.9", "connection_limit") >= 1


def metric_from(server, source, reason):
    sock = _connect_from(server, source)
    try:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp = read_response(sock, 10.0)
    finally:
        sock.close()
    assert resp is not None and resp.status == 200, resp
    return sum(
        v
        for n, ls, v in parse_metrics(resp.raw.decode())
        if n == "todo_http_connection_errors_total" and ls.get("reason") == reason
    )


# --------------------------------------------------------------------------------------------
# 5. file descriptors: the limit is raised, and exhausting it neither spins nor floods the log


def _start_limited(module_servers_factory, nofile):
    """`todo serve` started under prlimit (which execs it, so the pid is the server's)."""
    from todo_harness import SECRET, TodoServer, backend_env, scrubbed_env

    data_dir = module_servers_factory.new_data_dir()
    argv = [f"--nofile={nofile}", module_servers_factory.todo_bin, "serve", "--address",
            "127.0.0.1", "--port", "0", "--data-dir", data_dir, "--jwt-secret", SECRET]
    srv = TodoServer("/usr/bin/prlimit", argv, scrubbed_env(backend_env(data_dir, None)), data_dir)
    module_servers_factory.servers.append(srv)
    return srv.start()


def _soft_nofile(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no Max open files")


def test_soft_descriptor_limit_is_raised_to_the_hard_one(make_server):
    server = _start_limited(make_server, "256:512")
    assert _soft_nofile(server.proc.pid) == 512


def test_descriptor_exhaustion_neither_spins_nor_floods_the_log(make_server):
    server = _start_limited(make_server, "64:64")
    pid = server.proc.pid
    used = len(os.listdir(f"/proc/{pid}/fd"))
    assert used < 60, f"the server already uses {used} of 64 descriptors"
    socks = []
    try:
        for _ in range(64 - used + 20):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            socks.append(s)
        # Connections beyond what the descriptors allow are answered 503 and closed.
        last = socks[-1]
        resp = read_response(last, 10.0)
        assert resp is not None and resp.status == 503, resp
        lines_before = len(server.raw_lines)
        ticks_before = cpu_ticks(pid)
        window_start = time.monotonic()
        time.sleep(1.0)  # the measured window itself, not waiting for an outcome
        ticks = cpu_ticks(pid) - ticks_before
        elapsed = time.monotonic() - window_start
        hz = os.sysconf("SC_CLK_TCK")
        assert ticks / hz < 0.3 * elapsed, f"{ticks / hz:.2f} CPU-seconds in {elapsed:.2f} s"
        assert len(server.raw_lines) - lines_before < 20, server.raw_lines[-20:]
        assert any(o.get("msg") == "connection cap lowered to fit the open file limit"
                   for o in server.logs)
    finally:
        for s in socks:
            s.close()
    def serves():
        try:
            return health_ok(server)
        except OSError:
            return False

    poll_until(serves, "the server to serve again", 15)


# --------------------------------------------------------------------------------------------
# 6. protocol edges (RFC 9112)


def test_transfer_encoding_other_than_chunked_is_501(server):
    resp, sock = send_raw(
        server,
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
    )
    sock.close()
    assert_problem(resp, 501, "not-implemented", instance="/api/auth/login")


def test_http11_without_host_is_400(server):
    resp, sock = send_raw(server, b"GET /health HTTP/1.1\r\n\r\n")
    sock.close()
    assert_problem(resp, 400, "bad-request", instance="/health")
    resp, sock = send_raw(server, b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    sock.close()
    assert_problem(resp, 400, "bad-request", instance="/health")
    # HTTP/1.0 needs none.
    resp, sock = send_raw(server, b"GET /health HTTP/1.0\r\n\r\n")
    sock.close()
    assert resp.status == 200


def test_obs_folded_header_is_400(server):
    resp, sock = send_raw(
        server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Long: part one\r\n  part two\r\n\r\n"
    )
    sock.close()
    assert resp is not None and resp.status == 400, resp


def test_expect_100_continue_is_answered_before_the_body(server):
    sock = server.socket(10.0)
    try:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        sock.settimeout(0.8)  # curl gives up waiting after 1 s: the interim answer comes first
        first = sock.recv(64)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
        sock.settimeout(10.0)
        sock.sendall(b"{}")
        resp = read_response(sock, 10.0)
        assert resp is not None and resp.status in (400, 422), resp
    finally:
        sock.close()


def test_slow_body_is_answered_408_before_closing(make_server):
    server = make_server(args=["--read-timeout", "1"])
    sock = server.socket(10.0)
    try:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        resp = read_response(sock, 10.0)
        assert_problem(resp, 408, "request-timeout", instance="/api/auth/login")
        closed, _ = wait_closed(sock, 10.0)
        assert closed
    finally:
        sock.close()


def server_side_state(port, client_port):
    """The TCP state (/proc/net/tcp's hex code) of the server's end of one loopback connection,
    or None once it is gone: 01 is ESTABLISHED."""
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
            return state
    return None


def test_a_client_that_stops_reading_a_large_response_is_dropped_after_the_read_timeout(
        make_server, tmp_path):
    """The server writes a response at once as far as the socket takes it, and the rest under
    the read timeout: a client that stops reading holds its connection that long, not forever,
    and gets a cut-off body, never a longer one."""
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>t</title>")
    size = 48 * 1024 * 1024  # far more than both sockets' buffers hold
    (web / "big.js").write_bytes(b"x" * size)
    server = make_server(args=["--read-timeout", "1", "--web-dir", str(web)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.connect(("127.0.0.1", server.port))
    try:
        client_port = sock.getsockname()[1]
        sock.sendall(b"GET /big.js HTTP/1.1\r\nHost: x\r\n\r\n")
        assert server_side_state(server.port, client_port) == "01"
        poll_until(lambda: server_side_state(server.port, client_port) != "01",
                   "the server to give up on the client that stopped reading", 20)
        closed, data = wait_closed(sock, 20.0)
        assert closed
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), head[:100]
        assert f"content-length: {size}".encode() in head.lower(), head
        assert 0 < len(body) < size, len(body)
    finally:
        sock.close()
    assert health_ok(server)


def test_invalid_utf8_target_is_escaped_in_problem_and_log(server):
    resp, sock = send_raw(server, b"GET /nope/\xff\xfe/caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.close()
    assert resp is not None and resp.status in (400, 404), resp
    raw = resp.raw
    raw.decode("utf-8")  # strict: the body is valid UTF-8
    body = json.loads(raw)
    assert body["instance"] == "/nope/%FF%FE/caf\u00e9", body
    line = server.wait_for_log(
        lambda o: o.get("msg") == "request" and "%FF%FE" in str(o.get("path")), timeout=5
    )
    assert line is not None, "the access log line must carry the escaped path"
    for raw_line in server.raw_lines:
        assert "\ufffd" not in raw_line, raw_line  # nothing was replaced: every line was UTF-8

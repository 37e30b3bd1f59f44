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

"""Shared plumbing of the local stand-ins for the services the notification channels call.

Each peer is an HTTP server on 127.0.0.1 that checks every request with an implementation
independent of ours (Python's hmac, python3-cryptography) and reports what it received:

- its first stdout line is a JSON object with at least {"port": N} (plus what a client needs,
  such as a push subscription);
- then one JSON line per request: {"method", "path", "status", "client_port", "errors": [...],
  ...}; an empty
  "errors" list means the request passed every check;
- GET /_received answers the same records as a JSON array (for system tests that prefer HTTP);
- it exits when its stdin closes, so it never outlives the test that started it.

A path may ask for a behaviour after the checks: /status/<code>/... answers <code>,
/slow/<ms>/... waits that long first, /big/<bytes>/... answers a body that large.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_records = []


def emit(obj):
    with _lock:
        sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        sys.stdout.flush()


def record(entry):
    with _lock:
        _records.append(entry)
    emit(entry)


def path_behaviour(path):
    """(status override or None, delay seconds, big body bytes or 0) from the path's prefix."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    status, delay, big = None, 0.0, 0
    while len(parts) >= 2 and parts[0] in ("status", "slow", "big"):
        if parts[0] == "status":
            status = int(parts[1])
        elif parts[0] == "slow":
            delay = int(parts[1]) / 1000.0
        else:
            big = int(parts[1])
        parts = parts[2:]
    return status, delay, big


def base_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    return parser


class Handler(BaseHTTPRequestHandler):
    """Subclasses implement check(method, path, headers, body) -> (status, headers, body, entry)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stdout for the records
        sys.stderr.write("peer: " + (fmt % args) + "\n")

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status, headers, body):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers, **{"Content-Type": "application/json"})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_received":
            with _lock:
                data = list(_records)
            return self._answer(200, {}, data)
        self._answer(404, {}, b"")

    def do_POST(self):
        body = self._body()
        status_override, delay, big = path_behaviour(self.path)
        status, headers, answer, entry = self.check("POST", self.path, self.headers, body)
        if status_override is not None and not entry.get("errors"):
            status, answer = status_override, {"error": "asked for %d" % status_override}
        if delay:
            time.sleep(delay)
        if big:
            answer = b"x" * big
        # The client's port tells which connection a request came on (keep-alive reuse).
        entry.update({"method": "POST", "path": self.path, "status": status,
                      "client_port": self.client_address[1]})
        record(entry)
        self._answer(status, headers, answer)

    def check(self, method, path, headers, body):
        raise NotImplementedError


def serve(handler_class, port, hello):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_class)
    server.daemon_threads = True
    hello = dict(hello(server.server_address[1]), port=server.server_address[1])
    emit(hello)

    def watch_stdin():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


def b64url_decode(text):
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def split_jwt(token, errors):
    """(header, claims, signing_input, signature) of a compact JWT, or None with an error added."""
    parts = token.split(".")
    if len(parts) != 3:
        errors.append("JWT does not have three parts")
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except Exception as e:  # noqa: BLE001 - any malformation is a finding
        errors.append("JWT does not decode: %s" % e)
        return None
    return header, claims, (parts[0] + "." + parts[1]).encode(), signature

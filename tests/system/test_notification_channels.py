"""The outbound notification channels end to end: `todo serve` delivers reminders to the local
stand-ins of tests/notify_peers/, each of which checks what it receives with an implementation
independent of ours (Python's hmac, python3-cryptography):

- webhook: the Standard Webhooks signature recomputed with the secret the API returned once;
- Web Push: the body decrypted with the subscription's private key (RFC 8291), the VAPID JWT
  verified with the key GET /api/notification-targets/vapid-public-key returns;
- FCM: the OAuth assertion's RS256 signature and claims, then messages:send with that token;
- SendGrid: the API key and the v3 Mail Send JSON.

Each delivery shows up in GET /api/tasks/{id}/reminders; providers that say a target is gone
remove it; a failing receiver is retried; the SSRF guard refuses private destinations unless the
server runs with --allow-private-webhooks. Tests wait for conditions, never sleep for outcomes."""

import base64
import json
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from task_harness import TaskApi
from todo_harness import assert_problem, poll_until, register, run_cli, text

DEADLINE = 30.0
PEERS = pathlib.Path(__file__).parents[1] / "notify_peers"
MAIL_FROM = "Todo <todo@example.test>"
SENDGRID_KEY = "SG.test-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peer:
    """One tests/notify_peers script: `hello` is its first JSON line; it exits when stdin closes."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, str(PEERS / script), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.hello = json.loads(self.proc.stdout.readline())
        self.base = f"http://127.0.0.1:{self.hello['port']}"

    def received(self):
        with urllib.request.urlopen(self.base + "/_received", timeout=5) as r:
            return json.loads(r.read())

    def wait_received(self, count, kind=None):
        def check():
            got = [r for r in self.received() if kind is None or r.get("kind") == kind]
            return got if len(got) >= count else None

        return poll_until(check, f"{count} request(s) at {self.base}", DEADLINE)

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def peers():
    started = []

    def start(script, *args):
        peer = Peer(script, *args)
        started.append(peer)
        return peer

    yield start
    for p in started:
        p.close()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def task_with_reminder_in(api, seconds, title="Water the plants"):
    """A task whose one reminder (1 minute before its due time) is `seconds` from now."""
    instant = int(time.time()) + seconds
    resp = api.post("/api/tasks", {"title": title, "due_date": rfc3339(instant + 60), "reminders": [1]})
    assert resp.status == 201, resp
    return resp.body


def deliveries(api, task_id, channel):
    resp = api.get(f"/api/tasks/{task_id}/reminders")
    assert resp.status == 200, resp
    return [d for item in resp.body["items"] for d in item["deliveries"] if d["channel"] == channel]


def wait_delivery(api, task_id, channel, status):
    def check():
        found = deliveries(api, task_id, channel)
        return found[0] if len(found) == 1 and found[0]["status"] == status else None

    return poll_until(check, f"the {channel} delivery of task {task_id} to be {status}", DEADLINE)


def target_ids(api):
    resp = api.get("/api/notification-targets")
    assert resp.status == 200, resp
    return [t["id"] for t in resp.body["items"]]


def serve(make_server, extra=(), private=True, backoff="300ms,300ms"):
    args = ["--mail-from", MAIL_FROM, "--public-url", "https://todo.example.test",
            "--vapid-subject", "mailto:ops@example.test", "--notify-retry-backoff", backoff]
    if private:
        args.append("--allow-private-webhooks")
    return make_server(args=args + list(extra))


def p256_public_key_b64url():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def user_api(srv):
    return TaskApi(srv, register(srv, timezone="Europe/Berlin"))


# ---------------------------------------------------------------------------------------------


def test_a_webhook_reminder_arrives_signed(make_server, peers):
    srv = serve(make_server)
    api = user_api(srv)
    port = free_port()
    hook = api.post("/api/notification-targets", {"kind": "webhook", "url": f"http://127.0.0.1:{port}/hook"})
    assert hook.status == 201, hook
    # The receiver verifies with the secret the API showed this once.
    peer = peers("webhook.py", "--port", str(port), "--secret", hook.body["secret"])
    task = task_with_reminder_in(api, 2)

    got = peer.wait_received(1)
    done = wait_delivery(api, task["id"], "webhook", "delivered")
    assert len(peer.received()) == 1
    assert got[0]["errors"] == [], got
    assert got[0]["json"]["data"]["task_id"] == task["id"]
    assert got[0]["headers"]["webhook-id"] == done["id"]
    assert done["attempts"] == 1 and done["target"]["id"] == hook.body["id"]


def test_a_failing_webhook_is_retried_then_delivered(make_server, peers):
    srv = serve(make_server)
    api = user_api(srv)
    port = free_port()
    hook = api.post("/api/notification-targets", {"kind": "webhook", "url": f"http://127.0.0.1:{port}/hook"})
    peer = peers("webhook.py", "--port", str(port), "--secret", hook.body["secret"], "--fail-first", "1")
    task = task_with_reminder_in(api, 2)

    done = wait_delivery(api, task["id"], "webhook", "delivered")
    got = peer.received()
    assert [r["status"] for r in got] == [500, 204], got
    assert all(r["errors"] == [] for r in got), got
    # The same delivery id both times: a receiver can drop a duplicate.
    assert got[0]["headers"]["webhook-id"] == got[1]["headers"]["webhook-id"] == done["id"]
    assert done["attempts"] == 2


def test_a_webhook_answering_410_is_removed(make_server, peers):
    srv = serve(make_server)
    api = user_api(srv)
    port = free_port()
    hook = api.post("/api/notification-targets",
                    {"kind": "webhook", "url": f"http://127.0.0.1:{port}/status/410/hook"})
    peer = peers("webhook.py", "--port", str(port), "--secret", hook.body["secret"])
    task = task_with_reminder_in(api, 2)

    done = wait_delivery(api, task["id"], "webhook", "target-gone")
    assert [r["status"] for r in peer.received()] == [410]
    assert done["attempts"] == 1
    assert hook.body["id"] not in target_ids(api)


def web_push_stack(make_server, peers):
    srv = serve(make_server)
    key = srv.get("/api/notification-targets/vapid-public-key")
    assert key.status == 200, key
    # The push service pins the key the route published: the VAPID JWT must verify with it.
    peer = peers("push_service.py", "--vapid-public-key", key.body["public_key"])
    return srv, peer, key.body["public_key"]


def test_a_web_push_reminder_decrypts_and_its_vapid_jwt_verifies(make_server, peers):
    srv, peer, public_key = web_push_stack(make_server, peers)
    assert len(base64.urlsafe_b64decode(public_key + "==")) == 65
    api = user_api(srv)
    sub = api.post("/api/notification-targets", {"kind": "webpush", "subscription": peer.hello["subscription"]})
    assert sub.status == 201, sub
    task = task_with_reminder_in(api, 2, title="Buy milk ✓")

    got = peer.wait_received(1)
    done = wait_delivery(api, task["id"], "push", "delivered")
    assert len(peer.received()) == 1
    assert got[0]["errors"] == [], got
    assert got[0]["claims"]["sub"] == "mailto:ops@example.test"
    assert got[0]["claims"]["aud"] == peer.base
    payload = json.loads(got[0]["plaintext"])
    assert payload["task_id"] == task["id"] and payload["title"] == "Buy milk ✓"
    assert payload["delivery_id"] == done["id"]
    assert done["attempts"] == 1 and done["target"]["id"] == sub.body["id"]


def test_a_push_subscription_the_service_says_is_gone_is_removed(make_server, peers):
    srv, peer, _ = web_push_stack(make_server, peers)
    api = user_api(srv)
    subscription = dict(peer.hello["subscription"], endpoint=peer.base + "/status/410/sub")
    sub = api.post("/api/notification-targets", {"kind": "webpush", "subscription": subscription})
    assert sub.status == 201, sub
    task = task_with_reminder_in(api, 2)

    done = wait_delivery(api, task["id"], "push", "target-gone")
    assert [r["status"] for r in peer.received()] == [410]
    assert done["attempts"] == 1
    assert sub.body["id"] not in target_ids(api)


def fcm_stack(make_server, peers, tmp_path):
    peer = peers("fcm.py", "--credentials-out", str(tmp_path / "fcm.json"))
    srv = serve(make_server, ["--fcm-credentials", peer.hello["credentials"], "--fcm-base-url", peer.hello["base_url"]])
    return srv, peer


def test_an_fcm_reminder_is_sent_with_a_verified_oauth_token(make_server, peers, tmp_path):
    srv, peer = fcm_stack(make_server, peers, tmp_path)
    api = user_api(srv)
    token = api.post("/api/notification-targets", {"kind": "fcm", "token": "device-token:APA91b_1"})
    assert token.status == 201, token
    task = task_with_reminder_in(api, 2)

    sends = peer.wait_received(1, kind="send")
    done = wait_delivery(api, task["id"], "push", "delivered")
    got = peer.received()
    assert [r["kind"] for r in got] == ["token", "send"], got
    assert all(r["errors"] == [] for r in got), got
    assert sends[0]["json"]["token"] == "device-token:APA91b_1"
    assert done["attempts"] == 1 and done["target"]["id"] == token.body["id"]


def test_an_unregistered_fcm_token_is_removed(make_server, peers, tmp_path):
    srv, peer = fcm_stack(make_server, peers, tmp_path)
    api = user_api(srv)
    token = api.post("/api/notification-targets", {"kind": "fcm", "token": "unregistered-device"})
    assert token.status == 201, token
    task = task_with_reminder_in(api, 2)

    done = wait_delivery(api, task["id"], "push", "target-gone")
    sends = [r for r in peer.received() if r["kind"] == "send"]
    assert [r["status"] for r in sends] == [404], sends
    assert done["attempts"] == 1
    assert token.body["id"] not in target_ids(api)


def test_an_email_reminder_goes_through_sendgrid(make_server, peers):
    peer = peers("sendgrid.py", "--api-key", SENDGRID_KEY)
    srv = serve(make_server, ["--sendgrid-api-key", SENDGRID_KEY, "--sendgrid-base-url", peer.hello["base_url"]])
    api = user_api(srv)
    mail = api.post("/api/notification-targets", {"kind": "email", "address": "ada@example.test"})
    assert mail.status == 201, mail
    task = task_with_reminder_in(api, 2, title="Pay rent")

    got = peer.wait_received(1)
    done = wait_delivery(api, task["id"], "email", "delivered")
    assert len(peer.received()) == 1
    assert got[0]["errors"] == [], got
    sent = got[0]["json"]
    assert [t["email"] for p in sent["personalizations"] for t in p["to"]] == ["ada@example.test"]
    assert sent["from"]["email"] == "todo@example.test"
    assert "Pay rent" in sent["subject"]
    assert sent["custom_args"]["delivery_id"] == done["id"]
    assert done["attempts"] == 1


def test_a_wrong_sendgrid_key_fails_with_the_error_visible(make_server, peers):
    peer = peers("sendgrid.py", "--api-key", SENDGRID_KEY)
    srv = serve(make_server, ["--sendgrid-api-key", "SG.wrong", "--sendgrid-base-url", peer.hello["base_url"]])
    api = user_api(srv)
    task = task_with_reminder_in(api, 2)

    done = wait_delivery(api, task["id"], "email", "failed")
    assert [r["status"] for r in peer.received()] == [401]
    assert done["attempts"] == 1  # a 401 is not retried: the key will not get better
    assert "401" in done["last_error"], done


def test_the_ssrf_guard_refuses_private_webhooks_without_the_flag(make_server):
    srv = serve(make_server, private=False)
    api = user_api(srv)
    for url in ["https://127.0.0.1/hook", "https://10.0.0.1/", "https://[::ffff:127.0.0.1]/",
                "https://169.254.169.254/", "http://93.184.215.14/hook", "https://localhost/hook"]:
        resp = api.post("/api/notification-targets", {"kind": "webhook", "url": url})
        assert_problem(resp, 422, "validation-error")
        assert [e["field"] for e in resp.body["errors"]] == ["url"], (url, resp.body)
    # A push endpoint goes through the same guard.
    resp = api.post("/api/notification-targets", {"kind": "webpush", "subscription": {
        "endpoint": "https://10.1.2.3/push", "keys": {
            "p256dh": p256_public_key_b64url(),
            "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}})
    assert_problem(resp, 422, "validation-error")
    assert [e["field"] for e in resp.body["errors"]] == ["subscription.endpoint"], resp.body
    assert target_ids(api) == []


@pytest.mark.parametrize("flags, message", [
    (["--fcm-credentials", "/nonexistent/fcm.json"], "--fcm-credentials"),
    (["--vapid-private-key", "not-a-key"], "push notifications"),
    (["--vapid-subject", "ops@example.test"], "--vapid-subject"),
])
def test_unusable_push_configuration_stops_serve_with_exit_2(todo_bin, tmp_path, flags, message):
    r = run_cli(todo_bin, ["serve", "--address", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path),
                           "--jwt-secret", "x" * 40] + flags)
    assert r.returncode == 2, (r.returncode, text(r.stderr))
    # One plain line, like the flag parser's errors (which catch a malformed --vapid-subject); the
    # components built before the notification one may have logged their start as JSON lines.
    plain = [line for line in text(r.stderr).strip().splitlines() if not line.startswith("{")]
    assert len(plain) == 1, text(r.stderr)
    assert plain[0].startswith("todo: ") and message in plain[0], text(r.stderr)

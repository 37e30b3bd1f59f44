"""The notification service in a running `todo serve`, against a real SMTP server (aiosmtpd,
started here on a free port; each received mail is parsed with Python's `email` package):

- a reminder fires within 1 s of its instant, as a proper MIME mail (RFC 2047 subject, text and
  HTML parts, due time in the user's zone, the task link, Message-ID from the delivery id);
- a task completed or deleted before the instant never reminds; rescheduling moves the reminder;
- SIGKILL before the instant and a restart after it: sent late within the grace period, `missed`
  beyond it, never twice;
- a failing SMTP server: retries, then `failed`, visible in GET /api/tasks/{id}/reminders;
- no SMTP configured: `not-configured`, never a fake success;
- the notification-targets API validates per kind and names the field.

Where a test shows that something did NOT happen, it waits for a later reminder instead of
sleeping: the timer fires reminders in instant order, so once the later one arrived the earlier
one would have too."""

import base64
import datetime
import email
import json
import pathlib
import email.policy
import signal
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from jsonschema import Draft202012Validator, FormatChecker

from task_harness import TaskApi
from todo_harness import assert_problem, poll_until, register, sql, wait_consumed

DEADLINE = 30.0
GROUP = "notification-service"
MAIL_FROM = "Todo <todo@example.test>"
PUBLIC_URL = "https://todo.example.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """aiosmtpd handler: keeps each received mail with its arrival time, or refuses every one
    with `refuse` (e.g. "451 4.3.0 try again later")."""

    def __init__(self, refuse=None):
        self.refuse = refuse
        self.mails = []  # (arrival time.time(), recipients, email.message.EmailMessage)
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        arrived = time.time()
        with self.lock:
            if self.refuse:
                self.refused += 1
                return self.refuse
            msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            self.mails.append((arrived, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def for_task(self, task_id):
        with self.lock:
            return [m for m in self.mails if m[2]["X-Todo-Task-Id"] == task_id]

    def wait_for(self, task_id, count=1):
        return poll_until(lambda: (lambda m: m if len(m) >= count else None)(self.for_task(task_id)),
                          f"{count} mail(s) for task {task_id}", DEADLINE)


@pytest.fixture
def smtp():
    sinks = []

    def start(refuse=None):
        sink = SmtpSink(refuse)
        controller = Controller(sink, hostname="127.0.0.1", port=free_port())
        controller.start()
        sinks.append(controller)
        return sink, controller.port

    yield start
    for c in sinks:
        c.stop()


def serve(make_server, port=None, extra=(), data_dir=None):
    args = ["--public-url", PUBLIC_URL, "--mail-from", MAIL_FROM]
    if port is not None:
        args += ["--smtp-url", f"smtp://127.0.0.1:{port}"]
    return make_server(args=args + list(extra), data_dir=data_dir)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def task_with_reminder_in(api, seconds, title="Call the dentist", minutes_before=1):
    """A task whose one reminder is `seconds` from now (whole seconds); returns (task, instant)."""
    instant = int(time.time()) + seconds
    due = instant + 60 * minutes_before
    resp = api.post("/api/tasks", {"title": title, "due_date": rfc3339(due), "reminders": [minutes_before]})
    assert resp.status == 201, resp
    return resp.body, instant


def reminders(api, task_id):
    resp = api.get(f"/api/tasks/{task_id}/reminders")
    assert resp.status == 200, resp
    return resp.body["items"]


def delivery(item, channel):
    found = [d for d in item["deliveries"] if d["channel"] == channel]
    assert len(found) == 1, item
    return found[0]


def status_of(item, channel):
    """The status of the item's delivery on `channel`, None while it has none."""
    found = [d["status"] for d in item["deliveries"] if d["channel"] == channel]
    return found[0] if found else None


def wait_reminder(api, task_id, predicate, what):
    def check():
        items = reminders(api, task_id)
        return items if items and predicate(items) else None

    return poll_until(check, what, DEADLINE)


def text_part(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


# ---------------------------------------------------------------------------------------------


def test_a_reminder_arrives_by_email_within_a_second_of_its_instant(make_server, smtp):
    sink, port = smtp()
    srv = serve(make_server, port)
    user = register(srv, timezone="Europe/Berlin", display_name="Ada")
    api = TaskApi(srv, user)
    title = "Zahnarzt anrufen – Müller ✓"
    task, instant = task_with_reminder_in(api, 4, title=title)

    arrived, rcpt, msg = sink.wait_for(task["id"])[0]
    assert instant - 0.05 <= arrived <= instant + 1.0, (arrived - instant)
    assert rcpt == [user.email]
    # RFC 2047: the raw header is encoded words; decoded, it is the title.
    raw_subject = [v for k, v in msg._headers if k.lower() == "subject"][0]
    assert "=?UTF-8?B?" in raw_subject
    assert str(msg["Subject"]) == f"Reminder: {title}"
    assert msg["From"] == MAIL_FROM
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = text_part(msg, "plain"), text_part(msg, "html")
    link = f"{PUBLIC_URL}/tasks/{task['id']}"
    due_local = datetime.datetime.fromtimestamp(instant + 60, datetime.timezone.utc).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert due_local.strftime("%H:%M") + " (Europe/Berlin)" in plain, plain
    assert title in plain and link in plain
    assert "Müller" in html and f'href="{link}"' in html

    items = wait_reminder(api, task["id"], lambda i: status_of(i[0], "email") == "delivered",
                          "the email delivery to be recorded")
    assert len(items) == 1
    r = items[0]
    assert r["status"] == "sent" and r["late"] is False and r["offset_minutes"] == 1
    assert parse_time(r["fire_at"]) == instant
    mail = delivery(r, "email")
    assert mail["attempts"] == 1 and mail["target"] == {"id": "account", "kind": "email",
                                                        "address": user.email}
    assert msg["Message-ID"] == f"<{mail['id']}@example.test>"
    assert delivery(r, "in-app")["status"] == "delivered"
    # The in-app reminder is an event on task-updates, for the sync service.
    fired = sql(srv.data_dir, "SELECT payload FROM outbox WHERE topic = 'task-updates' "
                              "AND payload LIKE '%com.todo.reminder.fired%'")
    assert len(fired) == 1 and task["id"] in fired[0][0]
    schema = json.load(open(pathlib.Path(__file__).parents[2] / "docs/events/task-updates.schema.json"))
    event = json.loads(fired[0][0])
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(event)
    assert event["data"]["title"] == title and event["data"]["late"] is False
    metrics = srv.get("/metrics").body
    metrics = metrics if isinstance(metrics, str) else metrics.decode()
    counters = [line for line in metrics.splitlines() if line.startswith("todo_reminders_")]
    assert "todo_reminders_scheduled_total 1" in counters, counters
    assert "todo_reminders_fired_total 1" in counters, counters
    assert 'todo_notification_deliveries_total{channel="email",status="delivered"} 1' in metrics


def test_completed_or_deleted_tasks_never_remind_and_rescheduling_moves_it(make_server, smtp):
    sink, port = smtp()
    srv = serve(make_server, port)
    api = TaskApi(srv, register(srv))
    completed, _ = task_with_reminder_in(api, 3, title="completed")
    deleted, _ = task_with_reminder_in(api, 3, title="deleted")
    moved, first_instant = task_with_reminder_in(api, 3, title="moved")
    assert api.post(f"/api/tasks/{completed['id']}/complete").status == 200
    assert api.delete(f"/api/tasks/{deleted['id']}").status == 204
    new_instant = first_instant + 3
    resp = api.patch(f"/api/tasks/{moved['id']}", {"due_date": rfc3339(new_instant + 60)})
    assert resp.status == 200, resp
    control, control_instant = task_with_reminder_in(api, 7, title="control")

    arrived, _, _ = sink.wait_for(moved["id"])[0]
    assert new_instant - 0.05 <= arrived <= new_instant + 1.0, arrived - new_instant
    sink.wait_for(control["id"])
    assert sink.for_task(completed["id"]) == [] and sink.for_task(deleted["id"]) == []
    assert len(sink.for_task(moved["id"])) == 1
    items = reminders(api, moved["id"])
    assert [parse_time(i["fire_at"]) for i in items] == [new_instant]
    assert [i["status"] for i in reminders(api, completed["id"])] == ["cancelled"]
    assert sql(srv.data_dir, "SELECT status FROM reminders WHERE task_id = ?",
               (deleted["id"],)) == [("cancelled",)]


def test_sigkill_before_the_instant_then_late_within_grace_and_never_twice(make_server, smtp):
    sink, port = smtp()
    srv = serve(make_server, port)
    user = register(srv)
    task, instant = task_with_reminder_in(TaskApi(srv, user), 3, title="late one")
    wait_consumed(srv.data_dir, GROUP, topic="reminders")
    srv.stop(sig=signal.SIGKILL)
    # Past the instant (and past the 2 s after which a reminder counts as late) while it is down.
    poll_until(lambda: time.time() > instant + 3, "the instant to pass while the server is down", 10)
    assert sink.for_task(task["id"]) == []

    srv = serve(make_server, port, data_dir=srv.data_dir)
    api = TaskApi(srv, user)
    _, _, msg = sink.wait_for(task["id"])[0]
    assert str(msg["Subject"]) == "Reminder (late): late one"
    items = wait_reminder(api, task["id"], lambda i: status_of(i[0], "email") == "delivered",
                          "the late delivery to be recorded")
    assert items[0]["status"] == "sent" and items[0]["late"] is True

    # A second restart sends nothing again: a later reminder proves the timer ran after it.
    srv.stop()
    srv = serve(make_server, port, data_dir=srv.data_dir)
    api = TaskApi(srv, user)
    control, _ = task_with_reminder_in(api, 2, title="control")
    sink.wait_for(control["id"])
    assert len(sink.for_task(task["id"])) == 1


def test_sigkill_and_restart_beyond_the_grace_period_is_missed(make_server, smtp):
    sink, port = smtp()
    srv = serve(make_server, port, extra=["--reminder-grace", "1s"])
    user = register(srv)
    task, instant = task_with_reminder_in(TaskApi(srv, user), 2, title="missed one")
    wait_consumed(srv.data_dir, GROUP, topic="reminders")
    srv.stop(sig=signal.SIGKILL)
    poll_until(lambda: time.time() > instant + 2, "the grace period to pass while down", 10)

    srv = serve(make_server, port, extra=["--reminder-grace", "1s"], data_dir=srv.data_dir)
    api = TaskApi(srv, user)
    items = wait_reminder(api, task["id"], lambda i: i[0]["status"] == "missed", "the reminder to be missed")
    assert items[0]["deliveries"] == []
    assert sink.for_task(task["id"]) == []


def test_a_failing_smtp_server_is_retried_then_failed(make_server, smtp):
    sink, port = smtp(refuse="451 4.3.0 Try again later")
    srv = serve(make_server, port, extra=["--notify-retry-backoff", "200ms,300ms"])
    api = TaskApi(srv, register(srv))
    task, _ = task_with_reminder_in(api, 2)
    items = wait_reminder(api, task["id"], lambda i: status_of(i[0], "email") == "failed",
                          "the email delivery to fail")
    mail = delivery(items[0], "email")
    assert mail["attempts"] == 3, mail
    assert "451" in mail["last_error"], mail
    assert sink.refused == 3
    attempts = sql(srv.data_dir, "SELECT attempt, outcome FROM notification_attempts "
                                 "WHERE delivery_id = ? ORDER BY attempt", (mail["id"],))
    assert attempts == [(1, "retry"), (2, "retry"), (3, "retry")]


def test_without_smtp_email_is_not_configured(make_server):
    srv = serve(make_server)
    api = TaskApi(srv, register(srv))
    task, _ = task_with_reminder_in(api, 2)
    items = wait_reminder(api, task["id"], lambda i: i[0]["status"] == "sent", "the reminder to fire")
    mail = delivery(items[0], "email")
    assert mail["status"] == "not-configured" and mail["attempts"] == 0, mail
    assert "not configured" in mail["last_error"]
    assert delivery(items[0], "in-app")["status"] == "delivered"


# ---- the targets API ------------------------------------------------------------------------


def p256_public_key_b64url():
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import serialization
    import base64
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def error_fields(resp):
    return sorted(e["field"] for e in resp.body.get("errors", []))


def test_targets_are_validated_per_kind_and_owned(server):
    api = TaskApi(server, register(server))
    other = TaskApi(server, register(server))
    post = lambda body: api.post("/api/notification-targets", body)  # noqa: E731

    for body, field in [
        ({"kind": "sms", "address": "+491234"}, "kind"),
        ({}, "kind"),
        ({"kind": "email", "address": "not-an-address"}, "address"),
        ({"kind": "webhook", "url": "http://example.com/hook"}, "url"),
        ({"kind": "webhook", "url": "https://127.0.0.1/hook"}, "url"),
        ({"kind": "webhook", "url": "https://169.254.169.254/latest"}, "url"),
        ({"kind": "webhook", "url": "https://user:pw@example.com/"}, "url"),
        ({"kind": "fcm", "token": "bad token with spaces"}, "token"),
        ({"kind": "webpush", "subscription": "nope"}, "subscription"),
    ]:
        resp = post(body)
        assert_problem(resp, 422, "validation-error")
        assert error_fields(resp) == [field], (body, resp.body)
    resp = post({"kind": "webpush", "subscription": {"endpoint": "https://93.184.215.14/x",
                                                      "keys": {"p256dh": "AAAA", "auth": "short"}}})
    assert error_fields(resp) == ["subscription.keys.auth", "subscription.keys.p256dh"], resp.body

    hook = post({"kind": "webhook", "url": "https://93.184.215.14/todo"})
    assert hook.status == 201, hook
    assert hook.body["secret"].startswith("whsec_") and len(hook.body["secret"]) > 40
    assert hook.headers.get("location") == f"/api/notification-targets/{hook.body['id']}"
    assert_problem(post({"kind": "webhook", "url": "https://93.184.215.14/todo"}), 409, "target-exists")
    push = post({"kind": "webpush", "subscription": {
        "endpoint": "https://93.184.215.14/sub/1",
        "keys": {"p256dh": p256_public_key_b64url(), "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}})
    assert push.status == 201, push
    assert push.body["endpoint"] == "https://93.184.215.14/sub/1"
    mail = post({"kind": "email", "address": " Me@Example.COM "})
    assert mail.status == 201 and mail.body["address"] == "me@example.com", mail
    assert post({"kind": "fcm", "token": "fcm-token:APA91b_x-1"}).status == 201

    listed = api.get("/api/notification-targets")
    assert listed.status == 200
    assert sorted(t["kind"] for t in listed.body["items"]) == ["email", "fcm", "webhook", "webpush"]
    assert all("secret" not in t for t in listed.body["items"])
    assert listed.body["default_email_used"] is False
    assert other.get("/api/notification-targets").body["items"] == []

    assert_problem(other.delete(f"/api/notification-targets/{hook.body['id']}"), 404, "target-not-found")
    assert api.delete(f"/api/notification-targets/{hook.body['id']}").status == 204
    assert_problem(api.delete(f"/api/notification-targets/{hook.body['id']}"), 404, "target-not-found")

    task = api.post("/api/tasks", {"title": "mine"}).body
    assert api.get(f"/api/tasks/{task['id']}/reminders").body == {"task_id": task["id"], "items": []}
    assert_problem(other.get(f"/api/tasks/{task['id']}/reminders"), 404, "task-not-found")
    assert_problem(server.get("/api/notification-targets"), 401, "token-missing")
    # VAPID keys are generated once into the data dir, so Web Push is configured by default.
    vapid = server.get("/api/notification-targets/vapid-public-key")
    assert vapid.status == 200, vapid
    key = base64.urlsafe_b64decode(vapid.body["public_key"] + "==")
    assert len(key) == 65 and key[0] == 4


def test_private_webhooks_are_allowed_only_with_the_flag(make_server):
    srv = make_server(args=["--allow-private-webhooks"])
    api = TaskApi(srv, register(srv))
    resp = api.post("/api/notification-targets", {"kind": "webhook", "url": "http://127.0.0.1:9/hook"})
    assert resp.status == 201, resp

"""Accounts: register, login, refresh (rotation, reuse detection), logout, /api/me, rate limits,
lockout policy, registration admission, unicode and injection."""

import datetime
import http.client
import json
import threading
import uuid

import pytest

from todo_harness import (
    RFC3339_UTC_RE,
    SECRET,
    UUID7_RE,
    assert_problem,
    assert_validation,
    decode_jwt,
    do_request,
    login,
    poll_until,
    register,
    run_cli,
    text,
    unique_email,
    unique_password,
)


@pytest.fixture(scope="module")
def alice(server):
    """A user whose profile no test changes."""
    return register(server, display_name="Alice")


@pytest.fixture(scope="module")
def bob(server):
    """A user for PATCH /api/me tests (each test sets what it checks)."""
    return register(server, display_name="Bob")


def _parse_time(value):
    assert isinstance(value, str) and RFC3339_UTC_RE.match(value), f"not RFC 3339 UTC with Z: {value!r}"
    return datetime.datetime.fromisoformat(value[:-1] + "+00:00")


def _assert_recent(value):
    t = _parse_time(value)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - t).total_seconds()) < 300, f"{value} is not close to now ({now.isoformat()})"


def assert_user(u, email=None):
    assert isinstance(u, dict), u
    for key in (
        "id",
        "email",
        "display_name",
        "timezone",
        "role",
        "default_reminders",
        "reminder_email",
        "created_at",
        "last_login_at",
    ):
        assert key in u, f"user lacks {key!r}: {u!r}"
    assert UUID7_RE.match(u["id"]), f"id is not a UUIDv7: {u['id']!r}"
    if email is not None:
        assert u["email"] == email, u
    assert u["role"] == "user", u
    assert isinstance(u["default_reminders"], list), u
    _assert_recent(u["created_at"])
    if u["last_login_at"] is not None:
        _assert_recent(u["last_login_at"])
    for secret_key in ("password", "password_hash"):
        assert secret_key not in u, u


def assert_token_response(body, user_id=None, email=None):
    assert isinstance(body, dict), body
    assert body.get("token_type") == "bearer", body
    assert body.get("expires_in") == 900, body
    access, refresh = body.get("access_token"), body.get("refresh_token")
    assert isinstance(access, str) and access.count(".") == 2, body
    assert isinstance(refresh, str) and len(refresh) >= 43, f"refresh token too short: {refresh!r}"
    assert refresh != access
    if user_id is not None:
        assert body.get("user_id") == user_id, body
    if email is not None:
        assert body.get("email") == email, body


# --------------------------------------------------------------------------------------------
# register


def test_register_returns_user_and_tokens(server):
    email, password = unique_email("reg"), unique_password()
    resp = server.post(
        "/api/auth/register",
        {"email": email, "password": password, "display_name": "Reg Istered", "timezone": "Europe/Berlin"},
    )
    assert resp.status == 201, resp
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    body = resp.body
    u = body.get("user")
    assert_user(u, email=email)
    assert u["display_name"] == "Reg Istered"
    assert u["timezone"] == "Europe/Berlin"
    assert u["default_reminders"] == []
    assert u["reminder_email"] is None
    assert_token_response(body, user_id=u["id"], email=email)
    # what clients of the system Todo replaces read: {user_id, email, message}
    assert body["user_id"] == u["id"] and body["email"] == email
    assert isinstance(body.get("message"), str) and body["message"], body
    assert password not in resp.raw.decode("utf-8")
    # the access token works right away
    status, _, me = server.get("/api/me", token=body["access_token"])
    assert status == 200, me
    assert me["id"] == u["id"] and me["email"] == email


def test_register_defaults(server):
    user = register(server)
    u = user.user
    assert_user(u, email=user.email)
    assert u["timezone"] == "UTC"
    assert u["role"] == "user"
    assert u["default_reminders"] == []
    assert u["reminder_email"] is None


def test_email_is_trimmed_lowercased_and_unique_case_insensitively(server):
    tag = uuid.uuid4().hex
    password = unique_password()
    resp = server.post(
        "/api/auth/register", {"email": f"  Alice-{tag}@Example.COM ", "password": password}
    )
    assert resp.status == 201, resp
    normalized = f"alice-{tag}@example.com"
    assert resp.body["email"] == normalized
    assert resp.body["user"]["email"] == normalized

    dup = server.post(
        "/api/auth/register", {"email": f"ALICE-{tag}@example.com", "password": unique_password()}
    )
    assert_problem(dup, 409, "email-taken")

    r = login(server, f"Alice-{tag}@EXAMPLE.com", password)
    assert r.status == 200, r
    assert r.body["email"] == normalized


def test_duplicate_email_exact_is_409(server, alice):
    resp = server.post("/api/auth/register", {"email": alice.email, "password": unique_password()})
    assert_problem(resp, 409, "email-taken")


def _valid():
    return {"email": unique_email("val"), "password": unique_password()}


# A malformed e-mail is 400 invalid-email-format and a password the policy refuses 400
# invalid-password, as the system Todo replaces answered (ADR 0018); the e-mail is reported first.
# A missing or mistyped field, or another invalid value, is 422 validation-error. `errors` names
# every invalid field either way.
EMAIL = (400, "invalid-email-format")
PASSWORD = (400, "invalid-password")
INVALID = (422, "validation-error")

REGISTER_INVALID = [
    ("email-missing", {"email": None}, {"email"}, INVALID),
    ("email-not-an-email", {"email": "not-an-email"}, {"email"}, EMAIL),
    ("email-empty", {"email": ""}, {"email"}, EMAIL),
    ("email-blank", {"email": "   "}, {"email"}, EMAIL),
    ("email-no-domain", {"email": "someone@"}, {"email"}, EMAIL),
    ("email-two-ats", {"email": "a@b@example.com"}, {"email"}, EMAIL),
    ("email-number", {"email": 42}, {"email"}, INVALID),
    ("password-missing", {"password": None}, {"password"}, INVALID),
    ("password-7-chars", {"password": "a1b2c3d"}, {"password"}, PASSWORD),
    ("password-7-code-points-14-bytes", {"password": "ößäüéñç"}, {"password"}, PASSWORD),
    ("password-257-chars", {"password": (uuid.uuid4().hex * 9)[:257]}, {"password"}, PASSWORD),
    ("password-number", {"password": 123}, {"password"}, INVALID),
    ("password-common-password", {"password": "password"}, {"password"}, PASSWORD),
    ("password-common-12345678", {"password": "12345678"}, {"password"}, PASSWORD),
    ("password-common-password1", {"password": "password1"}, {"password"}, PASSWORD),
    ("password-common-qwerty123", {"password": "qwerty123"}, {"password"}, PASSWORD),
    ("password-common-mixed-case", {"password": "PassWord1"}, {"password"}, PASSWORD),
    ("password-common-upper", {"password": "QWERTY123"}, {"password"}, PASSWORD),
    ("timezone-unknown", {"timezone": "Mars/Olympus"}, {"timezone"}, INVALID),
    ("timezone-number", {"timezone": 7}, {"timezone"}, INVALID),
    ("display-name-101", {"display_name": "d" * 101}, {"display_name"}, INVALID),
    ("display-name-number", {"display_name": 5}, {"display_name"}, INVALID),
    (
        "all-at-once",
        {"email": "bad", "password": "short", "timezone": "Mars/Olympus", "display_name": "x" * 101},
        {"email", "password", "timezone", "display_name"},
        EMAIL,
    ),
    ("password-and-timezone", {"password": "short", "timezone": "Mars/Olympus"}, {"password", "timezone"}, PASSWORD),
    ("email-and-password", {"email": "bad", "password": "short"}, {"email", "password"}, EMAIL),
    ("email-valid-password-mistyped", {"email": "bad", "password": 5}, {"email", "password"}, INVALID),
    ("empty-object", {"email": None, "password": None}, {"email", "password"}, INVALID),
]


@pytest.mark.parametrize(
    "changes,fields,expected", [c[1:] for c in REGISTER_INVALID], ids=[c[0] for c in REGISTER_INVALID]
)
def test_register_validation(server, changes, fields, expected):
    body = _valid()
    for k, v in changes.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    resp = server.post("/api/auth/register", body)
    problem = assert_problem(resp, *expected)
    got = {e["field"] for e in problem["errors"]}
    assert got == set(fields), problem


def test_rejected_registration_creates_nothing(server):
    body = _valid()
    assert_validation(server.post("/api/auth/register", dict(body, timezone="Mars/Olympus")), {"timezone"})
    resp = server.post("/api/auth/register", body)
    assert resp.status == 201, resp


REGISTER_BOUNDARIES = [
    ("password-8-code-points", {"password": "ößäüéñçå"}),
    ("password-256-chars", {"password": (uuid.uuid4().hex * 8)[:256]}),
    ("display-name-100", {"display_name": "d" * 100}),
    ("timezone-new-york", {"timezone": "America/New_York"}),
]


@pytest.mark.parametrize(
    "changes", [c[1] for c in REGISTER_BOUNDARIES], ids=[c[0] for c in REGISTER_BOUNDARIES]
)
def test_register_boundaries_are_accepted(server, changes):
    body = dict(_valid(), **changes)
    resp = server.post("/api/auth/register", body)
    assert resp.status == 201, resp
    u = resp.body["user"]
    for k in ("display_name", "timezone"):
        if k in changes:
            assert u[k] == changes[k]
    if "password" in changes:
        r = login(server, body["email"], body["password"])
        assert r.status == 200, r


# --------------------------------------------------------------------------------------------
# login


def test_login_success(server, alice):
    r = login(server, alice.email, alice.password)
    assert r.status == 200, r
    assert_token_response(r.body, user_id=alice.id, email=alice.email)
    assert r.body["refresh_token"] != alice.refresh_token
    status, _, me = server.get("/api/me", token=r.body["access_token"])
    assert status == 200, me
    assert me["id"] == alice.id
    assert me["last_login_at"] is not None, me
    _assert_recent(me["last_login_at"])


def test_login_email_is_case_insensitive(server, alice):
    r = login(server, alice.email.upper(), alice.password)
    assert r.status == 200, r
    assert r.body["user_id"] == alice.id


def test_wrong_password_and_unknown_email_look_identical(server, alice):
    wrong = login(server, alice.email, alice.password + "-wrong")
    unknown = login(server, unique_email("ghost"), alice.password)
    a = assert_problem(wrong, 401, "invalid-credentials")
    b = assert_problem(unknown, 401, "invalid-credentials")
    for key in ("type", "title", "detail", "status"):
        assert a[key] == b[key], (key, a, b)
    assert set(a) == set(b), (a, b)
    assert alice.password not in wrong.raw.decode("utf-8")


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "someone@example.com"}, {"password": "some-password-1"}],
    ids=["empty", "no-password", "no-email"],
)
def test_login_missing_fields_is_422(server, body):
    assert_problem(server.post("/api/auth/login", body), 422, "validation-error")


# --------------------------------------------------------------------------------------------
# refresh and logout


def _fresh_session(server, user):
    r = login(server, user.email, user.password)
    assert r.status == 200, r
    return r.body


def _refresh(server, token):
    return server.post("/api/auth/refresh", {"refresh_token": token})


def test_refresh_rotates_and_reuse_revokes_the_family(server, alice):
    s0 = _fresh_session(server, alice)
    r1 = _refresh(server, s0["refresh_token"])
    assert r1.status == 200, r1
    assert_token_response(r1.body, user_id=alice.id, email=alice.email)
    assert r1.body["refresh_token"] != s0["refresh_token"]
    assert r1.body["access_token"] != s0["access_token"]
    status, _, me = server.get("/api/me", token=r1.body["access_token"])
    assert status == 200 and me["id"] == alice.id, me

    r2 = _refresh(server, r1.body["refresh_token"])
    assert r2.status == 200, r2
    newest = r2.body["refresh_token"]
    assert newest not in (s0["refresh_token"], r1.body["refresh_token"])

    reused = _refresh(server, s0["refresh_token"])
    assert_problem(reused, 401, "refresh-token-reused")

    after = _refresh(server, newest)
    assert_problem(after, 401, {"refresh-token-invalid", "refresh-token-reused"})
    middle = _refresh(server, r1.body["refresh_token"])
    assert_problem(middle, 401, {"refresh-token-invalid", "refresh-token-reused"})


def test_reuse_revokes_only_its_own_family(server, alice):
    a = _fresh_session(server, alice)
    b = _fresh_session(server, alice)
    ra = _refresh(server, a["refresh_token"])
    assert ra.status == 200, ra
    assert_problem(_refresh(server, a["refresh_token"]), 401, "refresh-token-reused")
    rb = _refresh(server, b["refresh_token"])
    assert rb.status == 200, rb


@pytest.mark.parametrize(
    "token",
    ["garbage", "A" * 43, "0123456789abcdef" * 4, ""],
    ids=["garbage", "base64url-shaped", "hex-shaped", "empty"],
)
def test_refresh_unknown_token_is_401(server, token):
    resp = _refresh(server, token)
    if token == "":  # an empty string may be treated as a missing field
        assert resp.status in (401, 422), resp
        return
    assert_problem(resp, 401, "refresh-token-invalid")


def test_access_token_is_not_a_refresh_token(server, alice):
    assert_problem(_refresh(server, alice.access_token), 401, "refresh-token-invalid")


def test_refresh_missing_field_is_422(server):
    assert_problem(server.post("/api/auth/refresh", {}), 422, "validation-error")


def test_logout_revokes_the_refresh_token(server, alice):
    s = _fresh_session(server, alice)
    other = _fresh_session(server, alice)
    resp = server.post(
        "/api/auth/logout", {"refresh_token": s["refresh_token"]}, token=s["access_token"]
    )
    assert resp.status == 204, resp
    assert resp.raw == b""
    after = _refresh(server, s["refresh_token"])
    assert after.status == 401, after
    assert_problem(after, 401, {"refresh-token-invalid", "refresh-token-reused", "refresh-token-revoked"})
    # other sessions of the same user are untouched
    r = _refresh(server, other["refresh_token"])
    assert r.status == 200, r


def test_logout_of_unknown_token_is_204(server, alice):
    resp = server.post(
        "/api/auth/logout", {"refresh_token": "never-issued-" + uuid.uuid4().hex}, token=alice.access_token
    )
    assert resp.status == 204, resp


# --------------------------------------------------------------------------------------------
# /api/me


def test_get_me(server, alice):
    status, headers, me = server.get("/api/me", token=alice.access_token)
    assert status == 200, me
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert_user(me, email=alice.email)
    assert me["id"] == alice.id
    assert me["display_name"] == "Alice"
    assert me["created_at"] == alice.user["created_at"]


def test_me_without_token_is_401(server):
    resp = server.get("/api/me")
    assert_problem(resp, 401, "token-missing")


def test_patch_me_updates_all_fields(server, bob):
    changes = {
        "display_name": "Bob Builder",
        "timezone": "America/New_York",
        "default_reminders": [60, 0, 1440],
        "reminder_email": "bob-reminders@example.org",
    }
    status, _, body = server.patch("/api/me", changes, token=bob.access_token)
    assert status == 200, body
    assert_user(body, email=bob.email)
    assert body["display_name"] == "Bob Builder"
    assert body["timezone"] == "America/New_York"
    assert sorted(body["default_reminders"]) == [0, 60, 1440]
    assert body["reminder_email"] == "bob-reminders@example.org"
    status, _, me = server.get("/api/me", token=bob.access_token)
    assert status == 200
    for k in ("display_name", "timezone", "reminder_email"):
        assert me[k] == body[k], (k, me, body)
    assert sorted(me["default_reminders"]) == [0, 60, 1440]

    status, _, cleared = server.patch("/api/me", {"reminder_email": None}, token=bob.access_token)
    assert status == 200, cleared
    assert cleared["reminder_email"] is None
    assert cleared["display_name"] == "Bob Builder"  # untouched by a partial update


def test_patch_me_deduplicates_reminders(server, bob):
    status, _, body = server.patch(
        "/api/me", {"default_reminders": [60, 0, 60, 1440, 0]}, token=bob.access_token
    )
    assert status == 200, body
    assert sorted(body["default_reminders"]) == [0, 60, 1440], body


@pytest.mark.parametrize(
    "reminders",
    [[0, 40320], list(range(0, 100, 10)), []],
    ids=["bounds", "ten", "empty"],
)
def test_patch_me_reminder_boundaries(server, bob, reminders):
    status, _, body = server.patch("/api/me", {"default_reminders": reminders}, token=bob.access_token)
    assert status == 200, body
    assert sorted(body["default_reminders"]) == sorted(reminders)


PATCH_INVALID = [
    ("reminder-negative", {"default_reminders": [-1]}, {"default_reminders"}),
    ("reminder-too-large", {"default_reminders": [40321]}, {"default_reminders"}),
    ("reminders-eleven", {"default_reminders": list(range(11))}, {"default_reminders"}),
    ("reminder-string", {"default_reminders": ["5"]}, {"default_reminders"}),
    ("reminder-fraction", {"default_reminders": [1.5]}, {"default_reminders"}),
    ("reminders-not-a-list", {"default_reminders": "60"}, {"default_reminders"}),
    ("reminder-email-invalid", {"reminder_email": "not-an-email"}, {"reminder_email"}),
    ("reminder-email-number", {"reminder_email": 3}, {"reminder_email"}),
    ("timezone-unknown", {"timezone": "Mars/Olympus"}, {"timezone"}),
    ("display-name-101", {"display_name": "n" * 101}, {"display_name"}),
    ("display-name-number", {"display_name": 5}, {"display_name"}),
    (
        "several",
        {"timezone": "Mars/Olympus", "display_name": "n" * 101, "default_reminders": [-5]},
        {"timezone", "display_name", "default_reminders"},
    ),
]


@pytest.mark.parametrize("changes,fields", [c[1:] for c in PATCH_INVALID], ids=[c[0] for c in PATCH_INVALID])
def test_patch_me_validation(server, bob, changes, fields):
    assert_validation(server.patch("/api/me", changes, token=bob.access_token), fields)


def test_invalid_patch_changes_nothing(server, bob):
    status, _, before = server.patch("/api/me", {"display_name": "Before"}, token=bob.access_token)
    assert status == 200, before
    resp = server.patch(
        "/api/me", {"display_name": "After", "timezone": "Mars/Olympus"}, token=bob.access_token
    )
    assert_validation(resp, {"timezone"})
    status, _, me = server.get("/api/me", token=bob.access_token)
    assert me["display_name"] == "Before", me
    assert me["timezone"] == before["timezone"], me


def test_patch_me_ignores_unknown_fields(server, bob):
    status, _, body = server.patch(
        "/api/me", {"display_name": "Known", "frobnicate": True, "nested": {"a": 1}}, token=bob.access_token
    )
    assert status == 200, body
    assert body["display_name"] == "Known"
    assert "frobnicate" not in body


def test_patch_me_cannot_change_role_or_email(server, bob):
    resp = server.patch(
        "/api/me", {"role": "admin", "email": unique_email("hijack")}, token=bob.access_token
    )
    assert resp.status in (200, 422), resp
    status, _, me = server.get("/api/me", token=bob.access_token)
    assert status == 200
    assert me["role"] == "user", me
    assert me["email"] == bob.email, me


def test_patch_me_without_token_is_401(server):
    assert_problem(server.patch("/api/me", {"display_name": "x"}), 401, "token-missing")


# --------------------------------------------------------------------------------------------
# unicode and injection

NASTY_NAMES = ["Robert'); DROP TABLE users;--", "🦄 Ünïcødé", 'quote " back\\slash', "日本語の名前"]


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_display_names_are_stored_literally(server, bob, name):
    status, _, body = server.patch("/api/me", {"display_name": name}, token=bob.access_token)
    assert status == 200, body
    assert body["display_name"] == name
    status, _, me = server.get("/api/me", token=bob.access_token)
    assert me["display_name"] == name


@pytest.mark.parametrize("name", NASTY_NAMES[:2])
def test_register_with_nasty_display_name(server, alice, name):
    user = register(server, display_name=name)
    assert user.user["display_name"] == name
    status, _, me = server.get("/api/me", token=user.access_token)
    assert status == 200 and me["display_name"] == name, me
    # the users table is intact
    assert login(server, alice.email, alice.password).status == 200


def test_unicode_is_sent_as_utf8_json(server, bob):
    name = "🦄 Ünïcødé"
    status, _, body = server.patch("/api/me", {"display_name": name}, token=bob.access_token)
    assert status == 200
    resp = server.get("/api/me", token=bob.access_token)
    decoded = json.loads(resp.raw.decode("utf-8"))  # raw bytes must be valid UTF-8 JSON
    assert decoded["display_name"] == name


# --------------------------------------------------------------------------------------------
# rate limits


def _retry_after(resp, maximum):
    value = resp.headers.get("retry-after", "")
    assert value.isdigit(), f"Retry-After must be integer seconds: {resp.headers!r}"
    assert 1 <= int(value) <= maximum, value


def test_login_rate_limit_per_address(make_server):
    srv = make_server(args=["--login-limit-address", "5", "--login-limit-account", "1000"])
    user = register(srv)
    statuses = [
        login(srv, unique_email("nobody"), "whatever-password-1").status,
        login(srv, user.email, user.password + "-wrong").status,
        login(srv, user.email, user.password).status,
        login(srv, user.email, user.password).status,
        login(srv, user.email, user.password).status,
    ]
    assert statuses == [401, 401, 200, 200, 200], statuses
    sixth = login(srv, user.email, user.password)
    assert_problem(sixth, 429, "rate-limited")
    _retry_after(sixth, 60)
    # a spoofed X-Forwarded-For does not give a new budget
    spoofed = srv.post(
        "/api/auth/login",
        {"email": user.email, "password": user.password},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert_problem(spoofed, 429, "rate-limited")
    # other routes are unaffected
    assert srv.get("/health").status == 200
    assert srv.get("/api/me", token=user.access_token).status == 200


def _login_from(srv, address, email, password):
    """A login whose TCP connection comes from `address` (any 127.0.0.0/8 address is loopback on
    Linux), so one test can play several clients."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15, source_address=(address, 0))
    try:
        return do_request(conn, "POST", "/api/auth/login", {"email": email, "password": password})
    finally:
        conn.close()


def test_failed_logins_lock_only_the_address_they_came_from(make_server):
    srv = make_server(args=["--login-limit-account", "3", "--login-limit-address", "1000"])
    a = register(srv)  # from 127.0.0.1: the owner's address
    b = register(srv)
    attacker = "127.0.0.2"
    for _ in range(3):
        r = _login_from(srv, attacker, a.email, a.password + "-wrong")
        assert_problem(r, 401, "invalid-credentials")
    locked = _login_from(srv, attacker, a.email, a.password)
    assert_problem(locked, 429, "rate-limited")
    _retry_after(locked, 15 * 60)
    assert int(locked.headers["retry-after"]) > 10, "an unknown address is held, not just slowed"
    assert_problem(_login_from(srv, attacker, a.email.upper(), a.password), 429, "rate-limited")
    # the attacker's address can still sign in to other accounts
    assert _login_from(srv, attacker, b.email, b.password).status == 200
    # the owner is not locked out: neither from the address that created the account ...
    ok = login(srv, a.email, a.password)
    assert ok.status == 200, ok
    # ... nor from an address that never signed in to it
    ok = _login_from(srv, "127.0.0.3", a.email, a.password)
    assert ok.status == 200, ok


def test_failures_from_the_owners_own_address_only_slow_down(make_server):
    srv = make_server(args=["--login-limit-account", "3", "--login-limit-address", "1000"])
    a = register(srv)  # 127.0.0.1 becomes a known address of the account
    for _ in range(4):  # three reach the limit; the fourth is the one attempt a slowdown allows
        assert_problem(login(srv, a.email, a.password + "-wrong"), 401, "invalid-credentials")
    slowed = login(srv, a.email, a.password)
    assert_problem(slowed, 429, "rate-limited")
    _retry_after(slowed, 10)
    # within the slowdown interval the owner gets in with the right password; never a lock
    seen = []

    def owner_gets_in():
        r = login(srv, a.email, a.password)
        seen.append(r)
        if r.status == 429:
            _retry_after(r, 10)
        return r.status == 200

    poll_until(owner_gets_in, "the owner signs in after the slowdown", timeout=15.0)
    assert all(r.status in (200, 429) for r in seen), seen


def test_distributed_guessing_is_slowed_down_for_new_addresses_only(make_server):
    srv = make_server(
        args=["--login-limit-account-total", "3", "--login-limit-account", "1000", "--login-limit-address", "1000"]
    )
    a = register(srv)
    for n in (2, 3, 4):
        r = _login_from(srv, f"127.0.0.{n}", a.email, a.password + "-wrong")
        assert_problem(r, 401, "invalid-credentials")
    first = _login_from(srv, "127.0.0.5", a.email, a.password + "-wrong")
    assert_problem(first, 401, "invalid-credentials")  # one attempt per interval gets through
    slowed = _login_from(srv, "127.0.0.6", a.email, a.password)
    assert_problem(slowed, 429, "rate-limited")
    _retry_after(slowed, 10)
    ok = login(srv, a.email, a.password)  # the owner's address is exempt
    assert ok.status == 200, ok


# --------------------------------------------------------------------------------------------
# registration: rate limit and hashing admission


def _register_from(srv, address):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15, source_address=(address, 0))
    try:
        body = {"email": unique_email("limited"), "password": unique_password()}
        return do_request(conn, "POST", "/api/auth/register", body)
    finally:
        conn.close()


def test_registration_rate_limit_per_address(make_server):
    srv = make_server(args=["--register-limit-address", "3"])
    for _ in range(3):
        r = _register_from(srv, "127.0.0.1")
        assert r.status == 201, r
    over = _register_from(srv, "127.0.0.1")
    assert_problem(over, 429, "rate-limited")
    _retry_after(over, 3600)
    # another address has its own budget
    assert _register_from(srv, "127.0.0.2").status == 201
    # invalid input is still reported as such (validation comes first and costs nothing)
    bad = srv.post("/api/auth/register", {"email": "not-an-email", "password": unique_password()})
    assert_problem(bad, 400, "invalid-email-format")


def test_a_registration_storm_does_not_starve_logins(make_server):
    """64 clients registering at once: registrations beyond the hashing slots get 503 with
    Retry-After, logins keep being served (they used to get 503 without Retry-After)."""
    srv = make_server()
    owner = register(srv)
    clients = 64
    started = threading.Barrier(clients + 1)
    stop = threading.Event()
    lock = threading.Lock()
    registrations = []

    def storm():
        conn = srv.connection()
        try:
            started.wait()
            while True:
                body = {"email": unique_email("storm"), "password": unique_password()}
                r = do_request(conn, "POST", "/api/auth/register", body)
                with lock:
                    registrations.append(r)
                if stop.is_set():
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=storm, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    started.wait()
    logins = []
    try:
        for _ in range(10):
            logins.append(login(srv, owner.email, owner.password))
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    for r in logins:
        assert r.status == 200, r
    statuses = {r.status for r in registrations}
    assert statuses <= {201, 503}, [r for r in registrations if r.status not in (201, 503)][:3]
    refused = [r for r in registrations if r.status == 503]
    assert refused, "more registrations than hashing slots arrived at once: some must be refused"
    for r in refused:
        assert_problem(r, 503, "overloaded")
        _retry_after(r, 5)
    assert any(r.status == 201 for r in registrations)


# --------------------------------------------------------------------------------------------
# configuration of the account limits

ACCOUNT_LIMIT_FLAGS = [
    ("--login-limit-account-total", "TODO_LOGIN_LIMIT_ACCOUNT_TOTAL", "0"),
    ("--register-limit-address", "TODO_REGISTER_LIMIT_ADDRESS", "0"),
    ("--register-concurrency", "TODO_REGISTER_CONCURRENCY", "257"),
]


@pytest.mark.parametrize("flag,env,bad", ACCOUNT_LIMIT_FLAGS, ids=[f[0] for f in ACCOUNT_LIMIT_FLAGS])
def test_account_limit_flags_are_validated_and_documented(todo_bin, tmp_path, flag, env, bad):
    base = ["serve", "--address", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path), "--jwt-secret", SECRET]
    for args, environment in (
        (base + [flag, bad], None),
        (base + [flag, "abc"], None),
        (base, {env: bad}),
    ):
        r = run_cli(todo_bin, args, env=environment)
        err = text(r.stderr)
        assert r.returncode == 2, (args, environment, r.returncode, err)
        assert flag in err, err
    helped = run_cli(todo_bin, ["serve", "--help"])
    out = text(helped.stdout) + text(helped.stderr)
    assert flag in out and env in out, out


def test_register_concurrency_from_the_environment_is_used(make_server):
    # one slot and an environment variable instead of the flag: a serial registration still works
    srv = make_server(env={"TODO_REGISTER_CONCURRENCY": "1", "TODO_REGISTER_LIMIT_ADDRESS": "1"},
                      high_limits=False)
    assert _register_from(srv, "127.0.0.1").status == 201
    assert_problem(_register_from(srv, "127.0.0.1"), 429, "rate-limited")


# --------------------------------------------------------------------------------------------
# access-token lifetime (--access-token-ttl): for clients of the previous system, which never
# refresh (docs/operations.md)


@pytest.mark.parametrize("ttl", [60, 7 * 24 * 3600])
def test_access_token_ttl_sets_the_lifetime_of_issued_tokens(make_server, ttl):
    srv = make_server(args=["--access-token-ttl", str(ttl)])
    user = register(srv)
    for body in (user.body, login(srv, user.email, user.password).body):
        assert body["expires_in"] == ttl, body
        claims = decode_jwt(body["access_token"])[1]
        assert claims["exp"] - claims["iat"] == ttl, claims
    status, _, me = srv.get("/api/me", token=user.access_token)
    assert status == 200, me


def test_access_token_ttl_defaults_to_15_minutes(server):
    user = register(server)
    claims = decode_jwt(user.access_token)[1]
    assert claims["exp"] - claims["iat"] == 900 and user.body["expires_in"] == 900

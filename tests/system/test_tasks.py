"""Tasks: create (defaults, validation, normalisation, due dates and time zones, literal text),
Idempotency-Key, GET with ETag, PATCH, PUT, complete/reopen, DELETE, If-Match, isolation.

The contract is docs/api/tasks.md. Every test registers its own users."""

import uuid

import pytest

from task_harness import (
    TASK_KEYS,
    assert_invalid,
    assert_recent,
    assert_task,
    assert_task_not_found,
    error_list,
    etag,
    instant,
    new_api,
    set_me,
    utc,
    without,
)
from todo_harness import assert_problem

MISSING = object()  # a test case removes the field from the body


def _body(changes, base=None):
    body = dict(base if base is not None else {"title": "Valid title"})
    for k, v in changes.items():
        if v is MISSING:
            body.pop(k, None)
        else:
            body[k] = v
    return body


# --------------------------------------------------------------------------------------------
# create


def test_create_returns_201_location_etag_and_the_task(api):
    resp = api.create_resp({"title": "Pay rent"})
    assert resp.status == 201, resp
    assert resp.headers.get("content-type", "").split(";")[0].strip() == "application/json", resp
    t = assert_task(resp.body, api.id)
    assert resp.headers.get("location") == f"/api/tasks/{t['id']}", resp.headers
    assert resp.headers.get("etag") == '"1"', resp.headers
    assert t["title"] == "Pay rent"
    assert_recent(t["created_at"])
    assert_recent(t["updated_at"])
    assert api.task(t["id"]) == t


def test_create_defaults(api):
    t = api.create("Defaults")
    assert t["description"] is None
    assert t["status"] == "pending"
    assert t["priority"] == "medium"
    assert t["tags"] == []
    assert t["due_date"] is None
    assert t["all_day"] is False
    assert t["timezone"] == "UTC"  # the user's (registered without a time zone)
    assert t["recurrence"] is None
    assert t["recurrence_mode"] == "due"
    assert t["series_id"] is None
    assert t["reminders"] == []  # the user's default_reminders
    assert t["version"] == 1
    assert t["completed_at"] is None


def test_create_with_every_field(api):
    body = {
        "title": "Pay rent",
        "description": "Transfer to the landlord",
        "priority": "high",
        "tags": ["home", "money"],
        "due_date": "2026-12-01T09:00:00+01:00",
        "timezone": "Europe/Berlin",
        "recurrence": "monthly",
        "recurrence_mode": "strict",
        "reminders": [60, 15],
    }
    t = api.create(**body)
    assert t["title"] == "Pay rent"
    assert t["description"] == "Transfer to the landlord"
    assert t["priority"] == "high"
    assert t["tags"] == ["home", "money"]
    assert instant(t["due_date"]) == utc("2026-12-01T08:00:00")
    assert t["all_day"] is False
    assert t["timezone"] == "Europe/Berlin"
    assert t["recurrence"] == "monthly"
    assert t["recurrence_mode"] == "strict"
    assert t["series_id"] == t["id"]
    assert t["reminders"] == [15, 60]
    assert t["status"] == "pending"
    assert t["version"] == 1


def test_create_completed_task(api):
    t = api.create("Done already", status="completed")
    assert t["status"] == "completed"
    assert_recent(t["completed_at"])


def test_ids_are_distinct(api):
    ids = {api.create()["id"] for _ in range(3)}
    assert len(ids) == 3


def test_timezone_defaults_to_the_users(server):
    api = new_api(server, timezone="Europe/Berlin")
    assert api.create("Berlin")["timezone"] == "Europe/Berlin"
    assert api.create("Tokyo", timezone="Asia/Tokyo")["timezone"] == "Asia/Tokyo"


def test_reminders_default_to_the_users_default_reminders(api):
    set_me(api, default_reminders=[60, 15])
    due = "2026-12-01T09:00:00Z"
    assert api.create("Defaulted", due_date=due)["reminders"] == [15, 60]
    assert api.create("Explicitly none", due_date=due, reminders=[])["reminders"] == []
    assert api.create("Own", due_date=due, reminders=[5])["reminders"] == [5]


@pytest.mark.parametrize(
    "recurrence,stored",
    [
        ("daily", "daily"),
        ("weekly", "weekly"),
        ("monthly", "monthly"),
        ("yearly", "yearly"),
        ("rrule:freq=weekly;interval=2;byday=tu", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("none", None),
    ],
)
def test_recurrence_is_stored_in_canonical_form(api, recurrence, stored):
    t = api.create("Recurring", recurrence=recurrence, due_date="2026-12-01T09:00:00Z")
    assert t["recurrence"] == stored, t
    if stored is None:
        assert t["series_id"] is None, t
    else:
        assert t["series_id"] == t["id"], t


@pytest.mark.parametrize("mode", ["due", "strict", "completion"])
def test_recurrence_modes(api, mode):
    t = api.create("Mode", recurrence="daily", recurrence_mode=mode)
    assert t["recurrence_mode"] == mode


# -- validation -------------------------------------------------------------------------------

CREATE_INVALID = [
    ("title-missing", {"title": MISSING}, {"title"}),
    ("title-empty", {"title": ""}, {"title"}),
    ("title-blank", {"title": "   \t  "}, {"title"}),
    ("title-201", {"title": "x" * 201}, {"title"}),
    ("title-201-emoji", {"title": "😀" * 201}, {"title"}),
    ("title-201-code-points-101-graphemes", {"title": "👍🏽" * 100 + "x"}, {"title"}),
    ("title-number", {"title": 123}, {"title"}),
    ("title-null", {"title": None}, {"title"}),
    ("title-list", {"title": ["a"]}, {"title"}),
    ("description-2001", {"description": "d" * 2001}, {"description"}),
    ("description-number", {"description": 5}, {"description"}),
    ("priority-urgent", {"priority": "urgent"}, {"priority"}),
    ("priority-number", {"priority": 3}, {"priority"}),
    ("status-done", {"status": "done"}, {"status"}),
    ("tags-11", {"tags": [f"tag{i}" for i in range(11)]}, {"tags"}),
    ("tag-51", {"tags": ["a" * 51]}, {"tags"}),
    ("tag-blank", {"tags": ["ok", "   "]}, {"tags"}),
    ("tag-empty", {"tags": [""]}, {"tags"}),
    ("tags-string", {"tags": "home"}, {"tags"}),
    ("tag-number", {"tags": [1]}, {"tags"}),
    ("tag-null", {"tags": [None]}, {"tags"}),
    ("tags-object", {"tags": {"a": 1}}, {"tags"}),
    ("reminder-negative", {"reminders": [-1]}, {"reminders"}),
    ("reminder-40321", {"reminders": [40321]}, {"reminders"}),
    ("reminders-11", {"reminders": list(range(11))}, {"reminders"}),
    ("reminder-string", {"reminders": ["5"]}, {"reminders"}),
    ("reminder-fraction", {"reminders": [1.5]}, {"reminders"}),
    ("reminder-bool", {"reminders": [True]}, {"reminders"}),
    ("reminders-string", {"reminders": "15"}, {"reminders"}),
    ("due-garbage", {"due_date": "tomorrow"}, {"due_date"}),
    ("due-feb-30", {"due_date": "2026-02-30"}, {"due_date"}),
    ("due-month-13", {"due_date": "2026-13-01T09:00:00Z"}, {"due_date"}),
    ("due-hour-25", {"due_date": "2026-12-01T25:00"}, {"due_date"}),
    ("due-number", {"due_date": 20261201}, {"due_date"}),
    ("timezone-mars", {"timezone": "Mars/Base"}, {"timezone"}),
    ("timezone-number", {"timezone": 1}, {"timezone"}),
    ("recurrence-freq", {"recurrence": "FREQ=SOMETIMES"}, {"recurrence"}),
    ("recurrence-prose", {"recurrence": "every other tuesday"}, {"recurrence"}),
    ("recurrence-byday", {"recurrence": "FREQ=WEEKLY;BYDAY=XX"}, {"recurrence"}),
    ("recurrence-number", {"recurrence": 7}, {"recurrence"}),
    ("recurrence-mode", {"recurrence_mode": "sometimes"}, {"recurrence_mode"}),
    (
        "several",
        {
            "title": "",
            "description": "d" * 2001,
            "priority": "urgent",
            "tags": "home",
            "reminders": [-1],
            "due_date": "nope",
            "timezone": "Mars/Base",
            "recurrence": "FREQ=SOMETIMES",
            "recurrence_mode": "sometimes",
        },
        {
            "title",
            "description",
            "priority",
            "tags",
            "reminders",
            "due_date",
            "timezone",
            "recurrence",
            "recurrence_mode",
        },
    ),
]


@pytest.mark.parametrize("changes,fields", [c[1:] for c in CREATE_INVALID], ids=[c[0] for c in CREATE_INVALID])
def test_create_validation(api, changes, fields):
    assert_invalid(api.create_resp(_body(changes)), fields)
    assert api.ids() == [], "a rejected create must create nothing"


def test_byday_error_names_byday(api):
    body = assert_invalid(api.create_resp({"title": "x", "recurrence": "FREQ=WEEKLY;BYDAY=XX"}), {"recurrence"})
    reasons = [e["reason"] for e in error_list(body)]
    assert any("BYDAY" in r.upper() for r in reasons), f"the reason should mention BYDAY: {body!r}"


def test_title_with_wrong_type_is_reported_like_any_invalid_field(api):
    body = assert_invalid(api.create_resp({"title": 123, "priority": "urgent"}), {"title", "priority"})
    assert body["status"] == 422


@pytest.mark.parametrize(
    "title,stored",
    [
        ("a", "a"),
        ("x" * 200, "x" * 200),
        ("😀" * 200, "😀" * 200),
        ("👍🏽" * 100, "👍🏽" * 100),  # 200 code points, 100 graphemes
        ("  " + "y" * 200 + "\t ", "y" * 200),  # trimmed first, then counted
        ("  Pay rent  ", "Pay rent"),
    ],
    ids=["one", "200-ascii", "200-emoji", "200-code-points", "200-after-trim", "trimmed"],
)
def test_title_is_trimmed_and_counted_in_code_points(api, title, stored):
    assert api.create(title)["title"] == stored


def test_description_boundaries(api):
    assert api.create(description="d" * 2000)["description"] == "d" * 2000
    assert api.create(description="é" * 2000)["description"] == "é" * 2000
    assert api.create(description=None)["description"] is None


def test_tags_are_trimmed_lowercased_and_deduplicated_in_order(api):
    t = api.create(tags=[" Home ", "WORK", "home", "ÜBER", "über", "  Work  ", "Ärger"])
    assert t["tags"] == ["home", "work", "über", "ärger"]


def test_tag_boundaries(api):
    tags = [f"tag{i}" for i in range(9)] + ["b" * 50]
    assert api.create(tags=tags)["tags"] == tags
    assert api.create(tags=["  " + "c" * 50 + "  "])["tags"] == ["c" * 50]
    assert api.create(tags=[])["tags"] == []


def test_reminders_are_sorted_and_deduplicated(api):
    t = api.create(due_date="2026-12-01T09:00:00Z", reminders=[60, 0, 60, 15, 40320])
    assert t["reminders"] == [0, 15, 60, 40320]
    ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert api.create(reminders=list(reversed(ten)))["reminders"] == ten


# -- due dates and time zones -------------------------------------------------------------------

DUE_CASES = [
    # (user time zone, body fields, expected UTC instant, all_day, expected task time zone)
    ("UTC", {"due_date": "2026-12-01T09:00:00+01:00"}, "2026-12-01T08:00:00", False, "UTC"),
    ("UTC", {"due_date": "2026-12-01T08:00:00Z"}, "2026-12-01T08:00:00", False, "UTC"),
    ("UTC", {"due_date": "2026-12-01T03:00:00-05:00"}, "2026-12-01T08:00:00", False, "UTC"),
    ("UTC", {"due_date": "2026-12-01T08:00:00.500Z"}, "2026-12-01T08:00:00.500", False, "UTC"),
    (
        "UTC",
        {"due_date": "2026-12-01T09:00:00+01:00", "timezone": "America/New_York"},
        "2026-12-01T08:00:00",
        False,
        "America/New_York",
    ),
    ("UTC", {"due_date": "2026-07-01T09:00", "timezone": "Europe/Berlin"}, "2026-07-01T07:00:00", False, "Europe/Berlin"),
    ("UTC", {"due_date": "2026-07-01T09:00:00", "timezone": "Europe/Berlin"}, "2026-07-01T07:00:00", False, "Europe/Berlin"),
    ("UTC", {"due_date": "2026-12-01T09:00", "timezone": "Europe/Berlin"}, "2026-12-01T08:00:00", False, "Europe/Berlin"),
    (
        "UTC",
        {"due_date": "2026-07-01T09:00", "timezone": "America/New_York"},
        "2026-07-01T13:00:00",
        False,
        "America/New_York",
    ),
    # 02:30 does not exist on 2026-03-08 in New York: moved forward by the gap (03:30 EDT)
    (
        "UTC",
        {"due_date": "2026-03-08T02:30", "timezone": "America/New_York"},
        "2026-03-08T07:30:00",
        False,
        "America/New_York",
    ),
    # 01:30 happens twice on 2026-11-01 in New York: the first one (EDT)
    (
        "UTC",
        {"due_date": "2026-11-01T01:30", "timezone": "America/New_York"},
        "2026-11-01T05:30:00",
        False,
        "America/New_York",
    ),
    ("UTC", {"due_date": "2026-12-01", "timezone": "Europe/Berlin"}, "2026-11-30T23:00:00", True, "Europe/Berlin"),
    ("UTC", {"due_date": "2026-07-01", "timezone": "America/New_York"}, "2026-07-01T04:00:00", True, "America/New_York"),
    ("UTC", {"due_date": "2026-07-01T09:00"}, "2026-07-01T09:00:00", False, "UTC"),
    ("UTC", {"due_date": "2026-07-01"}, "2026-07-01T00:00:00", True, "UTC"),
    ("Asia/Tokyo", {"due_date": "2026-07-01T09:00"}, "2026-07-01T00:00:00", False, "Asia/Tokyo"),
    ("Asia/Tokyo", {"due_date": "2026-12-01"}, "2026-11-30T15:00:00", True, "Asia/Tokyo"),
    # the task's time zone wins over the user's
    (
        "Asia/Tokyo",
        {"due_date": "2026-07-01T09:00", "timezone": "Europe/Berlin"},
        "2026-07-01T07:00:00",
        False,
        "Europe/Berlin",
    ),
]


@pytest.mark.parametrize(
    "user_tz,fields,expected,all_day,task_tz",
    DUE_CASES,
    ids=[f"{c[0]}:{c[1]['due_date']}:{c[1].get('timezone', '-')}".replace("/", "_") for c in DUE_CASES],
)
def test_due_date_forms(server, user_tz, fields, expected, all_day, task_tz):
    api = new_api(server, timezone=user_tz)
    t = api.create("Due", **fields)
    assert t["due_date"].endswith("Z"), t
    assert instant(t["due_date"]) == utc(expected), t
    assert t["all_day"] is all_day, t
    assert t["timezone"] == task_tz, t
    assert api.task(t["id"])["due_date"] == t["due_date"]


# -- literal text -------------------------------------------------------------------------------

LITERAL_TEXTS = [
    "'; DROP TABLE tasks; --",
    "Robert'); DROP TABLE users;--",
    "<script>alert(1)</script>",
    "😀👍🏽",
    "שלום עולם",
    '"quoted" \\backslash\\ %s %n {0} ${x}',
    "\\u0000 is not a NUL",
]


@pytest.mark.parametrize("text", LITERAL_TEXTS, ids=range(len(LITERAL_TEXTS)))
def test_text_is_stored_and_returned_literally(api, text):
    description = f"{text}\nsecond line\twith a tab"
    t = api.create(text, description=description, tags=[text.lower()[:50]])
    assert t["title"] == text
    assert t["description"] == description
    assert t["tags"] == [text.lower()[:50].strip()]
    got = api.task(t["id"])
    assert got["title"] == text and got["description"] == description
    listed = api.page({"limit": 500})["items"]
    assert [x["title"] for x in listed] == [text]


@pytest.mark.parametrize("field", ["title", "description"])
def test_nul_character_is_refused_or_kept_but_never_a_server_error(api, field):
    value = "a\u0000b"
    body = {"title": "NUL test"}
    body[field] = value
    resp = api.create_resp(body)
    assert resp.status in (201, 422), resp
    if resp.status == 201:
        assert resp.body[field] == value
        assert api.task(resp.body["id"])[field] == value
    else:
        assert_invalid(resp, {field})


def test_invalid_utf8_body_is_400(api):
    resp = api.post("/api/tasks", raw_body=b'{"title":"\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert_problem(resp, 400, "invalid-utf8")
    assert api.ids() == []


def test_malformed_json_is_400(api):
    resp = api.post("/api/tasks", raw_body=b'{"title": ', headers={"Content-Type": "application/json"})
    assert_problem(resp, 400, "malformed-json")


@pytest.mark.parametrize("raw", [b"[]", b'"a string"', b"null"])
def test_body_that_is_not_an_object_is_422(api, raw):
    resp = api.post("/api/tasks", raw_body=raw, headers={"Content-Type": "application/json"})
    assert_problem(resp, 422, "validation-error")
    assert api.ids() == []


def test_unknown_and_read_only_fields_are_ignored(api, other_api):
    forged_id = str(uuid.uuid4())
    t = api.create(
        "Mine",
        frobnicate=True,
        nested={"a": 1},
        id=forged_id,
        user_id=other_api.id,
        version=42,
        created_at="2000-01-01T00:00:00Z",
        completed_at="2000-01-01T00:00:00Z",
    )
    assert t["id"] != forged_id
    assert t["user_id"] == api.id
    assert t["version"] == 1
    assert_recent(t["created_at"])
    assert t["completed_at"] is None
    assert other_api.ids() == []


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/tasks"),
        ("POST", "/api/tasks"),
        ("GET", "/api/tasks/{id}"),
        ("PATCH", "/api/tasks/{id}"),
        ("PUT", "/api/tasks/{id}"),
        ("DELETE", "/api/tasks/{id}"),
        ("POST", "/api/tasks/{id}/complete"),
        ("POST", "/api/tasks/{id}/reopen"),
        ("GET", "/api/sync"),
    ],
)
def test_every_route_needs_a_token(server, api, method, path):
    t = api.create()
    path = path.format(id=t["id"])
    body = {"title": "x"} if (method in ("PATCH", "PUT") or path == "/api/tasks" and method == "POST") else None
    resp = server.request(method, path, body=body)
    assert_problem(resp, 401, "token-missing")
    assert api.task(t["id"]) == t


def test_collection_rejects_other_methods_with_405(api):
    resp = api.delete("/api/tasks")
    assert_problem(resp, 405, "method-not-allowed")
    allow = {m.upper() for m in resp.header_tokens("allow")}
    assert {"GET", "POST"} <= allow, resp.headers


# --------------------------------------------------------------------------------------------
# Idempotency-Key


def test_idempotent_retry_replays_the_first_response(api):
    key = str(uuid.uuid4())
    body = {"title": "Only once", "tags": ["a"]}
    first = api.create_resp(body, headers={"Idempotency-Key": key})
    assert first.status == 201, first
    assert first.headers.get("idempotent-replayed", "").lower() != "true", first.headers
    second = api.create_resp(body, headers={"Idempotency-Key": key})
    assert second.status == 201, second
    assert second.body == first.body
    assert second.headers.get("location") == first.headers.get("location")
    assert second.headers.get("etag") == first.headers.get("etag")
    assert second.headers.get("idempotent-replayed", "").lower() == "true", second.headers
    assert api.ids() == [first.body["id"]]


def test_idempotency_key_with_another_body_is_422(api):
    key = str(uuid.uuid4())
    first = api.create_resp({"title": "First"}, headers={"Idempotency-Key": key})
    assert first.status == 201, first
    resp = api.create_resp({"title": "Second"}, headers={"Idempotency-Key": key})
    assert_problem(resp, 422, "idempotency-key-reused")
    assert api.ids() == [first.body["id"]]
    assert api.task(first.body["id"])["title"] == "First"


def test_idempotency_keys_are_per_user(api, other_api):
    key = str(uuid.uuid4())
    body = {"title": "Same key, two users"}
    a = api.create_resp(body, headers={"Idempotency-Key": key})
    b = other_api.create_resp(body, headers={"Idempotency-Key": key})
    assert a.status == 201 and b.status == 201, (a, b)
    assert b.headers.get("idempotent-replayed", "").lower() != "true", b.headers
    assert a.body["id"] != b.body["id"]
    assert b.body["user_id"] == other_api.id
    assert api.ids() == [a.body["id"]]
    assert other_api.ids() == [b.body["id"]]


def test_different_keys_create_different_tasks(api):
    body = {"title": "Twice"}
    a = api.create_resp(body, headers={"Idempotency-Key": str(uuid.uuid4())})
    b = api.create_resp(body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert a.status == 201 and b.status == 201
    assert sorted(api.ids()) == sorted([a.body["id"], b.body["id"]])


def test_idempotency_key_length(api):
    ok = api.create_resp({"title": "200-char key"}, headers={"Idempotency-Key": "k" * 200})
    assert ok.status == 201, ok
    resp = api.create_resp({"title": "201-char key"}, headers={"Idempotency-Key": "k" * 201})
    assert resp.status in (400, 422), resp
    assert_problem(resp, resp.status, {"bad-request", "validation-error"})
    assert api.ids() == [ok.body["id"]]


def test_a_rejected_create_is_replayed_or_refused_but_creates_nothing(api):
    key = str(uuid.uuid4())
    bad = api.create_resp({"title": ""}, headers={"Idempotency-Key": key})
    assert_invalid(bad, {"title"})
    again = api.create_resp({"title": ""}, headers={"Idempotency-Key": key})
    assert again.status == 422, again
    assert api.ids() == []


# --------------------------------------------------------------------------------------------
# GET one


def test_get_returns_the_task_with_its_etag(api):
    t = api.create("Read me")
    resp = api.task_resp(t["id"])
    assert resp.status == 200, resp
    assert resp.body == t
    assert resp.headers.get("etag") == '"1"', resp.headers


def test_if_none_match(api):
    t = api.create("Cached")
    resp = api.task_resp(t["id"], headers={"If-None-Match": '"1"'})
    assert resp.status == 304, resp
    assert resp.raw == b"", resp
    changed = api.update(t["id"], {"title": "Changed"})
    assert changed["version"] == 2
    stale = api.task_resp(t["id"], headers={"If-None-Match": '"1"'})
    assert stale.status == 200, stale
    assert stale.body == changed
    assert stale.headers.get("etag") == '"2"', stale.headers
    assert api.task_resp(t["id"], headers={"If-None-Match": '"2"'}).status == 304


ROUTES_ON_ONE_TASK = [
    ("GET", "/api/tasks/{id}", None),
    ("PATCH", "/api/tasks/{id}", {"title": "Hijacked"}),
    ("PUT", "/api/tasks/{id}", {"title": "Hijacked"}),
    ("DELETE", "/api/tasks/{id}", None),
    ("POST", "/api/tasks/{id}/complete", None),
    ("POST", "/api/tasks/{id}/reopen", None),
]


@pytest.mark.parametrize(
    "task_id",
    ["0193e4a0-0000-7000-8000-000000000000", str(uuid.uuid4()), "not-a-uuid", "123", "x" * 300],
    ids=["uuid7", "uuid4", "word", "number", "long"],
)
def test_unknown_or_malformed_id_is_task_not_found_on_every_route(api, task_id):
    for method, path, body in ROUTES_ON_ONE_TASK:
        resp = api.request(method, path.format(id=task_id), body=body)
        assert_task_not_found(resp)


def test_another_users_task_is_404_on_every_route(api, other_api):
    t = api.create("Private", description="secret", tags=["mine"])
    for headers in (None, {"If-Match": '"1"'}):
        for method, path, body in ROUTES_ON_ONE_TASK:
            resp = other_api.request(method, path.format(id=t["id"]), body=body, headers=headers)
            assert_task_not_found(resp)
            assert "secret" not in resp.raw.decode("utf-8", "replace")
    assert api.task(t["id"]) == t
    assert other_api.ids() == []
    assert other_api.ids({"q": "Private"}) == []
    assert api.ids() == [t["id"]]


# --------------------------------------------------------------------------------------------
# PATCH


def _full_task(api, **overrides):
    fields = dict(
        description="Some details",
        priority="high",
        tags=["home", "work"],
        due_date="2026-12-01T09:00:00Z",
        timezone="Europe/Berlin",
        recurrence="weekly",
        recurrence_mode="strict",
        reminders=[15, 60],
    )
    fields.update(overrides)
    return api.create("Full task", **fields)


def test_patch_changes_only_the_given_fields(api):
    t = _full_task(api)
    resp = api.patch(f"/api/tasks/{t['id']}", {"title": "  Renamed  "})
    assert resp.status == 200, resp
    u = assert_task(resp.body, api.id)
    assert resp.headers.get("etag") == '"2"', resp.headers
    assert u["title"] == "Renamed"
    assert u["version"] == 2
    assert without(u, "title", "version", "updated_at") == without(t, "title", "version", "updated_at")
    assert instant(u["updated_at"]) >= instant(t["updated_at"])
    assert api.task(t["id"]) == u


def test_patch_each_field(api):
    t = api.create("Each field")
    changes = [
        ({"description": "Now described"}, "description", "Now described"),
        ({"priority": "low"}, "priority", "low"),
        ({"tags": [" B ", "a", "b"]}, "tags", ["b", "a"]),
        ({"timezone": "Asia/Tokyo"}, "timezone", "Asia/Tokyo"),
        ({"recurrence": "rrule:freq=daily;interval=3"}, "recurrence", "FREQ=DAILY;INTERVAL=3"),
        ({"recurrence_mode": "completion"}, "recurrence_mode", "completion"),
        ({"reminders": [30, 5, 30]}, "reminders", [5, 30]),
    ]
    version = 1
    for body, field, expected in changes:
        u = api.update(t["id"], body)
        version += 1
        assert u[field] == expected, (body, u)
        assert u["version"] == version, (body, u)


def test_patch_null_clears(api):
    t = _full_task(api)
    u = api.update(t["id"], {"description": None, "due_date": None, "recurrence": None, "tags": None, "reminders": None})
    assert u["description"] is None
    assert u["due_date"] is None
    assert u["all_day"] is False
    assert u["recurrence"] is None
    assert u["tags"] == []
    assert u["reminders"] == []
    assert u["title"] == t["title"] and u["priority"] == "high" and u["timezone"] == "Europe/Berlin"
    assert u["version"] == 2


def test_patch_adding_a_recurrence_gives_a_series_id(api):
    t = api.create("Becomes recurring")
    assert t["series_id"] is None
    u = api.update(t["id"], {"recurrence": "daily"})
    assert u["recurrence"] == "daily"
    assert u["series_id"] == t["id"]


PATCH_INVALID = [
    ("title-null", {"title": None}, {"title"}),
    ("title-empty", {"title": ""}, {"title"}),
    ("title-blank", {"title": "   "}, {"title"}),
    ("title-number", {"title": 123}, {"title"}),
    ("title-201", {"title": "x" * 201}, {"title"}),
    ("description-2001", {"description": "d" * 2001}, {"description"}),
    ("priority-urgent", {"priority": "urgent"}, {"priority"}),
    ("status-done", {"status": "done"}, {"status"}),
    ("tags-11", {"tags": [f"t{i}" for i in range(11)]}, {"tags"}),
    ("reminder-negative", {"reminders": [-1]}, {"reminders"}),
    ("due-feb-30", {"due_date": "2026-02-30"}, {"due_date"}),
    ("timezone-mars", {"timezone": "Mars/Base"}, {"timezone"}),
    ("recurrence-freq", {"recurrence": "FREQ=SOMETIMES"}, {"recurrence"}),
    ("recurrence-mode", {"recurrence_mode": "sometimes"}, {"recurrence_mode"}),
    ("several", {"title": "Fine", "priority": "urgent", "timezone": "Mars/Base"}, {"priority", "timezone"}),
]


@pytest.mark.parametrize("changes,fields", [c[1:] for c in PATCH_INVALID], ids=[c[0] for c in PATCH_INVALID])
def test_patch_validation_changes_nothing(api, changes, fields):
    t = _full_task(api)
    assert_invalid(api.patch(f"/api/tasks/{t['id']}", changes), fields)
    assert api.task(t["id"]) == t


def test_patch_with_stale_if_match_is_412_with_the_current_task(api):
    t = api.create("Contended")
    current = api.update(t["id"], {"priority": "high"})
    resp = api.patch(f"/api/tasks/{t['id']}", {"title": "Lost update"}, headers={"If-Match": '"1"'})
    body = assert_problem(resp, 412, "version-conflict")
    assert body.get("task") == current, body
    assert api.task(t["id"]) == current


def test_patch_with_current_if_match_succeeds(api):
    t = api.create("Guarded")
    resp = api.patch(f"/api/tasks/{t['id']}", {"title": "Guarded update"}, headers={"If-Match": '"1"'})
    assert resp.status == 200, resp
    assert resp.body["version"] == 2 and resp.body["title"] == "Guarded update"
    assert resp.headers.get("etag") == '"2"'


def test_patch_that_changes_nothing_keeps_the_version(api):
    t = _full_task(api)
    for same in (
        {},
        {"title": t["title"], "priority": "high"},
        {"title": f"  {t['title']}  "},
        {"tags": ["HOME", "work", "home"]},
        {"reminders": [60, 15, 60]},
        {"due_date": "2026-12-01T10:00:00+01:00"},
        {"status": "pending"},
    ):
        resp = api.patch(f"/api/tasks/{t['id']}", same)
        assert resp.status == 200, (same, resp)
        assert resp.body == t, f"{same} changed the task: {resp.body!r}"
        assert resp.headers.get("etag") == '"1"', resp.headers
    assert api.task(t["id"]) == t


def test_patch_status_completes_and_reopens(api):
    t = api.create("Via PATCH")
    done = api.update(t["id"], {"status": "completed"})
    assert done["status"] == "completed" and done["version"] == 2
    assert_recent(done["completed_at"])
    again = api.update(t["id"], {"status": "pending"})
    assert again["status"] == "pending" and again["completed_at"] is None and again["version"] == 3


def test_patch_wall_time_is_read_in_the_tasks_time_zone(api):
    t = api.create("Zoned", timezone="America/New_York")
    u = api.update(t["id"], {"due_date": "2026-07-01T09:00"})
    assert instant(u["due_date"]) == utc("2026-07-01T13:00:00")
    assert u["timezone"] == "America/New_York"
    v = api.update(t["id"], {"due_date": "2026-07-01T09:00", "timezone": "Asia/Tokyo"})
    assert instant(v["due_date"]) == utc("2026-07-01T00:00:00")
    assert v["timezone"] == "Asia/Tokyo"
    w = api.update(t["id"], {"due_date": "2026-12-01"})
    assert w["all_day"] is True
    assert instant(w["due_date"]) == utc("2026-11-30T15:00:00")
    x = api.update(t["id"], {"due_date": "2026-12-01T12:00:00Z"})
    assert x["all_day"] is False
    assert instant(x["due_date"]) == utc("2026-12-01T12:00:00")


def test_patch_ignores_read_only_fields(api, other_api):
    t = api.create("Read-only fields")
    u = api.update(t["id"], {"title": "Renamed", "version": 99, "user_id": other_api.id, "id": str(uuid.uuid4())})
    assert u["id"] == t["id"] and u["user_id"] == api.id and u["version"] == 2
    assert other_api.ids() == []


# --------------------------------------------------------------------------------------------
# PUT


def test_put_resets_absent_fields_to_their_defaults(api):
    t = _full_task(api)
    resp = api.put(f"/api/tasks/{t['id']}", {"title": "Replaced"})
    assert resp.status == 200, resp
    u = assert_task(resp.body, api.id)
    assert resp.headers.get("etag") == '"2"', resp.headers
    assert u["id"] == t["id"] and u["created_at"] == t["created_at"]
    assert u["title"] == "Replaced"
    assert u["description"] is None
    assert u["status"] == "pending"
    assert u["priority"] == "medium"
    assert u["tags"] == []
    assert u["due_date"] is None
    assert u["all_day"] is False
    assert u["timezone"] == "UTC"  # the user's
    assert u["recurrence"] is None
    assert u["recurrence_mode"] == "due"
    assert u["reminders"] == []  # the user's default_reminders
    assert u["version"] == 2
    assert api.task(t["id"]) == u


def test_put_sets_every_given_field(api):
    t = api.create("Before")
    body = {
        "title": "After",
        "description": "New",
        "priority": "low",
        "tags": ["X"],
        "due_date": "2026-07-01T09:00",
        "timezone": "Europe/Berlin",
        "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1",
        "recurrence_mode": "completion",
        "reminders": [10],
    }
    resp = api.put(f"/api/tasks/{t['id']}", body)
    assert resp.status == 200, resp
    u = resp.body
    assert u["title"] == "After" and u["description"] == "New" and u["priority"] == "low"
    assert u["tags"] == ["x"]
    assert instant(u["due_date"]) == utc("2026-07-01T07:00:00")
    assert u["timezone"] == "Europe/Berlin"
    assert u["recurrence"] == "FREQ=MONTHLY;BYMONTHDAY=1"
    assert u["series_id"] == t["id"]
    assert u["recurrence_mode"] == "completion"
    assert u["reminders"] == [10]
    assert u["version"] == 2


@pytest.mark.parametrize(
    "body,fields",
    [
        ({"description": "no title"}, {"title"}),
        ({}, {"title"}),
        ({"title": None}, {"title"}),
        ({"title": "ok", "priority": "urgent", "reminders": [40321]}, {"priority", "reminders"}),
    ],
    ids=["title-missing", "empty", "title-null", "several"],
)
def test_put_validation_changes_nothing(api, body, fields):
    t = _full_task(api)
    assert_invalid(api.put(f"/api/tasks/{t['id']}", body), fields)
    assert api.task(t["id"]) == t


def test_put_if_match(api):
    t = api.create("Put guarded")
    current = api.update(t["id"], {"priority": "low"})
    stale = api.put(f"/api/tasks/{t['id']}", {"title": "Lost"}, headers={"If-Match": '"1"'})
    body = assert_problem(stale, 412, "version-conflict")
    assert body.get("task") == current
    ok = api.put(f"/api/tasks/{t['id']}", {"title": "Won"}, headers={"If-Match": '"2"'})
    assert ok.status == 200, ok
    assert ok.body["title"] == "Won" and ok.body["version"] == 3


# --------------------------------------------------------------------------------------------
# complete / reopen


def test_complete_and_reopen_are_idempotent(api):
    t = api.create("Lifecycle")
    resp = api.complete(t["id"])
    assert resp.status == 200, resp
    done = assert_task(resp.body, api.id)
    assert resp.headers.get("etag") == '"2"', resp.headers
    assert done["status"] == "completed" and done["version"] == 2
    assert_recent(done["completed_at"])
    assert without(done, "status", "completed_at", "version", "updated_at") == without(
        t, "status", "completed_at", "version", "updated_at"
    )

    again = api.complete(t["id"])
    assert again.status == 200, again
    assert again.body == done, "a second complete changes nothing"

    resp = api.reopen(t["id"])
    assert resp.status == 200, resp
    reopened = resp.body
    assert reopened["status"] == "pending" and reopened["completed_at"] is None and reopened["version"] == 3

    again = api.reopen(t["id"])
    assert again.status == 200, again
    assert again.body == reopened
    assert api.task(t["id"]) == reopened


def test_reopen_of_a_pending_task_changes_nothing(api):
    t = api.create("Never completed")
    resp = api.reopen(t["id"])
    assert resp.status == 200, resp
    assert resp.body == t


@pytest.mark.parametrize("action", ["complete", "reopen", "delete", "patch", "put"])
def test_stale_if_match_is_412_on_every_write(api, action):
    t = api.create("Stale")
    current = api.update(t["id"], {"priority": "high"})
    if action == "reopen":
        current = assert_task(api.complete(t["id"]).body)
    stale = {"If-Match": '"1"'}
    path = f"/api/tasks/{t['id']}"
    resp = {
        "complete": lambda: api.complete(t["id"], headers=stale),
        "reopen": lambda: api.reopen(t["id"], headers=stale),
        "delete": lambda: api.remove(t["id"], headers=stale),
        "patch": lambda: api.patch(path, {"title": "x"}, headers=stale),
        "put": lambda: api.put(path, {"title": "x"}, headers=stale),
    }[action]()
    body = assert_problem(resp, 412, "version-conflict")
    assert body.get("task") == current
    assert api.task(t["id"]) == current


def test_current_if_match_on_complete_reopen_delete(api):
    t = api.create("Matching")
    r = api.complete(t["id"], headers={"If-Match": '"1"'})
    assert r.status == 200 and r.body["version"] == 2, r
    r = api.reopen(t["id"], headers={"If-Match": '"2"'})
    assert r.status == 200 and r.body["version"] == 3, r
    r = api.remove(t["id"], headers={"If-Match": '"3"'})
    assert r.status == 204, r


# --------------------------------------------------------------------------------------------
# DELETE


def test_delete(api):
    keep = api.create("Keep")
    t = api.create("Delete me")
    resp = api.remove(t["id"])
    assert resp.status == 204, resp
    assert resp.raw == b""
    assert_task_not_found(api.task_resp(t["id"]))
    assert_task_not_found(api.remove(t["id"]))
    assert_task_not_found(api.patch(f"/api/tasks/{t['id']}", {"title": "Zombie"}))
    assert_task_not_found(api.put(f"/api/tasks/{t['id']}", {"title": "Zombie"}))
    assert_task_not_found(api.complete(t["id"]))
    assert_task_not_found(api.reopen(t["id"]))
    assert api.ids() == [keep["id"]]
    assert api.ids({"status": "all", "q": "Delete me"}) == []


def test_task_object_keys_are_the_contract(api):
    # a guard for the helper itself: the contract names exactly these members
    t = api.create()
    assert set(t) == TASK_KEYS
    assert etag(t["version"]) == '"1"'

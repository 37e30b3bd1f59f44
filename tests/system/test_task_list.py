"""GET /api/tasks: filters (status, priority, tag, q, due_before/due_after, overdue), sorting,
keyset pagination with signed cursors, and the 400 answers to bad query parameters.

The contract is docs/api/tasks.md ("Listing"). Every test registers its own users."""

import datetime
import zoneinfo

import pytest

from task_harness import assert_bad_query, instant, new_api

PRIORITY_RANK = {"low": 1, "medium": 2, "high": 3}


def _ids(tasks):
    return [t["id"] for t in tasks]


# --------------------------------------------------------------------------------------------
# shape


def test_empty_list(api):
    body = api.page()
    assert body["items"] == [] and body["next_cursor"] is None, body


def test_list_returns_full_tasks_oldest_first(api):
    created = [api.create(f"Task {i}") for i in range(3)]
    body = api.page()
    assert body["next_cursor"] is None
    assert body["items"] == [api.task(t["id"]) for t in created]


def test_list_excludes_deleted_and_other_users_tasks(api, other_api):
    keep = api.create("Keep")
    gone = api.create("Gone")
    other_api.create("Not yours")
    assert api.remove(gone["id"]).status == 204
    assert api.ids() == [keep["id"]]
    assert len(other_api.ids()) == 1


# --------------------------------------------------------------------------------------------
# filters


def test_filter_status(api):
    p1 = api.create("Pending 1")
    c = api.create("Completed")
    p2 = api.create("Pending 2")
    assert api.complete(c["id"]).status == 200
    assert api.ids({"status": "pending"}) == [p1["id"], p2["id"]]
    assert api.ids({"status": "completed"}) == [c["id"]]
    assert api.ids({"status": "all"}) == [p1["id"], c["id"], p2["id"]]
    assert api.ids() == [p1["id"], c["id"], p2["id"]]


def test_filter_priority(api):
    h = api.create("High", priority="high")
    m = api.create("Medium")
    lo = api.create("Low", priority="low")
    assert api.ids({"priority": "high"}) == [h["id"]]
    assert api.ids({"priority": "medium"}) == [m["id"]]
    assert api.ids({"priority": "low"}) == [lo["id"]]


def test_filter_tags_all_must_match(api):
    both = api.create("Both", tags=["home", "work"])
    home = api.create("Home", tags=["home"])
    work = api.create("Work", tags=["work", "later"])
    api.create("None")
    assert api.ids({"tag": "home"}) == [both["id"], home["id"]]
    assert api.ids({"tag": "work"}) == [both["id"], work["id"]]
    assert api.ids({"tag": ["home", "work"]}) == [both["id"]]
    assert api.ids({"tag": ["work", "home"]}) == [both["id"]]
    assert api.ids({"tag": ["home", "later"]}) == []
    assert api.ids({"tag": "nope"}) == []


def test_filter_q_searches_title_and_description_case_insensitively(api):
    title = api.create("Buy MILK")
    desc = api.create("Call mom", description="ask about the milk price")
    api.create("Tagged only", tags=["milk"])
    api.create("Unrelated")
    assert api.ids({"q": "milk"}) == [title["id"], desc["id"]]
    assert api.ids({"q": "MiLk"}) == [title["id"], desc["id"]]
    assert api.ids({"q": "price"}) == [desc["id"]]
    assert api.ids({"q": "nothing like it"}) == []


def test_filter_q_is_unicode_aware(api):
    upper = api.create("ÜBER alles")
    lower = api.create("Das ist über cool")
    accent = api.create("Plans", description="L'ÉTÉ arrive")
    api.create("uber without umlaut")
    assert api.ids({"q": "ÜBER"}) == [upper["id"], lower["id"]]
    assert api.ids({"q": "über"}) == [upper["id"], lower["id"]]
    assert api.ids({"q": "été"}) == [accent["id"]]
    assert api.ids({"q": "😀"}) == []
    emoji = api.create("Party 😀 time")
    assert api.ids({"q": "😀"}) == [emoji["id"]]


def test_filter_q_percent_and_underscore_are_plain_characters(api):
    pct = api.create("100%_done")
    abc = api.create("abc")
    under = api.create("a_c")
    api.create("100 percent")
    assert api.ids({"q": "%_"}) == [pct["id"]]
    assert api.ids({"q": "%"}) == [pct["id"]]
    assert api.ids({"q": "_"}) == [pct["id"], under["id"]]
    assert api.ids({"q": "a_c"}) == [under["id"]]
    assert api.ids({"q": "abc"}) == [abc["id"]]
    assert api.ids({"q": "%abc%"}) == []


def test_filter_due_range_with_dates_uses_the_users_time_zone(server):
    api = new_api(server, timezone="Europe/Berlin")  # UTC+2 in June
    t1 = api.create("June 10, 23:59 local", due_date="2026-06-10T21:59:00Z")
    t2 = api.create("June 11, 00:00 local", due_date="2026-06-10T22:00:00Z")
    t3 = api.create("June 11, 23:59:59 local", due_date="2026-06-11T21:59:59Z")
    t4 = api.create("June 12, 00:30 local", due_date="2026-06-11T22:30:00Z")
    api.create("No due date")
    i1, i2, i3, i4 = t1["id"], t2["id"], t3["id"], t4["id"]
    assert api.ids({"due_after": "2026-06-11"}) == [i2, i3, i4]  # from the start of the day
    assert api.ids({"due_before": "2026-06-11"}) == [i1, i2, i3]  # to the end of the day
    assert api.ids({"due_after": "2026-06-11", "due_before": "2026-06-11"}) == [i2, i3]
    assert api.ids({"due_after": "2026-06-12"}) == [i4]
    assert api.ids({"due_before": "2026-06-09"}) == []


def test_filter_due_range_with_instants_is_inclusive(api):
    t1 = api.create("Before", due_date="2026-06-10T21:59:00Z")
    t2 = api.create("At", due_date="2026-06-10T22:00:00Z")
    t3 = api.create("After", due_date="2026-06-11T21:59:59Z")
    api.create("No due date")
    i1, i2, i3 = t1["id"], t2["id"], t3["id"]
    assert api.ids({"due_after": "2026-06-10T22:00:00Z"}) == [i2, i3]
    assert api.ids({"due_before": "2026-06-10T22:00:00Z"}) == [i1, i2]
    assert api.ids({"due_before": "2026-06-11T00:00:00+02:00"}) == [i1, i2]
    assert api.ids({"due_after": "2026-06-10T22:00:00Z", "due_before": "2026-06-10T22:00:00Z"}) == [i2]
    assert api.ids({"due_after": "2026-06-10T22:00:00.001Z"}) == [i3]


def test_filter_overdue(api):
    late = api.create("Late", due_date="2020-01-01T00:00:00Z")
    late_day = api.create("Late all-day", due_date="2020-01-02")
    future = api.create("Future", due_date="2099-01-01T00:00:00Z")
    done = api.create("Late but done", due_date="2020-01-01T00:00:00Z")
    none = api.create("No due date")
    assert api.complete(done["id"]).status == 200
    assert api.ids({"overdue": "true"}) == [late["id"], late_day["id"]]
    every = [late["id"], late_day["id"], future["id"], done["id"], none["id"]]
    assert api.ids({"overdue": "false"}) == every
    assert api.ids() == every


def _zone_away_from_midnight():
    """A zone whose local time is at least ten minutes from midnight, and its date today."""
    for name in ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Auckland"):
        local = datetime.datetime.now(zoneinfo.ZoneInfo(name))
        minutes = local.hour * 60 + local.minute
        if 10 <= minutes <= 24 * 60 - 10:
            return name, local.date()
    raise AssertionError("four zones cannot all be near midnight")


def test_an_all_day_task_due_today_is_not_overdue_until_its_day_has_ended(api):
    zone, today = _zone_away_from_midnight()
    yesterday = today - datetime.timedelta(days=1)
    due_today = api.create("Due today", due_date=today.isoformat(), timezone=zone)
    due_yesterday = api.create("Due yesterday", due_date=yesterday.isoformat(), timezone=zone)
    api.create("Due tomorrow", due_date=(today + datetime.timedelta(days=1)).isoformat(), timezone=zone)
    assert due_today["all_day"] is True
    # Its due date (local midnight) has passed, its day has not.
    assert instant(due_today["due_date"]) < datetime.datetime.now(datetime.timezone.utc)
    assert api.ids({"overdue": "true"}) == [due_yesterday["id"]]


def test_filters_combine(api):
    match = api.create("Report draft", priority="high", tags=["work"], due_date="2026-05-01T10:00:00Z")
    api.create("Report final", priority="low", tags=["work"], due_date="2026-05-01T10:00:00Z")
    api.create("Report home", priority="high", tags=["home"], due_date="2026-05-01T10:00:00Z")
    api.create("Other", priority="high", tags=["work"], due_date="2026-05-01T10:00:00Z")
    done = api.create("Report done", priority="high", tags=["work"], due_date="2026-05-01T10:00:00Z")
    assert api.complete(done["id"]).status == 200
    params = {
        "status": "pending",
        "priority": "high",
        "tag": "work",
        "q": "report",
        "due_after": "2026-05-01",
        "due_before": "2026-05-01T10:00:00Z",
    }
    assert api.ids(params) == [match["id"]]


# --------------------------------------------------------------------------------------------
# sorting


def test_sort_created_at(api):
    a, b, c = (api.create(f"Created {i}") for i in range(3))
    expected = [a["id"], b["id"], c["id"]]
    assert api.ids({"sort": "created_at"}) == expected
    assert api.ids({"sort": "created_at", "order": "asc"}) == expected
    assert api.ids({"sort": "created_at", "order": "desc"}) == expected[::-1]
    assert api.ids({"order": "desc"}) == expected[::-1]


def test_sort_updated_at(api):
    a, b, c = (api.create(f"Updated {i}") for i in range(3))
    api.update(a["id"], {"title": "Updated last"})
    assert api.ids({"sort": "updated_at"}) == [b["id"], c["id"], a["id"]]
    assert api.ids({"sort": "updated_at", "order": "desc"}) == [a["id"], c["id"], b["id"]]


def test_sort_title(api):
    cherry = api.create("cherry")
    apple = api.create("apple")
    banana = api.create("banana")
    expected = [apple["id"], banana["id"], cherry["id"]]
    assert api.ids({"sort": "title"}) == expected
    assert api.ids({"sort": "title", "order": "desc"}) == expected[::-1]


def test_sort_title_ignores_case(api):
    banana = api.create("Banana")
    apple = api.create("apple")
    cherry = api.create("Cherry")
    assert api.ids({"sort": "title"}) == [apple["id"], banana["id"], cherry["id"]]


def test_sort_priority(api):
    low = api.create("Low", priority="low")
    high = api.create("High", priority="high")
    medium = api.create("Medium", priority="medium")
    assert api.ids({"sort": "priority", "order": "desc"}) == [high["id"], medium["id"], low["id"]]
    assert api.ids({"sort": "priority", "order": "asc"}) == [low["id"], medium["id"], high["id"]]
    assert api.ids({"sort": "priority"}) == [low["id"], medium["id"], high["id"]]


def test_sort_due_date_puts_tasks_without_due_date_last_in_both_orders(api):
    d2 = api.create("Second", due_date="2026-03-01T00:00:00Z")
    n1 = api.create("No due 1")
    d1 = api.create("First", due_date="2026-01-01T00:00:00Z")
    d3 = api.create("Third", due_date="2026-12-01")
    n2 = api.create("No due 2")
    nulls = {n1["id"], n2["id"]}
    asc = api.ids({"sort": "due_date", "order": "asc"})
    assert asc[:3] == [d1["id"], d2["id"], d3["id"]], asc
    assert set(asc[3:]) == nulls and len(asc) == 5, asc
    desc = api.ids({"sort": "due_date", "order": "desc"})
    assert desc[:3] == [d3["id"], d2["id"], d1["id"]], desc
    assert set(desc[3:]) == nulls and len(desc) == 5, desc


# --------------------------------------------------------------------------------------------
# pagination

SORTS = [
    ("created_at", "asc"),
    ("created_at", "desc"),
    ("updated_at", "asc"),
    ("updated_at", "desc"),
    ("due_date", "asc"),
    ("due_date", "desc"),
    ("priority", "asc"),
    ("priority", "desc"),
    ("title", "asc"),
    ("title", "desc"),
]


def _mixed_tasks(api):
    """Seven tasks with ties in every sort key and tasks without a due date."""
    specs = [
        ("same", "high", "2026-05-01T09:00:00Z"),
        ("same", "medium", None),
        ("alpha", "low", "2026-04-01T09:00:00Z"),
        ("same", "high", None),
        ("zeta", "medium", "2026-05-01T09:00:00Z"),
        ("alpha", "high", "2026-06-01T09:00:00Z"),
        ("mid", "low", None),
    ]
    tasks = []
    for title, priority, due in specs:
        fields = {"priority": priority}
        if due:
            fields["due_date"] = due
        tasks.append(api.create(title, **fields))
    return tasks


def _assert_sorted(items, sort, order):
    if sort == "priority":
        keys = [PRIORITY_RANK[t["priority"]] for t in items]
    elif sort == "title":
        keys = [t["title"].lower() for t in items]
    elif sort == "due_date":
        dated = [t for t in items if t["due_date"] is not None]
        assert items[: len(dated)] == dated, "tasks without due date come last"
        keys = [instant(t["due_date"]) for t in dated]
    else:
        keys = [instant(t[sort]) for t in items]
    expected = sorted(keys, reverse=(order == "desc"))
    assert keys == expected, f"not sorted by {sort} {order}: {keys}"


@pytest.mark.parametrize("sort,order", SORTS, ids=[f"{s}-{o}" for s, o in SORTS])
def test_walking_pages_gives_the_same_order_as_one_page(api, sort, order):
    tasks = _mixed_tasks(api)
    params = {"sort": sort, "order": order}
    whole = api.page(dict(params, limit=500))
    assert whole["next_cursor"] is None
    ids = _ids(whole["items"])
    assert sorted(ids) == sorted(_ids(tasks))
    _assert_sorted(whole["items"], sort, order)
    for limit, sizes in ((2, [2, 2, 2, 1]), (3, [3, 3, 1]), (1, [1] * 7)):
        items, pages = api.walk(params, limit)
        assert [len(p) for p in pages] == sizes, f"limit {limit}: page sizes {[len(p) for p in pages]}"
        walked = _ids(items)
        assert len(set(walked)) == len(walked), f"limit {limit}: duplicates across pages"
        assert walked == ids, f"limit {limit}: pages differ from one big page"


def test_walking_pages_with_filters(api):
    tasks = [api.create(f"Filtered {i}", priority="high" if i % 2 else "low", tags=["x"]) for i in range(7)]
    expected = [t["id"] for t in tasks if t["priority"] == "high"]
    items, pages = api.walk({"priority": "high", "tag": "x", "sort": "title"}, 2)
    assert _ids(items) == expected
    assert [len(p) for p in pages] == [2, 1]


def test_limit_bounds(api):
    created = [api.create(f"Limit {i}") for i in range(3)]
    one = api.page({"limit": 1})
    assert _ids(one["items"]) == [created[0]["id"]]
    assert isinstance(one["next_cursor"], str) and one["next_cursor"]
    most = api.page({"limit": 500})
    assert _ids(most["items"]) == _ids(created) and most["next_cursor"] is None


def test_default_limit_is_50(api):
    created = [api.create(f"Many {i:02d}") for i in range(51)]
    first = api.page()
    assert _ids(first["items"]) == _ids(created[:50])
    assert first["next_cursor"] is not None
    second = api.page({"cursor": first["next_cursor"]})
    assert _ids(second["items"]) == [created[50]["id"]]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1", "1.5", "99999999999999999999"])
def test_bad_limit_is_400(api, limit):
    assert_bad_query(api.list_resp({"limit": limit}), {"limit"})


BAD_PARAMS = [
    ("status", "done"),
    ("priority", "urgent"),
    ("sort", "random"),
    ("order", "up"),
    ("due_before", "garbage"),
    ("due_before", "2026-13-01T00:00:00Z"),
    ("due_after", "2026-02-30"),
    ("due_after", "tomorrow"),
    ("overdue", "maybe"),
]


@pytest.mark.parametrize("name,value", BAD_PARAMS, ids=[f"{n}={v}" for n, v in BAD_PARAMS])
def test_bad_query_parameter_is_400_naming_it(api, name, value):
    api.create("Something to list")
    assert_bad_query(api.list_resp({name: value}), {name})


def test_at_most_ten_tag_filters(api):
    t = api.create("Tagged", tags=[f"t{i}" for i in range(10)])
    assert api.ids({"tag": [f"t{i}" for i in range(10)]}) == [t["id"]]
    assert_bad_query(api.list_resp({"tag": [f"t{i}" for i in range(11)]}), {"tag"})


def test_hundreds_of_tag_filters_are_a_400_not_a_database_error(api):
    # 998 filters once made SQLite answer "Expression tree is too large" (a 500).
    api.create("Tagged", tags=["a"])
    resp = api.list_resp({"tag": ["a"] * 998})
    body = assert_bad_query(resp, {"tag"})
    assert "at most 10 tag filters" in str(body), body


def test_a_search_text_longer_than_any_task_text_is_400(api):
    api.create("Findable")
    assert api.list_resp({"q": "x" * 2000}).status == 200
    assert_bad_query(api.list_resp({"q": "x" * 2001}), {"q"})


def test_every_other_list_parameter_repeated_or_long_is_not_a_500(api):
    api.create("Something to list", tags=["a"])
    for params in ([("priority", "high")] * 500, [("status", "pending")] * 500,
                   [("sort", "title")] * 300, [("order", "desc")] * 300, [("limit", "5")] * 300,
                   [("overdue", "true")] * 300, [("due_before", "2030-01-01")] * 300,
                   [("cursor", "x" * 4000)], [("q", "\u00fc" * 1500)]):
        resp = api.list_resp(params)
        assert resp.status in (200, 400), (params[0], resp)


def _cursor(api, params=None):
    for i in range(3):
        api.create(f"Cursor {i}")
    body = api.page(dict(params or {}, limit=1))
    cursor = body["next_cursor"]
    assert isinstance(cursor, str) and cursor, body
    return cursor


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip(cursor, i):
    """Change character i so that the bytes it encodes change (base64: the top bit of its 6,
    which is never padding); any other character becomes one that breaks the structure."""
    c = cursor[i]
    new = _B64URL[_B64URL.index(c) ^ 32] if c in _B64URL else "A"
    return cursor[:i] + new + cursor[i + 1 :]


def _tampered(cursor):
    flipped = _flip(cursor, len(cursor) // 2)
    last = _flip(cursor, len(cursor) - 1)
    return {
        "flipped-middle": flipped,
        "flipped-last": last,
        "truncated": cursor[:-4],
        "extended": cursor + "xyz",
        "garbage": "not-a-cursor",
        "number": "12345",
    }


def test_tampered_cursor_is_400(api):
    cursor = _cursor(api)
    for name, bad in _tampered(cursor).items():
        resp = api.list_resp({"limit": 1, "cursor": bad})
        assert resp.status == 400, f"{name}: {resp!r}"
        assert_bad_query(resp, {"cursor"})
    assert api.list_resp({"limit": 1, "cursor": cursor}).status == 200


def test_cursor_with_another_sort_or_order_is_400(api):
    cursor = _cursor(api, {"sort": "created_at", "order": "asc"})
    for params in (
        {"sort": "title"},
        {"sort": "due_date"},
        {"sort": "created_at", "order": "desc"},
        {"order": "desc"},
    ):
        resp = api.list_resp(dict(params, limit=1, cursor=cursor))
        assert_bad_query(resp, {"cursor"})
    # the default sort and order are created_at and asc
    assert api.list_resp({"limit": 1, "cursor": cursor}).status == 200
    assert api.list_resp({"limit": 1, "cursor": cursor, "sort": "created_at", "order": "asc"}).status == 200

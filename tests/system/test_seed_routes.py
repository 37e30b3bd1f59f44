"""Routes kept for clients of the system Todo replaces: /api/{user_id}/tasks[/{id}[/complete]].

The contract is docs/api/tasks.md ("Compatibility with the previous API") and ADR 0018: the
previous system's list parameters, defaults and order, enumerated values in any case, a partial
PUT, `recurrence: "none"`, and 403 for a path naming another user."""

import datetime
import itertools
import random
import uuid

import pytest

from task_harness import assert_invalid, assert_task, assert_task_not_found, new_api, query_string
from todo_harness import assert_problem


def _base(api, user_id=None):
    return f"/api/{user_id or api.id}/tasks"


def _seed(task):
    """A task of the tasks API as the seed routes show it: recurrence "none" instead of null."""
    return dict(task, recurrence=task["recurrence"] or "none")


def _list(api, params=None):
    """GET /api/{user_id}/tasks (200 and shape asserted): the bare array."""
    resp = api.get(_base(api) + query_string(params))
    assert resp.status == 200, resp
    assert isinstance(resp.body, list), resp
    for t in resp.body:
        assert_task(t, api.id)
        assert isinstance(t["recurrence"], str), f"seed tasks carry recurrence 'none', not null: {t!r}"
    return resp.body


def _titles(api, params=None):
    return [t["title"] for t in _list(api, params)]


# --------------------------------------------------------------------------------------------
# the list: shape and defaults


def test_list_is_a_bare_array_of_every_live_task_newest_first(api):
    a = api.create("First")
    b = api.create("Second")
    c = api.create("Third")
    assert api.complete(b["id"]).status == 200
    assert api.remove(c["id"]).status == 204
    body = _list(api)
    assert body == [_seed(api.task(b["id"])), _seed(api.task(a["id"]))]


def test_empty_list_is_an_empty_array(api):
    assert _list(api) == []


def test_list_is_not_paginated(api):
    created = [api.create(f"Many {i:02d}") for i in range(55)]
    assert [t["id"] for t in _list(api)] == [t["id"] for t in reversed(created)]
    assert [t["id"] for t in _list(api, {"order": "asc"})] == [t["id"] for t in created]


def test_unknown_query_parameters_are_ignored(api):
    t = api.create("Kept")
    assert [x["id"] for x in _list(api, {"page": "2", "limit": "1", "colour": "red"})] == [t["id"]]


# --------------------------------------------------------------------------------------------
# the list: each parameter alone


@pytest.mark.parametrize("value", ["pending", "PENDING", "Pending"])
def test_status_pending(api, value):
    a = api.create("Open")
    b = api.create("Done")
    api.complete(b["id"])
    assert [t["id"] for t in _list(api, {"status": value})] == [a["id"]]


@pytest.mark.parametrize("value", ["completed", "Completed"])
def test_status_completed(api, value):
    api.create("Open")
    b = api.create("Done")
    api.complete(b["id"])
    assert [t["id"] for t in _list(api, {"status": value})] == [b["id"]]


@pytest.mark.parametrize("value", ["all", "ALL"])
def test_status_all_is_the_default(api, value):
    api.create("Open")
    b = api.create("Done")
    api.complete(b["id"])
    assert _list(api, {"status": value}) == _list(api)
    assert len(_list(api)) == 2


@pytest.mark.parametrize("value", ["high", "HIGH", "High", "hIgH"])
def test_priority_is_case_insensitive(api, value):
    h = api.create("H", priority="high")
    api.create("M", priority="medium")
    api.create("L", priority="low")
    assert [t["id"] for t in _list(api, {"priority": value})] == [h["id"]]


@pytest.mark.parametrize("value", ["medium", "low"])
def test_priority_each_value(api, value):
    tasks = {p: api.create(p, priority=p) for p in ("high", "medium", "low")}
    assert [t["id"] for t in _list(api, {"priority": value})] == [tasks[value]["id"]]


def test_tags_one(api):
    a = api.create("A", tags=["home"])
    api.create("B", tags=["work"])
    api.create("C")
    assert [t["id"] for t in _list(api, {"tags": "home"})] == [a["id"]]


def test_tags_are_comma_separated_trimmed_lower_cased_and_all_required(api):
    both = api.create("Both", tags=["home", "errand"])
    api.create("Home only", tags=["home"])
    api.create("Errand only", tags=["errand"])
    for value in ("home,errand", " Home , ERRAND ", "errand,home,", ",home,,errand"):
        assert [t["id"] for t in _list(api, {"tags": value})] == [both["id"]], value
    assert _list(api, {"tags": "home,nothing"}) == []


def test_tags_empty_is_no_filter(api):
    api.create("A", tags=["x"])
    api.create("B")
    assert len(_list(api, {"tags": ""})) == 2
    assert len(_list(api, {"tags": " , "})) == 2


def test_due_bounds_are_inclusive_and_exclude_tasks_without_due_date(api):
    early = api.create("Early", due_date="2030-01-01T08:00:00Z")
    mid = api.create("Mid", due_date="2030-01-02T08:00:00Z")
    late = api.create("Late", due_date="2030-01-03T08:00:00Z")
    api.create("No date")
    ids = lambda params: {t["id"] for t in _list(api, params)}  # noqa: E731
    assert ids({"due_after": "2030-01-02T08:00:00Z"}) == {mid["id"], late["id"]}
    assert ids({"due_before": "2030-01-02T08:00:00Z"}) == {early["id"], mid["id"]}
    assert ids({"due_after": "2030-01-02T08:00:00Z", "due_before": "2030-01-02T08:00:00Z"}) == {mid["id"]}
    assert ids({"due_after": "2030-01-02T08:00:00.000001Z"}) == {late["id"]}
    # a date is the whole day in the user's time zone (UTC here)
    assert ids({"due_after": "2030-01-02", "due_before": "2030-01-02"}) == {mid["id"]}
    assert ids({"due_before": "2029-12-31"}) == set()
    # any offset
    assert ids({"due_before": "2030-01-01T09:00:00+01:00"}) == {early["id"]}


def test_overdue_is_pending_and_due_before_now(api):
    now = datetime.datetime.now(datetime.timezone.utc)
    past = (now - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    overdue = api.create("Overdue", due_date=past)
    done = api.create("Done late", due_date=past)
    api.complete(done["id"])
    api.create("Later", due_date=future)
    api.create("Whenever")
    for value in ("true", "True", "TRUE"):
        assert [t["id"] for t in _list(api, {"overdue": value})] == [overdue["id"]], value
    assert len(_list(api, {"overdue": "false"})) == 4


def test_an_all_day_task_due_today_is_not_overdue_yet(api):
    """A documented difference: the previous system had no all-day tasks."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    api.create("Today", due_date=today.isoformat())
    yesterday = api.create("Yesterday", due_date=(today - datetime.timedelta(days=1)).isoformat())
    assert [t["id"] for t in _list(api, {"overdue": "true"})] == [yesterday["id"]]


def test_search_is_a_case_insensitive_substring_of_title_or_description(api):
    a = api.create("Buy MILK")
    b = api.create("Errand", description="milkshake for the kids")
    api.create("Bread", description="whole grain")
    for value in ("milk", "MILK", "Milk", "ilk"):
        assert {t["id"] for t in _list(api, {"search": value})} == {a["id"], b["id"]}, value
    assert _list(api, {"search": "nothing like it"}) == []
    assert len(_list(api, {"search": ""})) == 3


def test_search_wildcards_are_plain_characters(api):
    a = api.create("100% done")
    api.create("1000 done")
    assert [t["id"] for t in _list(api, {"search": "0%"})] == [a["id"]]
    assert _list(api, {"search": "_"}) == []


def test_sort_priority_desc_is_high_first(api):
    """A documented difference: the previous system returned low first here (a bug)."""
    low = api.create("L", priority="low")
    high = api.create("H", priority="high")
    medium = api.create("M", priority="medium")
    assert [t["id"] for t in _list(api, {"sort": "priority"})] == [high["id"], medium["id"], low["id"]]
    assert [t["id"] for t in _list(api, {"sort": "priority", "order": "desc"})] == [high["id"], medium["id"], low["id"]]
    assert [t["id"] for t in _list(api, {"sort": "priority", "order": "asc"})] == [low["id"], medium["id"], high["id"]]


def test_sort_due_date_puts_tasks_without_due_date_last_in_both_orders(api):
    none1 = api.create("None 1")
    d2 = api.create("D2", due_date="2030-01-02T00:00:00Z")
    d1 = api.create("D1", due_date="2030-01-01T00:00:00Z")
    none2 = api.create("None 2")
    # ties (both without due date) are newest first
    assert [t["id"] for t in _list(api, {"sort": "due_date"})] == [d2["id"], d1["id"], none2["id"], none1["id"]]
    assert [t["id"] for t in _list(api, {"sort": "due_date", "order": "asc"})] == [
        d1["id"], d2["id"], none2["id"], none1["id"]]


def test_sort_status(api):
    a = api.create("A")
    b = api.create("B")
    c = api.create("C")
    api.complete(b["id"])
    assert [t["id"] for t in _list(api, {"sort": "status"})] == [c["id"], a["id"], b["id"]]
    assert [t["id"] for t in _list(api, {"sort": "status", "order": "asc"})] == [b["id"], c["id"], a["id"]]


@pytest.mark.parametrize("sort", ["created_at", "CREATED_AT", None])
def test_sort_created_at_is_the_default(api, sort):
    a = api.create("A")
    b = api.create("B")
    params = {"sort": sort} if sort else {}
    assert [t["id"] for t in _list(api, params)] == [b["id"], a["id"]]
    assert [t["id"] for t in _list(api, dict(params, order="asc"))] == [a["id"], b["id"]]


@pytest.mark.parametrize("order,ascending", [("asc", True), ("ASC", True), ("desc", False), ("", False),
                                             ("up", False), ("ascending", False)])
def test_order_is_asc_or_else_desc(api, order, ascending):
    a = api.create("A")
    b = api.create("B")
    expected = [a["id"], b["id"]] if ascending else [b["id"], a["id"]]
    assert [t["id"] for t in _list(api, {"order": order})] == expected


def test_ties_are_broken_by_due_date_ascending_then_newest_first(api):
    n1 = api.create("No date, older", priority="high")
    late = api.create("Late", priority="high", due_date="2030-05-01T00:00:00Z")
    early = api.create("Early", priority="high", due_date="2030-01-01T00:00:00Z")
    n2 = api.create("No date, newer", priority="high")
    early2 = api.create("Early too", priority="high", due_date="2030-01-01T00:00:00Z")
    low = api.create("Low", priority="low")
    expected_high = [early2["id"], early["id"], late["id"], n2["id"], n1["id"]]
    assert [t["id"] for t in _list(api, {"sort": "priority"})] == expected_high + [low["id"]]
    assert [t["id"] for t in _list(api, {"sort": "priority", "order": "asc"})] == [low["id"]] + expected_high
    api.complete(low["id"])
    assert [t["id"] for t in _list(api, {"sort": "status"})] == expected_high + [low["id"]]


# --------------------------------------------------------------------------------------------
# the list: invalid values name the parameter


@pytest.mark.parametrize(
    "params,names",
    [
        ({"priority": "urgent"}, {"priority"}),
        ({"priority": ""}, {"priority"}),
        ({"sort": "title"}, {"sort"}),
        ({"sort": "updated_at"}, {"sort"}),
        ({"sort": ""}, {"sort"}),
        ({"status": "open"}, {"status"}),
        ({"overdue": "maybe"}, {"overdue"}),
        ({"due_before": "tomorrow"}, {"due_before"}),
        ({"due_after": "2030-13-01"}, {"due_after"}),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, {"tags"}),
        ({"tags": "x" * 51}, {"tags"}),
        ({"search": "s" * 2001}, {"search"}),
        ({"priority": "urgent", "sort": "title", "status": "open"}, {"priority", "sort", "status"}),
    ],
)
def test_an_invalid_query_value_is_422_naming_the_parameter(api, params, names):
    api.create("Untouched")
    resp = api.get(_base(api) + query_string(params))
    body = assert_problem(resp, 422, "validation-error", instance=_base(api))
    got = {e["field"] for e in body["errors"]}
    assert got == names, body


# --------------------------------------------------------------------------------------------
# the list: every parameter with the others, against a model of the previous system's list

NOW = datetime.datetime.now(datetime.timezone.utc)

# (title, description, priority, tags, due date or None, completed)
DATASET = [
    ("Buy milk", "from the shop", "high", ["home", "errand"], "2020-01-05T10:00:00Z", False),
    ("Write report", "Quarterly NUMBERS", "medium", ["work"], "2099-03-01T09:00:00Z", False),
    ("Call mom", None, "low", ["home"], None, False),
    ("Pay rent", "Monthly", "high", ["home", "money"], "2020-01-05T10:00:00Z", True),
    ("Fix bug", "in the milk parser", "high", ["work", "urgent"], "2099-03-01T09:00:00Z", False),
    ("Read book", "fiction", "low", [], "2020-02-01T00:00:00Z", True),
    ("Plan trip", "Summer holiday", "medium", ["home", "errand"], None, True),
    ("Gym", None, "medium", ["health"], "2020-01-10T07:30:00Z", False),
    ("Review PR", "work item", "high", ["work"], None, False),
    ("MILK the cow", None, "low", ["errand"], "2099-01-01T00:00:00Z", False),
    ("Water plants", "home jungle", "medium", ["home"], "2020-01-05T10:00:00Z", False),
    ("Taxes", None, "high", ["money"], "2099-03-01T09:00:00Z", True),
]

RANK = {"high": 3, "medium": 2, "low": 1}


def _instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _bound(text, end_of_day):
    if "T" in text:
        return _instant(text)
    day = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    return day + datetime.timedelta(days=1, microseconds=-1) if end_of_day else day


def _model(tasks, params):
    """The ids the previous system's list returns for these parameters (with high first for
    sort=priority desc, our deliberate difference)."""
    out = []
    for index, t in tasks:
        status = params.get("status", "all").lower()
        if status != "all" and t["status"] != status:
            continue
        if "priority" in params and t["priority"] != params["priority"].lower():
            continue
        wanted = [x.strip().lower() for x in params.get("tags", "").split(",") if x.strip()]
        if not all(x in t["tags"] for x in wanted):
            continue
        due = _instant(t["due_date"]) if t["due_date"] else None
        if "due_after" in params and (due is None or due < _bound(params["due_after"], False)):
            continue
        if "due_before" in params and (due is None or due > _bound(params["due_before"], True)):
            continue
        if params.get("overdue", "").lower() == "true" and not (
                t["status"] == "pending" and due is not None and due < NOW):
            continue
        needle = params.get("search", "").lower()
        if needle and needle not in t["title"].lower() and needle not in (t["description"] or "").lower():
            continue
        out.append((index, t))

    sort = params.get("sort", "created_at").lower()
    descending = params.get("order", "desc").lower() != "asc"

    def primary(item):
        index, t = item
        if sort == "priority":
            return RANK[t["priority"]]
        if sort == "status":
            return t["status"]
        if sort == "due_date":
            return _instant(t["due_date"]) if t["due_date"] else None
        return index  # created_at: the order of creation

    def ties(item):
        index, t = item
        due = _instant(t["due_date"]) if t["due_date"] else None
        return (due is None, due or NOW, -index)

    out.sort(key=ties)
    with_value = [x for x in out if primary(x) is not None]
    without = [x for x in out if primary(x) is None]  # only due_date: last in both orders
    with_value.sort(key=primary, reverse=descending)  # stable: ties keep their order
    return [t["id"] for _, t in with_value + without]


@pytest.fixture(scope="module")
def dataset(server):
    api = new_api(server)
    tasks = []
    for index, (title, description, priority, tags, due, completed) in enumerate(DATASET):
        fields = {"priority": priority, "tags": tags}
        if description is not None:
            fields["description"] = description
        if due is not None:
            fields["due_date"] = due
        t = api.create(title, **fields)
        if completed:
            assert api.complete(t["id"]).status == 200
            t = api.task(t["id"])
        tasks.append((index, t))
    return api, tasks


FILTER_VALUES = {
    "status": ["all", "pending", "Completed"],
    "priority": ["high", "Medium", "LOW"],
    "tags": ["home", "home, ERRAND", "work,urgent"],
    "due_after": ["2020-01-05T10:00:00Z", "2050-01-01"],
    "due_before": ["2020-01-05T10:00:00Z", "2020-01-10"],
    "overdue": ["true", "false"],
    "search": ["milk", "HOME"],
    "sort": ["priority", "due_date", "created_at", "status"],
    "order": ["asc", "desc", "other"],
}


def _check(api, tasks, params):
    got = [t["id"] for t in _list(api, params)]
    assert got == _model(tasks, params), f"{query_string(params)}: {[t['title'] for _, t in tasks if t['id'] in got]}"


def test_the_model_is_not_trivial(dataset):
    """The combinations below mean something only if the model's answers vary."""
    _, tasks = dataset
    assert len(_model(tasks, {})) == len(DATASET)
    assert _model(tasks, {"sort": "priority"}) != _model(tasks, {"sort": "priority", "order": "asc"})[::-1]
    assert _model(tasks, {"overdue": "true"}) and len(_model(tasks, {"overdue": "true"})) < len(DATASET)


@pytest.mark.parametrize("name", sorted(FILTER_VALUES))
def test_each_parameter_alone_matches_the_model(dataset, name):
    api, tasks = dataset
    for value in FILTER_VALUES[name]:
        _check(api, tasks, {name: value})


@pytest.mark.parametrize("pair", list(itertools.combinations(sorted(FILTER_VALUES), 2)), ids="+".join)
def test_each_pair_of_parameters_matches_the_model(dataset, pair):
    api, tasks = dataset
    for values in itertools.product(*(FILTER_VALUES[name] for name in pair)):
        _check(api, tasks, dict(zip(pair, values)))


def test_random_combinations_of_every_parameter_match_the_model(dataset):
    api, tasks = dataset
    rng = random.Random(18)
    names = sorted(FILTER_VALUES)
    for _ in range(150):
        chosen = [n for n in names if rng.random() < 0.6]
        _check(api, tasks, {n: rng.choice(FILTER_VALUES[n]) for n in chosen})


# --------------------------------------------------------------------------------------------
# create


def test_post_creates_a_task(api):
    resp = api.post(_base(api), {"title": "  Seeded  ", "description": "Old client", "priority": "high", "tags": ["A"]})
    assert resp.status == 201, resp
    t = assert_task(resp.body, api.id)
    assert t["title"] == "Seeded" and t["description"] == "Old client"
    assert t["priority"] == "high" and t["tags"] == ["a"]
    assert t["status"] == "pending" and t["version"] == 1
    assert t["recurrence"] == "none"
    assert resp.headers["location"] == f"{_base(api)}/{t['id']}"
    assert _seed(api.task(t["id"])) == t


@pytest.mark.parametrize("priority", ["HIGH", "High", "mEdIuM", "Low"])
def test_post_accepts_priority_in_any_case(api, priority):
    resp = api.post(_base(api), {"title": "Cased", "priority": priority})
    assert resp.status == 201, resp
    assert resp.body["priority"] == priority.lower()
    assert api.task(resp.body["id"])["priority"] == priority.lower()


@pytest.mark.parametrize("recurrence,stored", [("Daily", "daily"), ("WEEKLY", "weekly"), ("monthly", "monthly"),
                                              ("Yearly", "yearly"), ("NONE", "none"), (None, "none")])
def test_post_accepts_recurrence_in_any_case(api, recurrence, stored):
    resp = api.post(_base(api), {"title": "Repeats", "recurrence": recurrence, "due_date": "2030-01-01T09:00:00Z"})
    assert resp.status == 201, resp
    assert resp.body["recurrence"] == stored
    assert (api.task(resp.body["id"])["recurrence"] or "none") == stored


def test_post_without_recurrence_is_none(api):
    resp = api.post(_base(api), {"title": "Once"})
    assert resp.status == 201 and resp.body["recurrence"] == "none", resp
    assert api.task(resp.body["id"])["recurrence"] is None  # the tasks API keeps null


def test_post_retried_with_an_idempotency_key_replays_the_seed_form(api):
    key = uuid.uuid4().hex
    body = {"title": "Once only", "priority": "Low"}
    first = api.post(_base(api), body, headers={"Idempotency-Key": key})
    assert first.status == 201 and first.body["recurrence"] == "none", first
    again = api.post(_base(api), body, headers={"Idempotency-Key": key})
    assert again.status == 201, again
    assert again.headers.get("idempotent-replayed") == "true", again.headers
    assert again.body == first.body
    assert again.headers["location"] == first.headers["location"] == f"{_base(api)}/{first.body['id']}"
    assert len(_list(api)) == 1


def test_post_validates_like_the_tasks_api(api):
    assert_invalid(api.post(_base(api), {"description": "no title"}), {"title"})
    assert_invalid(api.post(_base(api), {"title": "x", "priority": "urgent"}), {"priority"})
    assert_invalid(api.post(_base(api), {"title": "x", "recurrence": "Fortnightly"}), {"recurrence"})
    assert api.get(_base(api)).body == []


# --------------------------------------------------------------------------------------------
# one task


def test_get_one(api):
    t = api.create("One")
    resp = api.get(f"{_base(api)}/{t['id']}")
    assert resp.status == 200, resp
    assert resp.body == _seed(t)


def test_get_one_of_a_recurring_task_shows_its_recurrence(api):
    t = api.create("Weekly", recurrence="weekly", due_date="2030-01-01T09:00:00Z")
    assert api.get(f"{_base(api)}/{t['id']}").body["recurrence"] == "weekly"


# --------------------------------------------------------------------------------------------
# PUT is a partial update


def test_put_changes_only_the_fields_it_is_given(api):
    t = api.create("Before", description="old", priority="high", tags=["a", "b"],
                   due_date="2030-01-01T09:00:00Z", recurrence="daily")
    resp = api.put(f"{_base(api)}/{t['id']}", {"title": "After"})
    assert resp.status == 200, resp
    u = assert_task(resp.body, api.id)
    assert u["title"] == "After" and u["version"] == 2
    for kept in ("description", "priority", "tags", "due_date", "recurrence", "status"):
        assert u[kept] == t[kept], kept
    assert api.task(t["id"]) == dict(u, recurrence=t["recurrence"])


def test_put_null_leaves_a_field_as_it_is(api):
    t = api.create("Keep", description="kept", tags=["x"], due_date="2030-01-01T09:00:00Z", recurrence="weekly")
    resp = api.put(f"{_base(api)}/{t['id']}", {"title": None, "description": None, "tags": None,
                                               "due_date": None, "recurrence": None, "priority": "low"})
    assert resp.status == 200, resp
    u = resp.body
    assert u["priority"] == "low"
    assert (u["title"], u["description"], u["tags"], u["due_date"], u["recurrence"]) == (
        "Keep", "kept", ["x"], t["due_date"], "weekly")


def test_put_empty_tags_clears_them(api):
    t = api.create("Tagged", tags=["x", "y"])
    resp = api.put(f"{_base(api)}/{t['id']}", {"tags": []})
    assert resp.status == 200 and resp.body["tags"] == [], resp
    assert api.task(t["id"])["tags"] == []


def test_put_recurrence_none_clears_it_and_any_case_is_read(api):
    t = api.create("Repeats", recurrence="daily", due_date="2030-01-01T09:00:00Z")
    resp = api.put(f"{_base(api)}/{t['id']}", {"recurrence": "Monthly", "priority": "HIGH"})
    assert resp.status == 200, resp
    assert resp.body["recurrence"] == "monthly" and resp.body["priority"] == "high"
    resp = api.put(f"{_base(api)}/{t['id']}", {"recurrence": "None"})
    assert resp.status == 200 and resp.body["recurrence"] == "none", resp
    assert api.task(t["id"])["recurrence"] is None


@pytest.mark.parametrize("body", [{}, {"title": None}, {"unknown": 1},
                                  {"title": None, "description": None, "tags": None}])
def test_put_with_nothing_to_change_is_422(api, body):
    t = api.create("Same")
    resp = api.put(f"{_base(api)}/{t['id']}", body)
    assert_invalid(resp, {"body"})
    assert api.task(t["id"]) == t


def test_put_validates(api):
    t = api.create("Valid")
    assert_invalid(api.put(f"{_base(api)}/{t['id']}", {"title": ""}), {"title"})
    assert_invalid(api.put(f"{_base(api)}/{t['id']}", {"priority": "urgent"}), {"priority"})
    assert_invalid(api.put(f"{_base(api)}/{t['id']}", {"title": 5}), {"title"})
    assert api.task(t["id"]) == t


def test_put_of_a_missing_task_is_404(api):
    assert_task_not_found(api.put(f"{_base(api)}/{uuid.uuid4()}", {"title": "Nobody"}))


# --------------------------------------------------------------------------------------------
# delete and toggle


def test_delete(api):
    t = api.create("Doomed")
    resp = api.delete(f"{_base(api)}/{t['id']}")
    assert resp.status == 204, resp
    assert resp.raw == b""
    assert_task_not_found(api.get(f"{_base(api)}/{t['id']}"))
    assert_task_not_found(api.task_resp(t["id"]))
    assert_task_not_found(api.delete(f"{_base(api)}/{t['id']}"))
    assert api.get(_base(api)).body == []


def test_patch_complete_toggles(api):
    t = api.create("Toggle")
    path = f"{_base(api)}/{t['id']}/complete"
    first = api.patch(path)
    assert first.status == 200, first
    done = assert_task(first.body, api.id)
    assert done["status"] == "completed" and done["completed_at"] is not None and done["version"] == 2
    assert done["recurrence"] == "none"
    second = api.patch(path)
    assert second.status == 200, second
    again = assert_task(second.body, api.id)
    assert again["status"] == "pending" and again["completed_at"] is None and again["version"] == 3
    assert _seed(api.task(t["id"])) == again
    third = api.patch(path)
    assert third.status == 200 and third.body["status"] == "completed", third


# --------------------------------------------------------------------------------------------
# whose tasks


@pytest.mark.parametrize("who", ["other-user", "random-uuid", "not-a-uuid"])
def test_a_path_with_another_user_id_is_403(api, other_api, who):
    mine = api.create("Mine")
    theirs = other_api.create("Theirs")
    uid = {"other-user": other_api.id, "random-uuid": str(uuid.uuid4()), "not-a-uuid": "someone"}[who]
    base = f"/api/{uid}/tasks"
    attempts = [
        ("GET", base, None),
        ("GET", base + "?priority=urgent", None),
        ("POST", base, {"title": "Planted"}),
    ]
    for tid in (mine["id"], theirs["id"], str(uuid.uuid4())):
        attempts += [
            ("GET", f"{base}/{tid}", None),
            ("PUT", f"{base}/{tid}", {"title": "Hijacked"}),
            ("PUT", f"{base}/{tid}", {}),
            ("DELETE", f"{base}/{tid}", None),
            ("PATCH", f"{base}/{tid}/complete", None),
        ]
    for method, path, body in attempts:
        resp = api.request(method, path, body=body)
        assert_problem(resp, 403, "forbidden")
        assert "Theirs" not in resp.raw.decode("utf-8", "replace")
    assert _list(api) == [_seed(mine)]
    assert _list(other_api) == [_seed(theirs)]


def test_another_users_task_under_my_own_path_is_404(api, other_api):
    theirs = other_api.create("Theirs")
    base = _base(api)
    for method, path, body in (
        ("GET", f"{base}/{theirs['id']}", None),
        ("PUT", f"{base}/{theirs['id']}", {"title": "Hijacked"}),
        ("DELETE", f"{base}/{theirs['id']}", None),
        ("PATCH", f"{base}/{theirs['id']}/complete", None),
    ):
        assert_task_not_found(api.request(method, path, body=body))
    assert other_api.task(theirs["id"]) == theirs


def test_seed_routes_need_a_token(server, api):
    t = api.create("Guarded")
    for method, path in (("GET", _base(api)), ("GET", f"{_base(api)}/{t['id']}"),
                         ("PUT", f"{_base(api)}/{t['id']}"), ("DELETE", f"{_base(api)}/{t['id']}"),
                         ("PATCH", f"{_base(api)}/{t['id']}/complete"), ("POST", _base(api))):
        assert_problem(server.request(method, path), 401, "token-missing")
    assert api.task(t["id"]) == t

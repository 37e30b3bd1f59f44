"""Recurrence previews: GET /api/tasks/{id}/occurrences and POST /api/recurrence/preview.

The contract is docs/api/tasks.md ("Recurrence") and docs/adr/0009-recurrence.md. Due dates lie in
2031 and later, so "due" mode (which skips occurrences before now) gives fixed answers."""

import concurrent.futures
import datetime
import threading
import re

from task_harness import assert_bad_query, assert_invalid, assert_task_not_found, error_list, new_api
from todo_harness import poll_until

LOCAL_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def preview(api, **body):
    resp = api.post("/api/recurrence/preview", body)
    assert resp.status == 200, resp
    return resp.body


def locals_of(answer):
    return [o["local"] for o in answer["occurrences"]]


def utcs_of(answer):
    return [o["utc"] for o in answer["occurrences"]]


def test_preview_monthly_on_the_31st_falls_on_month_ends_without_drifting(api):
    answer = preview(api, recurrence="monthly", due_date="2031-01-31T09:00",
                     timezone="Europe/Berlin", count=4)
    assert answer["recurrence"] == "monthly"
    assert answer["rrule"] == "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"
    assert answer["timezone"] == "Europe/Berlin"
    assert answer["mode"] == "due"
    assert answer["all_day"] is False
    assert locals_of(answer) == ["2031-02-28T09:00:00+01:00", "2031-03-31T09:00:00+02:00",
                                 "2031-04-30T09:00:00+02:00", "2031-05-31T09:00:00+02:00"]
    assert utcs_of(answer) == ["2031-02-28T08:00:00.000Z", "2031-03-31T07:00:00.000Z",
                               "2031-04-30T07:00:00.000Z", "2031-05-31T07:00:00.000Z"]


def test_preview_keeps_the_wall_time_and_moves_a_skipped_time_forward(api):
    # 9 March 2031 is the spring day in New York: 02:30 does not exist and becomes 03:30 EDT.
    answer = preview(api, recurrence="daily", due_date="2031-03-07T02:30",
                     timezone="America/New_York", count=3)
    assert locals_of(answer) == ["2031-03-08T02:30:00-05:00", "2031-03-09T03:30:00-04:00",
                                 "2031-03-10T02:30:00-04:00"]
    assert utcs_of(answer) == ["2031-03-08T07:30:00.000Z", "2031-03-09T07:30:00.000Z",
                               "2031-03-10T06:30:00.000Z"]


def test_preview_of_an_rrule_returns_its_canonical_form(api):
    answer = preview(api, recurrence="rrule:freq=monthly;byday=-1fr;count=3",
                     due_date="2031-01-31T17:00:00Z", timezone="UTC", count=10)
    assert answer["recurrence"] == "FREQ=MONTHLY;COUNT=3;BYDAY=-1FR"
    assert answer["rrule"] == "FREQ=MONTHLY;COUNT=3;BYDAY=-1FR"
    # COUNT=3 counts the task itself: two more follow it.
    assert utcs_of(answer) == ["2031-02-28T17:00:00.000Z", "2031-03-28T17:00:00.000Z"]


def test_preview_of_an_all_day_task_gives_dates(api):
    answer = preview(api, recurrence="yearly", due_date="2032-02-29", timezone="Asia/Tokyo",
                     count=5)
    assert answer["all_day"] is True
    assert answer["rrule"] == "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1"
    assert locals_of(answer) == ["2033-02-28", "2034-02-28", "2035-02-28", "2036-02-29",
                                 "2037-02-28"]
    assert utcs_of(answer)[0] == "2033-02-27T15:00:00.000Z"  # midnight in Tokyo


def test_preview_modes(api):
    strict = preview(api, recurrence="weekly", due_date="2020-01-06T08:00:00Z", mode="strict",
                     timezone="UTC", count=2)
    assert utcs_of(strict) == ["2020-01-13T08:00:00.000Z", "2020-01-20T08:00:00.000Z"]
    due = preview(api, recurrence="weekly", due_date="2020-01-06T08:00:00Z", mode="due",
                  timezone="UTC", count=2)
    first = datetime.datetime.fromisoformat(due["occurrences"][0]["utc"].replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert now < first <= now + datetime.timedelta(days=7), due  # missed ones are skipped
    assert first.weekday() == 0 and first.hour == 8
    assert due["mode"] == "due"


def test_preview_without_due_date_counts_from_today(api):
    answer = preview(api, recurrence="daily", timezone="UTC", count=2)
    assert answer["all_day"] is True
    today = datetime.datetime.now(datetime.timezone.utc).date()
    # Around midnight UTC "today" may change between the request and this line.
    assert locals_of(answer)[0] in {str(today + datetime.timedelta(days=1)),
                                    str(today + datetime.timedelta(days=2))}, answer
    assert all(DATE_RE.match(x) for x in locals_of(answer))


def test_preview_defaults_to_the_users_time_zone_and_ten_occurrences(server):
    api = new_api(server, timezone="Australia/Sydney")
    answer = preview(api, recurrence="daily", due_date="2031-04-04T09:00")
    assert answer["timezone"] == "Australia/Sydney"
    assert len(answer["occurrences"]) == 10
    # Sydney leaves daylight saving time on 6 April 2031: 09:00 stays 09:00, the offset changes.
    assert locals_of(answer)[:3] == ["2031-04-05T09:00:00+11:00", "2031-04-06T09:00:00+10:00",
                                     "2031-04-07T09:00:00+10:00"]


def test_preview_names_every_invalid_field(api):
    resp = api.post("/api/recurrence/preview",
                    {"recurrence": "FREQ=WEEKLY;BYDAY=XX", "timezone": "Mars/Olympus",
                     "mode": "sometimes", "count": 0, "due_date": "tomorrow"})
    body = assert_invalid(resp, {"recurrence", "timezone", "mode", "count", "due_date"})
    reasons = {e["field"]: e["reason"] for e in error_list(body)}
    assert reasons["recurrence"] == "BYDAY=XX: unknown weekday"
    assert "1 to 100" in reasons["count"]


def test_preview_checks_each_field(api):
    cases = [
        ({}, "recurrence"),
        ({"recurrence": None}, "recurrence"),
        ({"recurrence": "none"}, "recurrence"),
        ({"recurrence": "FREQ=HOURLY"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;BYHOUR=9", "due_date": "2031-01-01"}, "recurrence"),
        ({"recurrence": "daily", "count": 101}, "count"),
        ({"recurrence": "daily", "count": "5"}, "count"),
        ({"recurrence": "daily", "count": 2.5}, "count"),
        ({"recurrence": "daily", "mode": 1}, "mode"),
        ({"recurrence": "daily", "all_day": "yes"}, "all_day"),
    ]
    for body, field in cases:
        assert_invalid(api.post("/api/recurrence/preview", body), {field})


def test_preview_problem_for_an_rrule_says_what_and_where(api):
    resp = api.post("/api/recurrence/preview", {"recurrence": "FREQ=MONTHLY;BYMONTHDAY=32"})
    body = assert_invalid(resp, {"recurrence"})
    assert error_list(body)[0]["reason"] == "BYMONTHDAY=32: must be 1 to 31 or -31 to -1"


def test_preview_needs_a_token(server):
    resp = server.post("/api/recurrence/preview", {"recurrence": "daily"})
    assert resp.status == 401, resp


# --------------------------------------------------------------------------------------------
# GET /api/tasks/{id}/occurrences


def test_occurrences_of_a_task(api):
    t = api.create("Water the plants", due_date="2031-10-24T09:00", timezone="Europe/Berlin",
                   recurrence="FREQ=WEEKLY;BYDAY=FR,SA")
    resp = api.get(f"/api/tasks/{t['id']}/occurrences?count=3")
    assert resp.status == 200, resp
    answer = resp.body
    assert answer["recurrence"] == "FREQ=WEEKLY;BYDAY=FR,SA"
    assert answer["rrule"] == "FREQ=WEEKLY;BYDAY=FR,SA"
    # Berlin leaves summer time on Sunday 26 October 2031.
    assert locals_of(answer) == ["2031-10-25T09:00:00+02:00", "2031-10-31T09:00:00+01:00",
                                 "2031-11-01T09:00:00+01:00"]
    assert all(LOCAL_RE.match(x) for x in locals_of(answer))


def test_occurrences_follow_a_changed_due_date(api):
    t = api.create("Rent", due_date="2031-01-31T10:00:00Z", timezone="UTC", recurrence="monthly")
    assert locals_of(api.get(f"/api/tasks/{t['id']}/occurrences?count=1").body) == [
        "2031-02-28T10:00:00+00:00"]
    api.update(t["id"], {"due_date": "2031-01-15T10:00:00Z"})
    assert locals_of(api.get(f"/api/tasks/{t['id']}/occurrences?count=2").body) == [
        "2031-02-15T10:00:00+00:00", "2031-03-15T10:00:00+00:00"]


def test_occurrences_default_count_is_ten(api):
    t = api.create("Daily", due_date="2031-01-01T08:00:00Z", recurrence="daily")
    assert len(api.get(f"/api/tasks/{t['id']}/occurrences").body["occurrences"]) == 10


def test_occurrences_of_a_task_that_does_not_recur_are_empty(api):
    t = api.create("Once", due_date="2031-01-01T08:00:00Z")
    resp = api.get(f"/api/tasks/{t['id']}/occurrences")
    assert resp.status == 200, resp
    assert resp.body["recurrence"] is None
    assert resp.body["rrule"] is None
    assert resp.body["occurrences"] == []


def test_occurrences_end_with_the_series(api):
    t = api.create("Three times", due_date="2031-01-01T08:00:00Z", timezone="UTC",
                   recurrence="FREQ=DAILY;UNTIL=20310103")
    answer = api.get(f"/api/tasks/{t['id']}/occurrences?count=100").body
    assert utcs_of(answer) == ["2031-01-02T08:00:00.000Z", "2031-01-03T08:00:00.000Z"]


def test_occurrences_count_is_checked(api):
    t = api.create("Daily", due_date="2031-01-01T08:00:00Z", recurrence="daily")
    for bad in ("0", "101", "-1", "ten", "", "1.5"):
        assert_bad_query(api.get(f"/api/tasks/{t['id']}/occurrences?count={bad}"), {"count"})
    assert len(api.get(f"/api/tasks/{t['id']}/occurrences?count=100").body["occurrences"]) == 100


def test_occurrences_of_another_users_task_are_not_found(api, other_api):
    t = api.create("Mine", due_date="2031-01-01T08:00:00Z", recurrence="daily")
    assert_task_not_found(other_api.get(f"/api/tasks/{t['id']}/occurrences"))
    assert_task_not_found(api.get("/api/tasks/0193a4b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b/occurrences"))


# --------------------------------------------------------------------------------------------
# rules the engine cannot expand are refused when saved


def test_a_task_refuses_a_rule_below_daily(api):
    resp = api.create_resp({"title": "Every hour", "recurrence": "FREQ=HOURLY"})
    body = assert_invalid(resp, {"recurrence"})
    assert error_list(body)[0]["reason"].startswith("FREQ=HOURLY: a task repeats at most daily")


def test_an_all_day_task_refuses_a_time_of_day_in_its_rule(api):
    resp = api.create_resp({"title": "All day", "due_date": "2031-01-01",
                            "recurrence": "FREQ=DAILY;BYHOUR=9"})
    body = assert_invalid(resp, {"recurrence"})
    assert error_list(body)[0]["reason"].startswith("BYHOUR=9: needs a due date with a time")
    t = api.create("Timed", due_date="2031-01-01T08:00", recurrence="FREQ=DAILY;BYHOUR=9,17")
    assert t["recurrence"] == "FREQ=DAILY;BYHOUR=9,17"


def test_a_task_recurs_at_most_hourly(api):
    # Several minutes or seconds would repeat it within the hour (occurrences 30 s apart).
    for rule, part in [("FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30", "BYMINUTE=0,30"),
                       ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0,30", "BYSECOND=0,30")]:
        resp = api.create_resp({"title": "Too often", "due_date": "2031-01-01T08:00",
                                "recurrence": rule})
        body = assert_invalid(resp, {"recurrence"})
        assert error_list(body)[0]["reason"].startswith(f"{part}: a task recurs at most hourly"), body
        resp = api.post("/api/recurrence/preview",
                        {"recurrence": rule, "due_date": "2031-01-01T08:00", "count": 100})
        assert_invalid(resp, {"recurrence"})


# --------------------------------------------------------------------------------------------
# every expansion is bounded: a rule that matches too rarely is a 422, never seconds of CPU

# Monday 29 February: once in 28 years, and a DAILY rule looks at every day.
RARE = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"
RARE_WITH_HOURS = RARE + ";BYHOUR=1,2,3,4,5,6,7,8,9,10,11,12"


def assert_too_rare(resp, count):
    body = assert_invalid(resp, {"recurrence"})
    reason = error_list(body)[0]["reason"]
    assert f"this rule matches too rarely to preview {count} occurrences" in reason, body


def test_a_preview_of_a_rule_that_matches_too_rarely_is_refused(api):
    for rule in (RARE, RARE_WITH_HOURS):
        resp = api.post("/api/recurrence/preview",
                        {"recurrence": rule, "due_date": "2031-01-01T09:00", "count": 100})
        assert_too_rare(resp, 100)
    # The same rule within the bound is previewed.
    answer = preview(api, recurrence=RARE, due_date="2031-01-01T09:00", timezone="UTC", count=2)
    assert utcs_of(answer) == ["2044-02-29T09:00:00.000Z", "2072-02-29T09:00:00.000Z"]


def test_a_preview_of_a_rare_yearly_rule_is_bounded(api):
    # Week 53 exists in about one year of six: libical's last year (2582) ends it first.
    answer = preview(api, recurrence="FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO", due_date="2031-01-01T09:00",
                     timezone="UTC", count=100)
    assert 0 < len(answer["occurrences"]) <= 100
    assert answer["occurrences"][0]["utc"] == "2032-12-27T09:00:00.000Z"


def test_occurrences_of_a_task_whose_rule_matches_too_rarely_are_refused(api):
    t = api.create("Leap Monday", due_date="2031-01-01T09:00", recurrence=RARE)
    assert_too_rare(api.get(f"/api/tasks/{t['id']}/occurrences?count=100"), 100)
    resp = api.get(f"/api/tasks/{t['id']}/occurrences?count=1")
    assert resp.status == 200, resp
    assert utcs_of(resp.body) == ["2044-02-29T09:00:00.000Z"]


def test_an_account_runs_one_preview_at_a_time(api):
    body = {"recurrence": RARE_WITH_HOURS, "due_date": "2031-01-01T09:00", "count": 100}
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: api.post("/api/recurrence/preview", body), range(6)))
    statuses = sorted(r.status for r in answers)
    assert set(statuses) <= {422, 429}, statuses
    assert 422 in statuses, statuses  # the first one ran
    # While it ran, the others of the same account were turned away at once.
    limited = [r for r in answers if r.status == 429]
    assert limited, statuses
    for r in limited:
        assert r.body["type"].endswith("rate-limited"), r
        assert r.headers.get("retry-after") == "1", r


def test_previews_do_not_hold_up_reads(server):
    # Six accounts (more than the four read threads) preview rare rules over and over; a list of
    # tasks meanwhile does not wait for any of them to finish: previews run on the CPU pool.
    reader = new_api(server)
    reader.create("Mine")
    users = [new_api(server) for _ in range(6)]
    body = {"recurrence": RARE_WITH_HOURS, "due_date": "2031-01-01T09:00", "count": 100}
    done = threading.Event()
    statuses = []

    def keep_previewing(user):
        while not done.is_set():
            statuses.append(user.post("/api/recurrence/preview", body).status)

    threads = [threading.Thread(target=keep_previewing, args=(u,)) for u in users]
    for t in threads:
        t.start()
    try:
        poll_until(lambda: len(statuses) >= 6, "previews under way", timeout=120)
        finished_during_list = []
        for _ in range(10):
            before = len(statuses)
            resp = reader.get("/api/tasks")
            assert resp.status == 200, resp
            finished_during_list.append(len(statuses) - before)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert set(statuses) == {422}, statuses
    # Had the lists queued behind the previews, every one would have waited for one to finish.
    assert min(finished_during_list) == 0, finished_during_list

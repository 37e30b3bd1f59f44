"""GET /api/sync: the delta of a user's tasks since a cursor (the user's change counter), in
change order, deletions as {id, deleted: true}.

The contract is docs/api/tasks.md (routes table, and "user_seq ... is also the sync cursor").
410 resync-required needs tombstones older than 30 days and is not tested here."""

import uuid

import pytest

from task_harness import assert_bad_query, assert_task, cursor_int


def _item_id(item):
    assert isinstance(item, dict) and isinstance(item.get("id"), str), item
    return item["id"]


def _deleted(item):
    return item.get("deleted") is True


def assert_tombstone(item, task_id):
    assert item == {"id": task_id, "deleted": True}, f"a deletion is {{id, deleted: true}}: {item!r}"


def assert_live(item, task):
    """A changed task is the task object (a `deleted: false` member is tolerated)."""
    got = dict(item)
    if got.get("deleted") is False:
        del got["deleted"]
    assert_task(got)
    assert got == task, f"sync item differs from the task: {item!r} != {task!r}"


def test_sync_of_a_user_without_changes(api):
    body = api.sync()
    assert body["items"] == [] and body["has_more"] is False, body
    assert cursor_int(body["cursor"]) == 0


def test_sync_without_since_returns_every_task_in_change_order(api):
    a = api.create("A")
    b = api.create("B")
    c = api.create("C")
    a2 = api.update(a["id"], {"title": "A changed"})
    body = api.sync()
    assert [_item_id(i) for i in body["items"]] == [b["id"], c["id"], a["id"]]
    for item, task in zip(body["items"], (b, c, a2)):
        assert_live(item, task)
    assert cursor_int(body["cursor"]) == 4
    assert body["has_more"] is False
    assert api.sync({"since": 0}) == body


def test_sync_from_the_beginning_includes_deletions(api):
    a = api.create("A")
    b = api.create("B")
    assert api.remove(a["id"]).status == 204
    body = api.sync()
    assert len(body["items"]) == 2, body
    assert_live(body["items"][0], b)
    assert_tombstone(body["items"][1], a["id"])
    assert cursor_int(body["cursor"]) == 3


def test_cursor_progression(api):
    start = api.sync()
    assert cursor_int(start["cursor"]) == 0
    a = api.create("A")
    body = api.sync({"since": start["cursor"]})
    assert [_item_id(i) for i in body["items"]] == [a["id"]]
    assert_live(body["items"][0], a)
    c1 = body["cursor"]
    assert cursor_int(c1) == 1

    empty = api.sync({"since": c1})
    assert empty["items"] == [] and empty["has_more"] is False
    assert cursor_int(empty["cursor"]) == 1

    expected_seq = 1
    cursor = c1
    for step in ("update", "complete", "reopen"):
        if step == "update":
            task = api.update(a["id"], {"priority": "high"})
        elif step == "complete":
            task = api.complete(a["id"]).body
        else:
            task = api.reopen(a["id"]).body
        expected_seq += 1
        body = api.sync({"since": cursor})
        assert len(body["items"]) == 1, (step, body)
        assert_live(body["items"][0], task)
        assert cursor_int(body["cursor"]) == expected_seq, (step, body)
        cursor = body["cursor"]

    assert api.remove(a["id"]).status == 204
    body = api.sync({"since": cursor})
    assert len(body["items"]) == 1, body
    assert_tombstone(body["items"][0], a["id"])
    assert cursor_int(body["cursor"]) == expected_seq + 1


def test_delta_after_updates_and_deletions(api):
    a = api.create("A")  # 1
    b = api.create("B")  # 2
    c = api.create("C")  # 3
    since = api.sync()["cursor"]
    assert cursor_int(since) == 3
    api.update(b["id"], {"title": "B once"})  # 4
    assert api.remove(a["id"]).status == 204  # 5
    c2 = api.update(c["id"], {"tags": ["x"]})  # 6
    b2 = api.update(b["id"], {"title": "B twice"})  # 7
    d = api.create("D")  # 8
    assert api.remove(d["id"]).status == 204  # 9

    body = api.sync({"since": since})
    items = body["items"]
    assert [_item_id(i) for i in items] == [a["id"], c["id"], b["id"], d["id"]], items
    assert_tombstone(items[0], a["id"])
    assert_live(items[1], c2)
    assert_live(items[2], b2)
    assert_tombstone(items[3], d["id"])
    assert cursor_int(body["cursor"]) == 9
    assert body["has_more"] is False

    later = api.sync({"since": 5})
    assert [_item_id(i) for i in later["items"]] == [c["id"], b["id"], d["id"]]
    assert api.sync({"since": 9})["items"] == []


def test_sync_pages_with_limit(api):
    tasks = {name: api.create(name) for name in "ABCDE"}  # 1..5
    api.update(tasks["A"]["id"], {"title": "A2"})  # 6
    api.update(tasks["C"]["id"], {"title": "C2"})  # 7
    expected = [tasks[n]["id"] for n in "BDEAC"]
    got, cursor, pages = [], 0, 0
    while True:
        pages += 1
        assert pages <= 10, "sync paging does not end"
        body = api.sync({"since": cursor, "limit": 2})
        assert len(body["items"]) <= 2, body
        got += [_item_id(i) for i in body["items"]]
        assert cursor_int(body["cursor"]) >= cursor_int(cursor)
        cursor = body["cursor"]
        if not body["has_more"]:
            break
        assert body["items"], "has_more with an empty page"
    assert got == expected
    assert cursor_int(cursor) == 7
    assert api.sync({"limit": 1000})["items"] != []


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-5"])
def test_bad_sync_limit_is_400(api, limit):
    assert_bad_query(api.sync_resp({"limit": limit}), {"limit"})


@pytest.mark.parametrize("since", ["garbage", "12abc", "1.5"])
def test_bad_since_is_400(api, since):
    api.create("Something")
    assert_bad_query(api.sync_resp({"since": since}), {"since"})


def test_sync_is_per_user(api, other_api):
    theirs = other_api.create("Theirs")
    mine = api.create("Mine")
    body = api.sync()
    assert [_item_id(i) for i in body["items"]] == [mine["id"]]
    assert cursor_int(body["cursor"]) == 1
    assert other_api.remove(theirs["id"]).status == 204
    assert api.sync({"since": 1})["items"] == []
    other = other_api.sync()
    assert [_item_id(i) for i in other["items"]] == [theirs["id"]]
    assert cursor_int(other["cursor"]) == 2


def test_only_real_changes_move_the_cursor(api, other_api):
    key = str(uuid.uuid4())
    first = api.create_resp({"title": "Once"}, headers={"Idempotency-Key": key})
    assert first.status == 201
    assert api.create_resp({"title": "Once"}, headers={"Idempotency-Key": key}).status == 201  # replay
    t = first.body
    tid = t["id"]
    assert api.complete(tid).status == 200  # 2
    assert api.complete(tid).status == 200  # no change
    assert api.reopen(tid).status == 200  # 3
    assert api.reopen(tid).status == 200  # no change
    assert api.patch(f"/api/tasks/{tid}", {"title": "Once"}).status == 200  # no change
    assert api.patch(f"/api/tasks/{tid}", {"title": ""}).status == 422
    assert api.patch(f"/api/tasks/{tid}", {"title": "x"}, headers={"If-Match": '"1"'}).status == 412
    assert api.create_resp({"title": "", "priority": "urgent"}).status == 422
    assert other_api.patch(f"/api/tasks/{tid}", {"title": "theirs"}).status == 404
    body = api.sync()
    assert [_item_id(i) for i in body["items"]] == [tid]
    assert cursor_int(body["cursor"]) == 3
    assert body["items"][0]["version"] == 3

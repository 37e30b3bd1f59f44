"""Routes kept for clients of the system Todo replaces: /api/{user_id}/tasks[/{id}[/complete]].

The contract is docs/api/tasks.md ("Routes kept for clients of the system this replaces"):
{user_id} must be the token's subject, another value is 404."""

import uuid

import pytest

from task_harness import assert_invalid, assert_task, assert_task_not_found
from todo_harness import assert_problem

# A path naming another user is a 404; the contract does not name its problem type.
FOREIGN_PATH_TYPES = {"not-found", "task-not-found", "user-not-found"}


def _base(api, user_id=None):
    return f"/api/{user_id or api.id}/tasks"


def test_list_is_a_bare_array_of_every_task_oldest_first(api):
    a = api.create("First")
    b = api.create("Second")
    c = api.create("Third")
    assert api.complete(b["id"]).status == 200
    assert api.remove(c["id"]).status == 204
    resp = api.get(_base(api))
    assert resp.status == 200, resp
    assert isinstance(resp.body, list), resp
    for t in resp.body:
        assert_task(t, api.id)
    assert resp.body == [api.task(a["id"]), api.task(b["id"])]


def test_empty_list_is_an_empty_array(api):
    resp = api.get(_base(api))
    assert resp.status == 200 and resp.body == [], resp


def test_list_is_not_paginated(api):
    created = [api.create(f"Many {i:02d}") for i in range(55)]
    resp = api.get(_base(api))
    assert resp.status == 200, resp
    assert [t["id"] for t in resp.body] == [t["id"] for t in created]


def test_post_creates_a_task(api):
    resp = api.post(_base(api), {"title": "  Seeded  ", "description": "Old client", "priority": "high", "tags": ["A"]})
    assert resp.status == 201, resp
    t = assert_task(resp.body, api.id)
    assert t["title"] == "Seeded" and t["description"] == "Old client"
    assert t["priority"] == "high" and t["tags"] == ["a"]
    assert t["status"] == "pending" and t["version"] == 1
    assert api.task(t["id"]) == t


def test_post_validates_like_the_tasks_api(api):
    assert_invalid(api.post(_base(api), {"description": "no title"}), {"title"})
    assert_invalid(api.post(_base(api), {"title": "x", "priority": "urgent"}), {"priority"})
    assert api.get(_base(api)).body == []


def test_get_one(api):
    t = api.create("One")
    resp = api.get(f"{_base(api)}/{t['id']}")
    assert resp.status == 200, resp
    assert resp.body == t


def test_put_updates(api):
    t = api.create("Before", description="old")
    resp = api.put(f"{_base(api)}/{t['id']}", {"title": "After", "description": "new"})
    assert resp.status == 200, resp
    u = assert_task(resp.body, api.id)
    assert u["id"] == t["id"]
    assert u["title"] == "After" and u["description"] == "new"
    assert u["version"] == 2
    assert api.task(t["id"]) == u


def test_put_validates(api):
    t = api.create("Valid")
    assert_invalid(api.put(f"{_base(api)}/{t['id']}", {"title": ""}), {"title"})
    assert api.task(t["id"]) == t


def test_delete(api):
    t = api.create("Doomed")
    resp = api.delete(f"{_base(api)}/{t['id']}")
    assert resp.status == 204, resp
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
    second = api.patch(path)
    assert second.status == 200, second
    again = assert_task(second.body, api.id)
    assert again["status"] == "pending" and again["completed_at"] is None and again["version"] == 3
    assert api.task(t["id"]) == again
    third = api.patch(path)
    assert third.status == 200 and third.body["status"] == "completed", third


@pytest.mark.parametrize("who", ["other-user", "random-uuid", "not-a-uuid"])
def test_a_path_with_another_user_id_is_404(api, other_api, who):
    mine = api.create("Mine")
    theirs = other_api.create("Theirs")
    uid = {"other-user": other_api.id, "random-uuid": str(uuid.uuid4()), "not-a-uuid": "someone"}[who]
    base = f"/api/{uid}/tasks"
    attempts = [
        ("GET", base, None),
        ("POST", base, {"title": "Planted"}),
    ]
    for tid in (mine["id"], theirs["id"]):
        attempts += [
            ("GET", f"{base}/{tid}", None),
            ("PUT", f"{base}/{tid}", {"title": "Hijacked"}),
            ("DELETE", f"{base}/{tid}", None),
            ("PATCH", f"{base}/{tid}/complete", None),
        ]
    for method, path, body in attempts:
        resp = api.request(method, path, body=body)
        assert resp.status == 404, f"{method} {path}: {resp!r}"
        assert_problem(resp, 404, FOREIGN_PATH_TYPES)
        assert "Theirs" not in resp.raw.decode("utf-8", "replace")
    assert api.get(_base(api)).body == [mine]
    assert other_api.get(_base(other_api)).body == [theirs]


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
    for method, path in (("GET", _base(api)), ("GET", f"{_base(api)}/{t['id']}"), ("PATCH", f"{_base(api)}/{t['id']}/complete")):
        assert_problem(server.request(method, path), 401, "token-missing")
    assert api.task(t["id"]) == t

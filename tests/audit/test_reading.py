"""Reading the log: workspace admins only, their own workspace only, filtered and paged newest first;
deployment-wide entries for staff only."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from backend.audit.models import AuditEntry

from ..endpoints.conftest import create_graph, make_key, publish, tagged_spec
from .conftest import client_for, member, workspace_of

pytestmark = pytest.mark.django_db


def url(workspace_id: int, query: str = "") -> str:
    return f"/api/workspaces/{workspace_id}/audit/{query}"


def test_admins_read_their_workspace_s_log_newest_first(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    make_key(alice_api, name="first")
    answer = alice_api.get(url(workspace_of(alice).pk))
    assert answer.status_code == 200
    body = answer.json()
    assert [e["action"] for e in body["results"]] == ["api_key.created", "endpoint.published"]
    assert body["next"] is None and "model.switched_off" in body["actions"]
    newest = body["results"][0]
    assert newest["actor"] == {"id": alice.pk, "username": "alice"}
    assert newest["target"]["type"] == "api_key" and newest["target"]["name"].startswith("first (")
    assert newest["before"] is None and newest["after"]["name"] == "first"
    assert newest["workspace"] == workspace_of(alice).pk and "at" in newest


def test_viewers_and_editors_get_403_and_strangers_404(alice, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_of(alice)
    make_key(alice_api)
    for role in ("viewer", "editor"):
        answer = client_for(member(workspace, f"m-{role}", role)).get(url(workspace.pk))
        assert answer.status_code == 403, role
        assert answer.json()["error"] == "permission_denied" and "admin" in answer.json()["message"]
    assert bob_api.get(url(workspace.pk)).status_code == 404, "not a member: the workspace is not even there"


def test_another_workspace_s_entries_are_never_visible(alice, alice_api, bob, bob_api) -> None:  # type: ignore[no-untyped-def]
    make_key(alice_api, name="alice's key")
    make_key(bob_api, name="bob's key")
    mine = bob_api.get(url(workspace_of(bob).pk)).json()["results"]
    assert [e["target"]["name"].split(" (")[0] for e in mine] == ["bob's key"]
    assert bob_api.get(url(workspace_of(alice).pk)).status_code == 404
    # bob is the admin of his own workspace, which says nothing about alice's: filters cannot widen the scope
    for query in ("?action=api_key.created", "?actor=alice", "?target_type=api_key", "?limit=200"):
        shown = bob_api.get(url(workspace_of(bob).pk, query)).json()["results"]
        assert all(e["workspace"] == workspace_of(bob).pk for e in shown), query
        assert "alice's key" not in str(shown), query


def test_deployment_wide_entries_are_for_staff_only(alice, alice_api, staff_api) -> None:  # type: ignore[no-untyped-def]
    assert staff_api.put("/api/models/cheap/", {"model": "demo/cheap"}, format="json").status_code == 200
    assert staff_api.patch("/api/models/cheap/", {"enabled": False}, format="json").status_code == 200
    staff_view = staff_api.get("/api/audit/")
    assert staff_view.status_code == 200
    assert [(e["action"], e["target"]["name"], e["workspace"]) for e in staff_view.json()["results"]] == [
        ("model.switched_off", "cheap", None), ("model.created", "cheap", None)]
    assert staff_api.get("/api/audit/?action=model.switched_off").json()["results"][0]["before"]["enabled"] is True
    assert alice_api.get("/api/audit/").status_code == 403
    assert alice_api.get(url(workspace_of(alice).pk)).json()["results"] == [], \
        "deployment-wide changes are not in any workspace's log"


def test_filters_by_action_target_actor_and_dates(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_of(alice)
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    key = make_key(alice_api)
    alice_api.post(f"/api/api-keys/{key['id']}/revoke/")
    editor_api = client_for(member(workspace, "eddie", "admin"))
    make_key(editor_api, name="eddie's")

    def actions(query: str) -> list[str]:
        answer = alice_api.get(url(workspace.pk, query))
        assert answer.status_code == 200, answer.json()
        return [e["action"] for e in answer.json()["results"]]

    assert actions("?action=api_key.revoked") == ["api_key.revoked"]
    assert actions("?action=api_key.revoked,endpoint.published") == ["api_key.revoked", "endpoint.published"]
    assert actions("?action=api_key.revoked&action=endpoint.published") == ["api_key.revoked",
                                                                            "endpoint.published"]
    assert actions("?target_type=endpoint") == ["endpoint.published"]
    assert actions("?actor=eddie") == ["api_key.created"]
    today = timezone.now().date()
    assert len(actions(f"?since={today}&until={today}")) == 4
    assert actions(f"?until={today - dt.timedelta(days=1)}") == []
    assert actions(f"?since={(timezone.now() + dt.timedelta(hours=1)).isoformat().replace('+00:00', 'Z')}") == []


def test_pages_follow_a_cursor_without_gaps_or_repeats(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        make_key(alice_api, name=f"key {i}")
    seen: list[int] = []
    page = alice_api.get(url(workspace_of(alice).pk, "?limit=2")).json()
    while True:
        seen += [e["id"] for e in page["results"]]
        if page["next"] is None:
            break
        make_key(alice_api, name="made while paging")  # newer entries do not shift older pages
        page = alice_api.get(page["next"]).json()
    first_five = list(AuditEntry.objects.filter(after__name__startswith="key ").values_list("id", flat=True))
    assert seen == sorted(first_five, reverse=True)


@pytest.mark.parametrize(("query", "path"), [
    ("?limit=0", "query.limit"), ("?limit=201", "query.limit"), ("?limit=²", "query.limit"),
    ("?before=abc", "query.before"), ("?before=-1", "query.before"), ("?since=yesterday", "query.since"),
    ("?until=2026-13-45", "query.until"), ("?action=endpoint.deleted", "query.action"),
])
def test_bad_query_parameters_are_a_400_naming_the_parameter(alice, alice_api, query, path) -> None:  # type: ignore[no-untyped-def]
    answer = alice_api.get(url(workspace_of(alice).pk, query))
    assert answer.status_code == 400
    assert answer.json()["problems"][0]["path"] == path


def test_the_log_is_read_only_through_the_api(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    make_key(alice_api)
    workspace = workspace_of(alice)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(alice_api, method)(url(workspace.pk), {}, format="json").status_code == 405, method
    assert AuditEntry.objects.count() == 1

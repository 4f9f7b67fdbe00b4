"""Members: admins invite (existing accounts, by username or email), change roles and remove; a workspace
always keeps an admin; everyone else reads the list. And the migration that made owners admins."""
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from backend.graphs.models import Membership, Workspace
from tests.conftest import token_for


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def team(alice) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    workspace = Workspace.objects.get(membership__user=alice)
    users = get_user_model().objects
    return {"workspace": workspace, "url": f"/api/workspaces/{workspace.pk}/members/",
            "carol": users.create_user("carol", email="Carol@Example.test"),
            "dan": users.create_user("dan", email="dan@example.test")}


def roles(workspace: Workspace) -> dict[str, str]:
    return dict(Membership.objects.filter(workspace=workspace).values_list("user__username", "role"))


def test_an_admin_invites_by_username_or_email_changes_roles_and_removes(alice_api, team) -> None:  # type: ignore[no-untyped-def]
    url, workspace = team["url"], team["workspace"]
    listed = alice_api.get(url).json()
    assert (listed["your_role"], listed["can_manage"], listed["roles"]) == ("admin", True, ["admin", "editor", "viewer"])
    assert [(m["username"], m["role"], m["is_you"]) for m in listed["members"]] == [("alice", "admin", True)]

    invited = alice_api.post(url, {"user": "carol"}, format="json")
    assert invited.status_code == 201 and invited.json()["role"] == "viewer"  # the least role unless told
    assert alice_api.post(url, {"user": "DAN@example.test", "role": "editor"}, format="json").status_code == 201
    assert roles(workspace) == {"alice": "admin", "carol": "viewer", "dan": "editor"}

    changed = alice_api.patch(f"{url}{team['carol'].pk}/", {"role": "admin"}, format="json")
    assert changed.status_code == 200 and changed.json() == {"user_id": team["carol"].pk, "username": "carol",
                                                             "role": "admin", "is_you": False}
    assert alice_api.delete(f"{url}{team['dan'].pk}/").status_code == 204
    assert roles(workspace) == {"alice": "admin", "carol": "admin"}
    # Carol, now a member, sees the workspace's graphs like any member.
    assert client_for(team["carol"]).get(url).json()["can_manage"] is True


@pytest.mark.parametrize(("body", "path", "code"), [
    ({"user": "nobody"}, "user", "unknown_user"), ({"user": ""}, "user", "invalid"),
    ({"user": "alice"}, "user", "already_member"), ({"user": "carol", "role": "owner"}, "role", "invalid"),
    ({"role": "viewer"}, "user", "invalid"), ({"user": ["carol"]}, "user", "invalid"),
])
def test_a_bad_invite_names_its_field(alice_api, team, body, path, code) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.post(team["url"], body, format="json")
    assert response.status_code == 400 and response.json()["error"] == code
    assert path in {p["path"] for p in response.json()["problems"]}
    assert roles(team["workspace"]) == {"alice": "admin"}


def test_the_last_admin_cannot_be_demoted_or_removed(alice, alice_api, team) -> None:  # type: ignore[no-untyped-def]
    url, me = team["url"], f"{team['url']}{alice.pk}/"
    for response in (alice_api.patch(me, {"role": "editor"}, format="json"), alice_api.delete(me)):
        assert response.status_code == 400 and response.json()["error"] == "last_admin", response.json()
        assert "last admin" in response.json()["message"] or "last admin" in response.json()["problems"][0]["message"]
    # With a second admin, alice may step down; then carol is the last one and is held in place.
    alice_api.post(url, {"user": "carol", "role": "admin"}, format="json")
    assert alice_api.patch(me, {"role": "editor"}, format="json").status_code == 200
    carol = client_for(team["carol"])
    assert carol.delete(f"{url}{team['carol'].pk}/").json()["error"] == "last_admin"
    assert roles(team["workspace"]) == {"alice": "editor", "carol": "admin"}


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_non_admins_read_the_list_and_change_nothing(alice, team, role) -> None:  # type: ignore[no-untyped-def]
    url, workspace = team["url"], team["workspace"]
    Membership.objects.create(workspace=workspace, user=team["dan"], role=role)
    dan = client_for(team["dan"])
    listed = dan.get(url).json()
    assert (listed["your_role"], listed["can_manage"]) == (role, False)
    assert sorted(m["username"] for m in listed["members"]) == ["alice", "dan"]
    for response in (dan.post(url, {"user": "carol"}, format="json"),
                     dan.patch(f"{url}{team['dan'].pk}/", {"role": "admin"}, format="json"),  # not even oneself
                     dan.delete(f"{url}{alice.pk}/")):
        assert response.status_code == 403 and "the admin role" in response.json()["message"], response.json()
    assert roles(workspace) == {"alice": "admin", "dan": role}


def test_another_workspace_gets_404(alice, bob_api, team) -> None:  # type: ignore[no-untyped-def]
    assert bob_api.get(team["url"]).status_code == 404
    assert bob_api.post(team["url"], {"user": "bob", "role": "admin"}, format="json").status_code == 404
    assert bob_api.delete(f"{team['url']}{alice.pk}/").status_code == 404
    assert roles(team["workspace"]) == {"alice": "admin"}


def test_the_migration_makes_owners_admins_and_back(transactional_db) -> None:  # type: ignore[no-untyped-def]
    before, after = [("graphs", "0002_workspace_retention")], [("graphs", "0003_member_roles")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        user = old.get_model("auth", "User").objects.create(username="olga")
        workspace = old.get_model("graphs", "Workspace").objects.create(name="old")
        old.get_model("graphs", "Membership").objects.create(workspace=workspace, user=user, role="owner")
        old.get_model("graphs", "Membership").objects.create(
            workspace=workspace, user=old.get_model("auth", "User").objects.create(username="ed"), role="editor")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert dict(Membership.objects.values_list("user__username", "role")) == {"olga": "admin", "ed": "editor"}
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert dict(Membership.objects.values_list("user__username", "role")) == {"olga": "owner", "ed": "editor"}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

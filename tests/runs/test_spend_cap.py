"""The workspace's monthly spend cap on runs started through the API, and its settings route."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from backend.audit.models import AuditEntry
from backend.graphs.services import workspace_for_user
from backend.runs.models import Run
from backend.runs.spend import month_start, next_month_start

pytestmark = pytest.mark.django_db

SPEC = {"schema": "patchbay.graph/v1", "name": "one", "nodes": [{"id": "in", "type": "input"},
                                                                {"id": "out", "type": "output", "config": {"value": "done"}}],
        "edges": [{"from": "in", "to": "out"}]}


def _graph(api: Any) -> int:
    response = api.post("/api/graphs/", {"spec": SPEC}, format="json")
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def _start(api: Any, graph: int) -> Any:
    return api.post("/api/runs/", {"graph": graph, "input": {}}, format="json")


def _spend(api: Any, workspace_id: int) -> dict[str, Any]:
    response = api.get(f"/api/workspaces/{workspace_id}/spend/")
    assert response.status_code == 200, response.json()
    return dict(response.json())


def _set(api: Any, workspace_id: int, **fields: Any) -> Any:
    return api.patch(f"/api/workspaces/{workspace_id}/spend/", fields, format="json")


def test_the_cap_refuses_the_next_run_once_the_month_has_spent_it(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_for_user(alice)
    graph = _graph(alice_api)
    assert _set(alice_api, workspace.pk, monthly_cap_usd=0.05).status_code == 200
    first = _start(alice_api, graph)
    assert first.status_code == 201, first.json()
    Run.objects.filter(pk=first.json()["id"]).update(cost_usd=0.03)
    assert _start(alice_api, graph).status_code == 201  # $0.03 of $0.05: still under
    refused_before = _spend(alice_api, workspace.pk)["refused_this_month"]

    Run.objects.filter(pk=first.json()["id"]).update(cost_usd=0.05)
    runs = Run.objects.count()
    refused = _start(alice_api, graph)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "workspace_spend_cap"
    assert "$0.05" in body["message"] and "monthly spend cap" in body["message"]
    assert 0 < int(refused["Retry-After"]) <= (next_month_start() - timezone.now()).total_seconds() + 1
    assert Run.objects.count() == runs  # nothing started

    status = _spend(alice_api, workspace.pk)
    assert status["spend_this_month"] == pytest.approx(0.05)
    assert status["reached"] and status["warning"]
    assert status["refused_this_month"] == refused_before + 1

    assert _set(alice_api, workspace.pk, monthly_cap_usd=None).status_code == 200  # no cap: runs start again
    assert _start(alice_api, graph).status_code == 201


def test_last_months_runs_do_not_count_and_the_warning_follows_the_threshold(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_for_user(alice)
    graph = _graph(alice_api)
    run_id = _start(alice_api, graph).json()["id"]
    Run.objects.filter(pk=run_id).update(cost_usd=5, created_at=month_start() - dt.timedelta(seconds=1))
    this_month = _start(alice_api, graph).json()["id"]
    Run.objects.filter(pk=this_month).update(cost_usd=0.4)

    status = _set(alice_api, workspace.pk, monthly_cap_usd=1, warn_at_fraction=0.5).json()
    assert status["spend_this_month"] == pytest.approx(0.4)
    assert not status["warning"] and not status["reached"]
    Run.objects.filter(pk=this_month).update(cost_usd=0.6)
    status = _spend(alice_api, workspace.pk)
    assert status["warning"] and not status["reached"]
    assert _start(alice_api, graph).status_code == 201  # a warning refuses nothing
    assert not _set(alice_api, workspace.pk, warn_at_fraction=0.9).json()["warning"]


def test_viewers_read_the_cap_but_only_admins_change_it_and_changes_are_audited(alice, alice_api, bob, bob_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_for_user(alice)
    invited = alice_api.post(f"/api/workspaces/{workspace.pk}/members/", {"user": "bob", "role": "viewer"},
                             format="json")
    assert invited.status_code == 201, invited.json()
    assert _spend(bob_api, workspace.pk)["monthly_cap_usd"] is None
    denied = _set(bob_api, workspace.pk, monthly_cap_usd=1)
    assert denied.status_code == 403 and "admin" in denied.json()["message"]
    workspace.refresh_from_db()
    assert workspace.monthly_cap_usd is None

    assert _set(alice_api, workspace.pk, monthly_cap_usd=12.5).json()["monthly_cap_usd"] == 12.5
    entry = AuditEntry.objects.filter(workspace=workspace, action="spend_cap.changed").get()
    assert entry.before["monthly_cap_usd"] is None and entry.after["monthly_cap_usd"] == 12.5
    assert entry.actor_username == "alice"


@pytest.mark.parametrize(("fields", "path"), [
    ({"monthly_cap_usd": -1}, "monthly_cap_usd"), ({"monthly_cap_usd": "ten"}, "monthly_cap_usd"),
    ({"monthly_cap_usd": True}, "monthly_cap_usd"), ({"warn_at_fraction": 0}, "warn_at_fraction"),
    ({"warn_at_fraction": 1.5}, "warn_at_fraction"), ({"warn_at_fraction": None}, "warn_at_fraction"),
    ({"cap": 3}, "cap")])
def test_bad_settings_are_400_naming_the_field(alice, alice_api, fields: dict[str, Any], path: str) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_for_user(alice)
    response = _set(alice_api, workspace.pk, **fields)
    assert response.status_code == 400, response.json()
    assert [p["path"] for p in response.json()["problems"]] == [path]
    workspace.refresh_from_db()
    assert workspace.monthly_cap_usd is None and workspace.warn_at_fraction == 0.8

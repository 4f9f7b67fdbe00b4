"""The dashboard API reads crafted Run/Span rows through the selector and answers the hand-computed numbers;
labels: editors write them, viewers read them, bad ones are 400s naming the field."""
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.graphs.models import Graph, Membership
from backend.insights.selectors import true_route_of
from tests.conftest import token_for

from .factory import gate, label_routes, llm, router, run, save_runs, vote
from .graphs import PATTERNS

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(alice_api: APIClient) -> Graph:
    response = alice_api.post("/api/graphs/", {"spec": PATTERNS}, format="json")
    assert response.status_code == 201, response.json()
    return Graph.objects.get(pk=response.json()["id"])


def client_for(graph: Graph, name: str, role: str) -> APIClient:
    user = get_user_model().objects.create_user(name)
    Membership.objects.create(workspace=graph.workspace, user=user, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def insights(api: APIClient, graph: Graph, query: str = "since=2026-10-01&until=2026-12-01") -> dict[str, Any]:
    response = api.get(f"/api/graphs/{graph.pk}/insights/?{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_dashboard_from_recorded_rows_equals_hand_computed(alice_api: APIClient, graph: Graph) -> None:
    history = [
        run(gate("check", True), router("triage", "billing"), vote("agree", 1.0, each=0.002), cache_hits=1),
        run(gate("check", True), router("triage", "billing"), vote("agree", 0.6667, each=0.002), fallbacks=1),
        run(gate("check", True), router("triage", "technical"), llm("polish", 0.01)),
        run(gate("check", True), router("triage", "default"), llm("plan", 0.02)),
        run(gate("check", False)),
    ]
    save_runs(graph, history)
    label_routes(history, "triage", ["billing", "technical", "technical", None, None])
    found = insights(alice_api, graph)

    assert found["runs"] == 5
    triage = found["patterns"]["routers"][0]
    assert triage["runs"] == 4 and triage["labelled"] == 3
    assert {r["true"]: r["counts"] for r in triage["matrix"]}["technical"] == {"billing": 1, "technical": 1,
                                                                              "default": 0}
    per = {r["route"]: r for r in triage["per_route"]}
    assert per["billing"]["precision"] == 0.5 and per["technical"]["recall"] == 0.5
    assert triage["default_share"] == 0.25
    agree = found["patterns"]["votes"][0]
    assert agree["runs"] == 2 and agree["unanimous_share"] == 0.5
    check = found["patterns"]["gates"][0]
    assert check["exits"] == 1 and check["exit_rate"] == 0.2
    # Passed runs spent 0.006, 0.006, 0.01 and 0.02 after the gate: 0.0105 on average, saved once.
    assert check["saved_usd"] == pytest.approx(0.0105)
    assert found["calls"]["llm_calls"] == 8 and found["calls"]["cache_hits"] == 1
    assert found["calls"]["fallback_rate"] == pytest.approx(1 / 8)
    assert found["cost"]["total_usd"] == pytest.approx(0.042)
    steps = {s["node_id"]: s for s in found["steps"]}
    assert steps["plan"]["cost_share"] == pytest.approx(0.02 / 0.042)


def test_period_leaves_out_older_runs_and_bad_periods_are_400(alice_api: APIClient, graph: Graph) -> None:
    save_runs(graph, [run(gate("check", True)), run(gate("check", True), day=20)])
    assert insights(alice_api, graph, "since=2026-11-10&until=2026-12-01")["runs"] == 1
    response = alice_api.get(f"/api/graphs/{graph.pk}/insights/?since=2026-12-01&until=2026-11-01")
    assert response.status_code == 400 and response.json()["problems"][0]["path"] == "since"
    response = alice_api.get(f"/api/graphs/{graph.pk}/insights/?days=0")
    assert response.status_code == 400 and response.json()["problems"][0]["path"] == "days"


def test_advisor_finding_in_the_dashboard(alice_api: APIClient, graph: Graph) -> None:
    save_runs(graph, [run(gate("check", True), router("triage", "billing"), vote("agree", 1.0)) for _ in range(30)])
    findings = insights(alice_api, graph)["findings"]
    assert {f["rule"] for f in findings} == {"vote_always_agrees", "gate_never_fires"}


def test_labels_set_change_and_read(alice_api: APIClient, graph: Graph) -> None:
    (crafted,) = save_runs(graph, [run(gate("check", True), router("triage", "billing"))])
    url = f"/api/runs/{crafted.pk}/labels/"
    response = alice_api.post(url, {"node_id": "triage", "route": "technical", "comment": "about a crash"},
                              format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["created_by"] == "alice"
    response = alice_api.post(url, {"node_id": "triage", "verdict": "fail"}, format="json")
    assert response.status_code == 200
    assert response.json() | {"created_at": None, "updated_at": None} == {
        "node_id": "triage", "route": "technical", "verdict": "fail", "comment": "about a crash",
        "created_by": "alice", "updated_by": "alice", "created_at": None, "updated_at": None}
    assert true_route_of(crafted.pk, "triage") == "technical"

    viewer = client_for(graph, "vic", Membership.Role.VIEWER)
    assert [row["route"] for row in viewer.get(url).json()] == ["technical"]
    refused = viewer.post(url, {"node_id": "triage", "route": "billing"}, format="json")
    assert refused.status_code == 403 and "editor" in refused.json()["message"]
    assert true_route_of(crafted.pk, "triage") == "technical"


@pytest.mark.parametrize(("body", "path"), [
    ({"node_id": "triage", "route": "refunds"}, "route"),
    ({"node_id": "check", "route": "billing"}, "route"),
    ({"node_id": "nowhere", "verdict": "pass"}, "node_id"),
    ({"node_id": "triage", "verdict": "maybe"}, "verdict"),
    ({"node_id": "triage", "comment": 5}, "comment"),
    ({"node_id": ["triage"]}, "node_id"),
])
def test_bad_labels_are_400_naming_the_field(alice_api: APIClient, graph: Graph, body: dict, path: str) -> None:
    (crafted,) = save_runs(graph, [run(gate("check", True), router("triage", "billing"))])
    response = alice_api.post(f"/api/runs/{crafted.pk}/labels/", body, format="json")
    assert response.status_code == 400, response.json()
    assert [p["path"] for p in response.json()["problems"]] == [path]


def test_outsider_sees_neither_labels_nor_insights(alice_api: APIClient, bob_api: APIClient, graph: Graph) -> None:
    (crafted,) = save_runs(graph, [run(gate("check", True))])
    assert bob_api.get(f"/api/runs/{crafted.pk}/labels/").status_code == 404
    assert bob_api.get(f"/api/graphs/{graph.pk}/insights/").status_code == 404

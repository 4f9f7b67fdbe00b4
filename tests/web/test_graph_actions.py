"""Restore an old version as a new one; duplicate a graph."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())


def make_graph(api) -> tuple[int, dict, dict]:  # type: ignore[no-untyped-def]
    v1 = copy.deepcopy(CHAIN)
    graph_id = api.post("/api/graphs/", {"spec": v1, "message": "first"}, format="json").json()["id"]
    v2 = copy.deepcopy(CHAIN)
    v2["nodes"][1]["config"]["prompt"] = "Only list the items.\n\n{{ input.text }}"
    assert api.put(f"/api/graphs/{graph_id}/", {"spec": v2, "message": "second"}, format="json").status_code == 201
    return graph_id, v1, v2


def test_restoring_an_old_version_saves_it_again_as_the_newest(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id, v1, _ = make_graph(alice_api)
    response = alice_api.post(f"/api/graphs/{graph_id}/restore/", {"version": 1}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created_version"] is True and body["latest_version"]["number"] == 3
    assert body["latest_version"]["message"] == "Restored version 1"
    assert body["spec"] == v1
    versions = alice_api.get(f"/api/graphs/{graph_id}/versions/").json()
    assert [v["number"] for v in versions] == [3, 2, 1]  # history only grows


def test_restoring_the_current_version_changes_nothing(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id, _, _ = make_graph(alice_api)
    response = alice_api.post(f"/api/graphs/{graph_id}/restore/", {"version": 2, "message": "again"}, format="json")
    assert response.status_code == 200 and response.json()["created_version"] is False
    assert response.json()["latest_version"]["number"] == 2


def test_restoring_an_unknown_version_is_a_404_in_the_error_shape(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id, _, _ = make_graph(alice_api)
    response = alice_api.post(f"/api/graphs/{graph_id}/restore/", {"version": 9}, format="json")
    assert response.status_code == 404 and set(response.json()) == {"error", "message", "problems"}
    response = alice_api.post(f"/api/graphs/{graph_id}/restore/", {"version": "x"}, format="json")
    assert response.status_code == 400 and response.json()["problems"][0]["path"] == "version"


def test_nobody_restores_or_duplicates_another_workspaces_graph(alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    graph_id, _, _ = make_graph(alice_api)
    assert bob_api.post(f"/api/graphs/{graph_id}/restore/", {"version": 1}, format="json").status_code == 404
    assert bob_api.post(f"/api/graphs/{graph_id}/duplicate/", {}, format="json").status_code == 404
    assert len(alice_api.get(f"/api/graphs/{graph_id}/versions/").json()) == 2


def test_duplicating_copies_the_latest_version_under_a_new_name(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id, _, v2 = make_graph(alice_api)
    response = alice_api.post(f"/api/graphs/{graph_id}/duplicate/", {}, format="json")
    assert response.status_code == 201, response.json()
    copy_ = response.json()
    assert copy_["id"] != graph_id and copy_["name"] == "order-notes (copy)"
    assert copy_["spec"] == {**v2, "name": "order-notes (copy)"}
    assert copy_["latest_version"]["number"] == 1 and "version 2" in copy_["latest_version"]["message"]
    named = alice_api.post(f"/api/graphs/{graph_id}/duplicate/", {"name": "triage-b"}, format="json").json()
    assert named["name"] == "triage-b"
    assert len(alice_api.get("/api/graphs/").json()) == 3

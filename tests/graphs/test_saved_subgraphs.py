"""Subgraphs that name saved graphs (name@version): resolved, run, and refused when they recurse."""
from __future__ import annotations

from backend.graphs.models import GraphVersion

CHILD = {
    "schema": "patchbay.graph/v1", "name": "shouter",
    "inputs": {"type": "object", "properties": {"text": {"type": "string"}}},
    "nodes": [{"id": "in", "type": "input"}, {"id": "loud", "type": "transform", "config": {"value": "{{ input.text | upper }}"}},
              {"id": "out", "type": "output", "config": {"value": "{{ nodes.loud.output }}"}}],
    "edges": [{"from": "in", "to": "loud"}, {"from": "loud", "to": "out"}],
}


def caller(name: str, ref: str) -> dict:
    return {"schema": "patchbay.graph/v1", "name": name,
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "call", "type": "subgraph", "config": {"subgraph": {"graph": ref},
                                                                   "input": {"text": "hi"}}},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.call.output }}"}}],
            "edges": [{"from": "in", "to": "call"}, {"from": "call", "to": "out"}]}


def test_a_saved_graph_can_be_called_by_name_and_version(alice_api) -> None:  # type: ignore[no-untyped-def]
    assert alice_api.post("/api/graphs/", {"spec": CHILD}, format="json").status_code == 201
    ok = alice_api.post("/api/graphs/", {"spec": caller("caller", "shouter@1")}, format="json")
    assert ok.status_code == 201, ok.json()
    missing = alice_api.post("/api/graphs/", {"spec": caller("caller2", "shouter@7")}, format="json")
    assert missing.status_code == 400
    assert missing.json()["problems"][0]["path"] == "spec.nodes[1].config.subgraph.graph"


def test_recursion_through_saved_graphs_is_refused_and_nothing_saved(alice_api) -> None:  # type: ignore[no-untyped-def]
    a_id = alice_api.post("/api/graphs/", {"spec": {**CHILD, "name": "alpha"}}, format="json").json()["id"]
    assert alice_api.post("/api/graphs/", {"spec": caller("beta", "alpha@1")}, format="json").status_code == 201
    before = GraphVersion.objects.count()
    looped = alice_api.put(f"/api/graphs/{a_id}/", {"spec": caller("alpha", "beta@1")}, format="json")
    assert looped.status_code == 400
    problem = looped.json()["problems"][0]
    assert problem["path"] == "spec.nodes[1].config.subgraph.graph" and "beta@1 → alpha@1" in problem["message"]
    itself = alice_api.put(f"/api/graphs/{a_id}/", {"spec": caller("alpha", "alpha@1")}, format="json")
    assert itself.status_code == 400 and "cannot call itself" in itself.json()["problems"][0]["message"]
    assert GraphVersion.objects.count() == before


def test_another_workspace_cannot_call_my_graph(alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    alice_api.post("/api/graphs/", {"spec": CHILD}, format="json")
    refused = bob_api.post("/api/graphs/", {"spec": caller("thief", "shouter@1")}, format="json")
    assert refused.status_code == 400 and "no saved graph matches" in refused.json()["problems"][0]["message"]

"""Graphs and prompts over the API: versions are immutable, bad input is a 400 that saves nothing."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from backend.graphs.models import Graph, GraphVersion, PromptVersion

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())


def test_create_then_save_makes_numbered_immutable_versions(alice_api) -> None:  # type: ignore[no-untyped-def]
    created = alice_api.post("/api/graphs/", {"spec": CHAIN, "message": "first"}, format="json")
    assert created.status_code == 201, created.json()
    graph_id = created.json()["id"]
    changed = copy.deepcopy(CHAIN)
    changed["nodes"][3]["config"]["params"]["max_tokens"] = 7
    saved = alice_api.put(f"/api/graphs/{graph_id}/", {"spec": changed, "message": "shorter"}, format="json")
    assert saved.status_code == 201 and saved.json()["latest_version"]["number"] == 2
    same = alice_api.put(f"/api/graphs/{graph_id}/", {"spec": changed}, format="json")
    assert same.status_code == 200 and same.json()["created_version"] is False  # no empty versions
    versions = alice_api.get(f"/api/graphs/{graph_id}/versions/").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert [v["message"] for v in versions] == ["shorter", "first"] and versions[0]["author"] == "alice"
    v1 = alice_api.get(f"/api/graphs/{graph_id}/versions/1/").json()
    assert v1["spec"] == CHAIN
    with pytest.raises(ValueError, match="immutable"):
        GraphVersion.objects.get(graph_id=graph_id, number=1).save()


INVALID = {
    "schema": "patchbay.graph/v1",
    "name": "broken",
    "nodes": [
        {"id": "in", "type": "input"},
        {"id": "a", "type": "llm", "config": {"model": "fast", "prompt": "{{ ''.__class__.__mro__ }}"}},
        {"id": "b", "type": "llm", "config": {"model": "fast", "prompt": "{{ nodes.missing.output }}"}},
        {"id": "c", "type": "warp_drive"},
        {"id": "d", "type": "transform", "config": {"value": "x"}},
        {"id": "e", "type": "transform", "config": {"value": "y"}},
        {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}},
    ],
    "edges": [
        {"from": "in", "to": "a"}, {"from": "a", "to": "out"}, {"from": "in", "to": "b"},
        {"from": "b", "to": "ghost"}, {"from": "d", "to": "e"}, {"from": "e", "to": "d"},
    ],
}


def test_an_invalid_graph_gets_every_problem_and_nothing_is_saved(alice_api) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/", {"spec": INVALID}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_graph"
    by_path = {}
    for p in body["problems"]:
        by_path.setdefault(p["path"], []).append(p["message"])
    assert any("__class__" in m for m in by_path["spec.nodes[1].config.prompt"])
    assert any("missing" in m for m in by_path["spec.nodes[2].config.prompt"])
    assert any("warp_drive" in m for m in by_path["spec.nodes[3].type"])
    assert any("ghost" in m for m in by_path["spec.edges[3].to"])
    assert any("closes a loop" in m for ms in by_path.values() for m in ms)
    assert Graph.objects.count() == 0 and GraphVersion.objects.count() == 0


def test_validate_endpoint_lists_problems_without_saving(alice_api) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/validate/", {"spec": INVALID}, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is False and len(response.json()["problems"]) >= 5
    ok = alice_api.post("/api/graphs/validate/", {"spec": CHAIN}, format="json").json()
    assert ok == {"valid": True, "problems": []}
    assert Graph.objects.count() == 0


@pytest.mark.parametrize("body, path", [
    ({"spec": "not a graph"}, "spec"),
    ({}, "spec"),
    ({"spec": CHAIN, "workspace": 999999}, "workspace"),
    ({"spec": {**CHAIN, "nodes": [{"id": "x", "type": "llm", "config": {"model": "no-such-alias", "prompt": "x"}},
                                  {"id": "out", "type": "output", "config": {"value": 1}}], "edges": []}},
     "spec.nodes[0].config.model"),
])
def test_hostile_bodies_are_400_with_the_field_at_fault(alice_api, body, path) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/", body, format="json")
    assert response.status_code == 400, response.content
    assert path in [p["path"] for p in response.json()["problems"]]
    assert Graph.objects.count() == 0


def test_malformed_json_and_oversized_bodies_are_refused_cleanly(alice_api) -> None:  # type: ignore[no-untyped-def]
    bad = alice_api.generic("POST", "/api/graphs/", "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"] == "parse_error"
    huge = json.dumps({"spec": {**CHAIN, "description": "x" * (3 * 1024 * 1024)}})
    too_big = alice_api.generic("POST", "/api/graphs/", huge, content_type="application/json")
    assert too_big.status_code == 413 and too_big.json()["error"] == "too_large"
    assert Graph.objects.count() == 0


def test_another_workspace_cannot_read_or_change_a_graph(alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    assert bob_api.get(f"/api/graphs/{graph_id}/").status_code == 404
    assert bob_api.put(f"/api/graphs/{graph_id}/", {"spec": CHAIN}, format="json").status_code == 404
    assert bob_api.get("/api/graphs/").json() == []


def test_anonymous_requests_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/graphs/").status_code in (401, 403)


def test_prompt_versions_and_label_moves(alice_api) -> None:  # type: ignore[no-untyped-def]
    created = alice_api.post("/api/prompts/", {"name": "greet", "template": "Hello {{ input.name }}"}, format="json")
    assert created.status_code == 201 and created.json()["labels"] == {"production": 1, "staging": 1}
    v2 = alice_api.post("/api/prompts/greet/versions/", {"template": "Hi {{ input.name }}!"}, format="json")
    assert v2.status_code == 201 and v2.json()["number"] == 2
    labels = alice_api.get("/api/prompts/").json()[0]["labels"]
    assert labels == {"production": 1, "staging": 2}  # a new version lands on staging
    assert alice_api.put("/api/prompts/greet/labels/production/", {"version": 2}, format="json").status_code == 200
    assert alice_api.put("/api/prompts/greet/labels/production/", {"version": 1}, format="json").json()["version"] == 1
    missing = alice_api.put("/api/prompts/greet/labels/production/", {"version": 9}, format="json")
    assert missing.status_code == 400 and missing.json()["problems"][0]["path"] == "version"
    unsafe = alice_api.post("/api/prompts/greet/versions/", {"template": "{{ x.__class__ }}"}, format="json")
    assert unsafe.status_code == 400 and PromptVersion.objects.count() == 2


def test_a_graph_can_use_a_saved_prompt_by_label(alice_api) -> None:  # type: ignore[no-untyped-def]
    alice_api.post("/api/prompts/", {"name": "greet", "template": "Hello {{ input.text }}"}, format="json")
    spec = copy.deepcopy(CHAIN)
    spec["nodes"][4]["config"].pop("prompt")
    spec["nodes"][4]["config"]["prompt_ref"] = "greet@production"
    assert alice_api.post("/api/graphs/", {"spec": spec}, format="json").status_code == 201
    spec["nodes"][4]["config"]["prompt_ref"] = "greet@canary"
    refused = alice_api.post("/api/graphs/", {"spec": spec}, format="json")
    assert refused.status_code == 400
    assert refused.json()["problems"][0]["path"] == "spec.nodes[4].config.prompt_ref"


def test_node_type_catalogue_serves_config_schemas(alice_api) -> None:  # type: ignore[no-untyped-def]
    catalogue = {t["type"]: t for t in alice_api.get("/api/node-types/").json()}
    assert {"input", "output", "llm", "gate", "transform"} <= set(catalogue)
    assert catalogue["llm"]["config_schema"]["required"] == ["model"]
    assert catalogue["gate"]["out_ports"] == ["pass", "fail"]
    assert all(t["description"] for t in catalogue.values())


def test_model_catalogue_lists_demo_aliases_with_prices(alice_api) -> None:  # type: ignore[no-untyped-def]
    models = {m["alias"]: m for m in alice_api.get("/api/models/").json()}
    assert models["fast"]["demo"] is True and models["fast"]["input_cost_per_mtok"] > 0


def test_deleting_a_graph_with_runs_removes_both(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.runs.models import Run

    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    graph = Graph.objects.get(pk=graph_id)
    Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                       trace_id="t" * 32)
    assert alice_api.delete(f"/api/graphs/{graph_id}/").status_code == 204
    assert not Graph.objects.filter(pk=graph_id).exists() and Run.objects.count() == 0


def test_nul_characters_are_refused_with_their_path_not_a_500(alice_api) -> None:  # type: ignore[no-untyped-def]
    spec = copy.deepcopy(CHAIN)
    spec["nodes"][1]["config"]["prompt"] = "bad \u0000 prompt"
    response = alice_api.post("/api/graphs/", {"spec": spec}, format="json")
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "spec.nodes[1].config.prompt"
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    run = alice_api.post("/api/runs/", {"graph": graph_id, "input": {"text": "a\u0000b"}}, format="json")
    assert run.status_code == 400 and run.json()["problems"][0]["path"] == "input.text"

"""A join that reads a step only some paths run: the API warns (validate and save), and saves anyway."""
from __future__ import annotations

import copy

from backend.graphs.models import Graph

ROUTED = {
    "schema": "patchbay.graph/v1",
    "name": "routed join",
    "inputs": {"type": "object", "properties": {"text": {"type": "string"}}},
    "nodes": [
        {"id": "in", "type": "input"},
        {"id": "classify", "type": "router", "config": {"mode": "rules", "routes": [
            {"label": "billing", "keywords": ["refund"]}, {"label": "technical", "keywords": ["crash"]}]}},
        {"id": "billing_reply", "type": "transform", "config": {"value": "refund {{ input.text }}"}},
        {"id": "tech_reply", "type": "transform", "config": {"value": "reboot {{ input.text }}"}},
        {"id": "general_reply", "type": "transform", "config": {"value": "hello"}},
        {"id": "out", "type": "output", "config": {"value": "{{ nodes.billing_reply.output }}"}},
    ],
    "edges": [
        {"from": "in", "to": "classify"},
        {"from": "classify", "port": "billing", "to": "billing_reply"},
        {"from": "classify", "port": "technical", "to": "tech_reply"},
        {"from": "classify", "port": "default", "to": "general_reply"},
        {"from": "billing_reply", "to": "out"}, {"from": "tech_reply", "to": "out"}, {"from": "general_reply", "to": "out"},
    ],
}


def test_validate_lists_the_warning_and_still_calls_the_graph_valid(alice_api) -> None:  # type: ignore[no-untyped-def]
    body = alice_api.post("/api/graphs/validate/", {"spec": ROUTED}, format="json").json()
    assert body["valid"] is True
    [warning] = body["problems"]
    assert warning["severity"] == "warning" and warning["node_id"] == "out"
    assert warning["path"] == "nodes[5].config.value"
    assert "'billing_reply', which runs only when router 'classify' takes 'billing'" in warning["message"]


def test_save_is_not_blocked_and_answers_with_the_warnings(alice_api) -> None:  # type: ignore[no-untyped-def]
    created = alice_api.post("/api/graphs/", {"spec": ROUTED}, format="json")
    assert created.status_code == 201, created.json()
    assert [w["node_id"] for w in created.json()["warnings"]] == ["out"]
    fixed = copy.deepcopy(ROUTED)
    fixed["nodes"][5]["config"]["value"] = ("{{ nodes.billing_reply.output | default(nodes.tech_reply.output)"
                                            " | default('') }}")
    saved = alice_api.put(f"/api/graphs/{created.json()['id']}/", {"spec": fixed}, format="json")
    assert saved.status_code == 201 and saved.json()["warnings"] == []
    assert Graph.objects.get(pk=created.json()["id"]).latest_version.number == 2


def test_an_error_still_blocks_with_the_warning_beside_it(alice_api) -> None:  # type: ignore[no-untyped-def]
    broken = copy.deepcopy(ROUTED)
    broken["nodes"][3]["config"]["value"] = "{{ nodes.nowhere.output }}"
    refused = alice_api.post("/api/graphs/", {"spec": broken}, format="json")
    assert refused.status_code == 400
    assert [p.get("severity", "error") for p in refused.json()["problems"]] == ["error"]
    body = alice_api.post("/api/graphs/validate/", {"spec": broken}, format="json").json()
    assert body["valid"] is False
    assert sorted(p.get("severity", "error") for p in body["problems"]) == ["error", "warning"]

"""Graphs up to the documented limits over the API: validate and save answer with problems, never a 500, and
every free-text field is type-checked before anything is saved (the engine side: tests/engine/test_graph_limits.py).
"""
from __future__ import annotations

import json
import time

import pytest

from backend.engine.validation import MAX_NODES
from backend.graphs.models import Graph
from tests.engine.scripted import chain, graph
from tests.engine.test_graph_limits import INPUT, linear


@pytest.mark.parametrize("n", [1000, MAX_NODES])
def test_a_long_chain_validates_over_the_api(alice_api, n: int) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = alice_api.post("/api/graphs/validate/", {"spec": linear(n)}, format="json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content[:500]
    assert response.json() == {"valid": True, "problems": []}
    print(f"\n/api/graphs/validate/ with a {n}-node chain: {elapsed * 1000:.0f} ms")
    assert elapsed < 30  # generous: the machine is shared; bench/results.md has the measured figure


def test_a_long_cycle_is_refused_at_save_with_its_edge(alice_api) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/", {"spec": linear(MAX_NODES, cycle=True)}, format="json")
    assert response.status_code == 400
    assert [p["path"] for p in response.json()["problems"]] == [f"spec.edges[{MAX_NODES - 1}]"]
    assert Graph.objects.count() == 0


@pytest.mark.parametrize("change, path", [
    (lambda d: d.update(description=["not", "text"]), "spec.description"),
    (lambda d: d.update(description={"x": 1}), "spec.description"),
    (lambda d: d.update(description="x" * 5001), "spec.description"),
    (lambda d: d.update(name=7), "spec.name"),
    (lambda d: d["nodes"][1].update(label=12), "spec.nodes[1].label"),
    (lambda d: d["nodes"][1].update(label={"text": "x"}), "spec.nodes[1].label"),
    (lambda d: d["nodes"][1].update(name="a name"), "spec.nodes[1].name"),
    (lambda d: d["nodes"][1]["config"]["routes"][0].update(description=5), "spec.nodes[1].config.routes[0].description"),
    (lambda d: d["nodes"][1]["config"]["routes"][0].update(label=["billing"]), "spec.nodes[1].config.routes[0].label"),
])
def test_free_text_fields_are_type_checked_and_nothing_is_saved(alice_api, change, path: str  # type: ignore[no-untyped-def]
                                                                ) -> None:
    doc = graph([INPUT, {"id": "r", "type": "router", "label": "Sort it",
                         "config": {"mode": "rules", "routes": [{"label": "billing", "keywords": ["invoice"],
                                                                 "description": "money"}]}},
                 {"id": "out", "type": "output", "config": {"value": "{{ nodes.r.output }}"}}],
                [{"from": "in", "to": "r"}, {"from": "r", "to": "out", "port": "default"}],
                description="Sorts notes")
    assert alice_api.post("/api/graphs/validate/", {"spec": doc}, format="json").json()["valid"] is True
    change(doc)
    response = alice_api.post("/api/graphs/", {"spec": doc}, format="json")
    assert response.status_code == 400, response.content
    assert path in [p["path"] for p in response.json()["problems"]]
    assert Graph.objects.count() == 0


def test_a_config_nested_as_deep_as_the_body_reader_allows_is_a_problem_not_a_500(alice_api  # type: ignore[no-untyped-def]
                                                                                   ) -> None:
    # Written out by hand: json.dumps (and the test client) recurse per level and stop short of this depth.
    levels = 450  # two JSON levels each: about as deep as the body reader parses, far beyond MAX_JSON_DEPTH
    deep = '{"subgraph": {"graph": "g@1"}, "a": [' * levels + '"x"' + "]}" * levels
    doc = json.dumps(graph([INPUT, {"id": "t", "type": "transform", "config": {"value": "DEEP"}},
                            {"id": "out", "type": "output", "config": {"value": "x"}}], chain("in", "t", "out")))
    body = '{"spec": ' + doc.replace('"DEEP"', deep) + "}"
    for url in ("/api/graphs/validate/", "/api/graphs/"):
        response = alice_api.generic("POST", url, body, content_type="application/json")
        assert response.status_code in (200, 400), response.content[:300]
        assert "nested" in response.json()["problems"][0]["message"]
    assert Graph.objects.count() == 0

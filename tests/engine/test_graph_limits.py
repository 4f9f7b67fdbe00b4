"""Graphs up to the documented limits validate without blowing the stack; every free-text field is type-checked.

The limit is 2,000 nodes (validation.MAX_NODES). A chain that long is 2,000
levels deep for any recursive walk, so every walk over nodes, edges and
templates is iterative or bounded by a small constant.
"""
from __future__ import annotations

import json
import time

import pytest

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.templates import MAX_TEMPLATE_NESTING, analyse
from backend.engine.validation import MAX_NODES
from backend.graphs.models import Graph

from .scripted import ScriptedLLM, chain, graph, llm

INPUT = {"id": "in", "type": "input"}


def linear(n: int, *, cycle: bool = False) -> dict:
    """input → t1 → … → output, n nodes in all; ``cycle`` adds one edge from the last transform back to the first."""
    middle = [{"id": f"t{i}", "type": "transform", "config": {"value": "{{ input }}"}} for i in range(1, n - 1)]
    nodes = [INPUT, *middle, {"id": "out", "type": "output", "config": {"value": "{{ input }}"}}]
    ids = [node["id"] for node in nodes]
    edges = chain(*ids)
    if cycle:
        edges.append({"from": ids[-2], "to": ids[1]})
    return graph(nodes, edges)


@pytest.mark.parametrize("n", [1000, MAX_NODES])
def test_a_long_chain_validates_over_the_api(alice_api, n: int) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = alice_api.post("/api/graphs/validate/", {"spec": linear(n)}, format="json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content[:500]
    assert response.json() == {"valid": True, "problems": []}
    print(f"\n/api/graphs/validate/ with a {n}-node chain: {elapsed * 1000:.0f} ms")
    assert elapsed < 30  # generous: the machine is shared; bench/results.md has the measured figure


def test_a_chain_at_the_limit_and_a_cycle_that_long() -> None:
    started = time.perf_counter()
    assert validate_graph(linear(MAX_NODES)) == []
    chain_s = time.perf_counter() - started
    started = time.perf_counter()
    problems = validate_graph(linear(MAX_NODES, cycle=True))
    cycle_s = time.perf_counter() - started
    assert len(problems) == 1
    assert problems[0].path == f"edges[{MAX_NODES - 1}]" and "closes a loop: t1 → t2 → " in problems[0].message
    assert problems[0].message.count("→") == MAX_NODES - 2  # t1 … t1998 and back to t1
    print(f"\nvalidate_graph, {MAX_NODES}-node chain: {chain_s * 1000:.0f} ms; "
          f"{MAX_NODES}-node cycle: {cycle_s * 1000:.0f} ms")


def test_a_long_cycle_is_refused_at_save_with_its_edge(alice_api) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/", {"spec": linear(MAX_NODES, cycle=True)}, format="json")
    assert response.status_code == 400
    assert [p["path"] for p in response.json()["problems"]] == [f"spec.edges[{MAX_NODES - 1}]"]
    assert Graph.objects.count() == 0


def test_templates_upstream_of_a_long_chain_are_still_checked() -> None:
    doc = linear(MAX_NODES)
    doc["nodes"][-1]["config"]["value"] = "{{ nodes.t1.output }} {{ nodes.t1998.output }}"
    assert validate_graph(doc) == []
    doc["nodes"][1]["config"]["value"] = "{{ nodes.t1998.output }}"  # t1 reads a node downstream of it
    problems = validate_graph(doc)
    assert [p.path for p in problems] == ["nodes[1].config.value"] and "not upstream" in problems[0].message


@pytest.mark.parametrize("source", [
    "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "{% if a %}" * 500 + "x" + "{% endif %}" * 500,
    "{{ input" + ".a" * 3000 + " }}",
    "{{ " + "-" * 5000 + "1 }}",
    "{{ " + " + ".join(["1"] * 3000) + " }}",
    "{{ input" + " | trim" * 3000 + " }}",
])
def test_deeply_nested_templates_are_a_problem_not_a_crash(source: str) -> None:
    assert analyse(source).syntax_error is not None
    doc = graph([INPUT, {"id": "t", "type": "transform", "config": {"value": source}},
                 {"id": "out", "type": "output", "config": {"value": "{{ nodes.t.output }}"}}], chain("in", "t", "out"))
    problems = validate_graph(doc)
    assert [p.path for p in problems] == ["nodes[1].config.value"] and "nested" in problems[0].message


def test_templates_within_the_nesting_limit_still_validate() -> None:
    depth = MAX_TEMPLATE_NESTING // 4
    source = "{% if input %}" * depth + "{{ input.text | trim | upper }}" + "{% endif %}" * depth
    assert analyse(source).syntax_error is None


@pytest.mark.parametrize("node_id", ["a\n", "a\r", "\na", "a b", "a\u0000"])
def test_a_node_id_must_match_the_rule_as_a_whole(node_id: str) -> None:
    doc = graph([INPUT, {"id": node_id, "type": "transform", "config": {"value": "x"}},
                 {"id": "out", "type": "output", "config": {"value": "x"}}],
                [{"from": "in", "to": node_id}, {"from": node_id, "to": "out"}])
    assert "nodes[1].id" in [p.path for p in validate_graph(doc)]


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


@pytest.mark.parametrize("prompt", ["", "   \n\t", "{{ '' }}", "{{ '  ' }}\n", "{% if false %}hi{% endif %}",
                                    "{# only a comment #}"])
def test_a_prompt_that_is_blank_from_constants_is_a_problem(prompt: str) -> None:
    doc = graph([INPUT, llm("a", prompt), {"id": "out", "type": "output", "config": {"value": "x"}}],
                chain("in", "a", "out"))
    problems = {p.path: p.message for p in validate_graph(doc)}
    assert "empty" in problems["nodes[1].config.prompt"]


def test_a_prompt_that_renders_blank_at_run_time_is_not_sent() -> None:
    doc = graph([INPUT, llm("a", "{{ input.text }}"), {"id": "out", "type": "output", "config": {"value": "x"}}],
                chain("in", "a", "out"))
    assert validate_graph(doc) == []  # it reads the input: only a run can tell
    model = ScriptedLLM()
    result = asyncio_run(execute_graph(parse_graph(doc), {"text": "  "}, ports=Ports(llm=model,
                                                                                       events=CollectingEvents())))
    assert result.status == "failed" and "whitespace" in (result.error or "")
    assert model.calls == []


def asyncio_run(coro):  # type: ignore[no-untyped-def]
    import asyncio

    return asyncio.run(coro)


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

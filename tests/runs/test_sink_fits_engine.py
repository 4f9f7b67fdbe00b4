"""Nothing the validator accepts is refused later by the database: the longest ids, the deepest nesting.

The live test runs the extreme graph through the real stack (API, Celery worker,
PostgreSQL), where a value too long for a column would be refused; the others
check that what is beyond the limits is answered with a 400 naming the field.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from backend.config.jsonbody import MAX_BODY_DEPTH
from backend.engine.limits import MAX_JSON_DEPTH, MAX_NODE_ID, MAX_NODE_PATH, MAX_SUBGRAPH_DEPTH
from backend.engine.trace import new_id
from backend.engine.validation import validate_graph
from backend.graphs.models import Graph
from backend.runs.models import Run, Span

from ..conftest import token_for
from .live import create_graph, numbered, read_events, start_run, wait_finished


def longest_id(role: str, level: int) -> str:
    return f"{role}_{level}_".ljust(MAX_NODE_ID, "x")


def nested_graph(level: int = 0) -> dict[str, Any]:
    """A graph whose every node id is 64 characters, with subgraphs nested as deep as the engine runs them."""
    inner = longest_id("inner", level)
    if level == MAX_SUBGRAPH_DEPTH:
        step = {"id": inner, "type": "llm", "config": {"model": "fast", "prompt": "Answer: {{ input.text }}"}}
    else:
        step = {"id": inner, "type": "subgraph", "config": {"subgraph": {"spec": nested_graph(level + 1)}}}
    first, last = longest_id("in", level), longest_id("out", level)
    return {
        "schema": "patchbay.graph/v1", "name": f"level-{level}", "inputs": {"type": "object"},
        "nodes": [{"id": first, "type": "input"}, step,
                  {"id": last, "type": "output", "config": {"value": f"{{{{ nodes.{inner}.output }}}}"}}],
        "edges": [{"from": first, "to": inner}, {"from": inner, "to": last}],
    }


def nested_value(levels: int) -> Any:
    """``levels`` objects inside one another."""
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": value}
    return value


def deepest_input() -> dict[str, Any]:
    # The input object is one level; its "deep" field brings it to exactly MAX_JSON_DEPTH.
    return {"text": "the deepest input", "deep": nested_value(MAX_JSON_DEPTH - 1)}


def test_the_longest_and_deepest_valid_graph_runs_to_success_on_the_live_stack(  # type: ignore[no-untyped-def]
        live_stack, alice, alice_api) -> None:
    graph = nested_graph()
    assert validate_graph(graph) == []
    run_id = start_run(alice_api, create_graph(alice_api, graph), deepest_input())
    events = asyncio.run(read_events(live_stack.ws_url, run_id, token_for(alice), timeout=60))

    run = wait_finished(run_id, timeout=60)
    assert run.status == "succeeded", run.error
    seqs = [e["seq"] for e in numbered(events)]
    assert seqs == list(range(1, len(seqs) + 1)) and events[-1]["type"] == "run.completed"
    # The model call sits 8 subgraphs down: its span's node id is the whole path of 64-character ids.
    call = Span.objects.get(run_id=run_id, kind="llm")
    assert len(call.node_id) == MAX_NODE_PATH
    assert call.node_id == "/".join(longest_id("inner", level) for level in range(MAX_SUBGRAPH_DEPTH + 1))
    assert Span.objects.filter(run_id=run_id, kind="node").count() == 3 * (MAX_SUBGRAPH_DEPTH + 1)
    assert Run.objects.get(pk=run_id).input == deepest_input()


@pytest.mark.django_db
def test_an_input_600_levels_deep_is_refused_with_a_400_naming_the_field(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, nested_graph(MAX_SUBGRAPH_DEPTH))
    # Just past the engine's limit, and past the body reader's. Not 900, as this test had: Python's decoder then
    # came within a few frames of the recursion limit (1,000), and the 5 frames pytest-xdist's worker adds to every
    # test's stack made it give up: a 400 for the whole body, not naming the field (the next test covers that).
    for levels in (MAX_JSON_DEPTH, MAX_BODY_DEPTH + 100):
        body = json.dumps({"graph": graph_id, "input": {"text": "x", "deep": nested_value(levels)}})
        response = alice_api.post("/api/runs/", body, content_type="application/json")
        assert response.status_code == 400, response.content
        problems = response.json()["problems"]
        assert [p["path"] for p in problems] == ["input.deep"]
        # Past the engine's limit, validation names it; past the body reader's (600 > 500), the reader does.
        limit = MAX_JSON_DEPTH if levels < MAX_BODY_DEPTH else MAX_BODY_DEPTH
        assert f"more than {limit} levels" in problems[0]["message"]
    assert not Run.objects.exists(), "nothing is stored, so nothing is stranded"


@pytest.mark.django_db
def test_a_graph_900_levels_deep_is_refused_with_a_400(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph = nested_graph(MAX_SUBGRAPH_DEPTH)
    graph["nodes"][1]["config"]["params"] = {"deep": nested_value(900)}
    response = alice_api.post("/api/graphs/", json.dumps({"spec": graph}), content_type="application/json")
    assert response.status_code == 400, response.content
    # Eight subgraph levels plus 900 is deeper than the body reader decodes at all (backend/config/jsonbody.py):
    # refused whole, before validation, rather than named at a path.
    assert [p["path"] for p in response.json()["problems"]] in (["spec.nodes"], [""])
    assert not Graph.objects.exists(), "nothing is saved"


def test_subgraphs_nested_deeper_than_the_engine_runs_are_refused_at_validation() -> None:
    too_deep = nested_graph()
    innermost = too_deep
    for _ in range(MAX_SUBGRAPH_DEPTH):
        innermost = innermost["nodes"][1]["config"]["subgraph"]["spec"]
    innermost["nodes"][1] = {"id": innermost["nodes"][1]["id"], "type": "subgraph",
                             "config": {"subgraph": {"spec": nested_graph(MAX_SUBGRAPH_DEPTH)}}}
    problems = validate_graph(too_deep)
    assert len(problems) == 1
    assert problems[0].message == f"subgraphs nest at most {MAX_SUBGRAPH_DEPTH} levels deep"
    assert problems[0].path.endswith("nodes[1].config.subgraph.spec")


def test_span_ids_fit_their_columns() -> None:
    assert len(new_id()) <= Span._meta.get_field("span_id").max_length
    assert len(new_id()) <= Span._meta.get_field("parent_id").max_length

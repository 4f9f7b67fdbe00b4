"""Graphs up to the documented limits validate without blowing the stack; every free-text field is type-checked.

The limit is 2,000 nodes (validation.MAX_NODES). A chain that long is 2,000
levels deep for any recursive walk, so every walk over nodes, edges and
templates is iterative or bounded by a small constant.
"""
from __future__ import annotations

import time

import pytest

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.templates import MAX_TEMPLATE_NESTING, analyse
from backend.engine.validation import MAX_NODES

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

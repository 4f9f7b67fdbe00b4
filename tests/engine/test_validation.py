"""Validation is total: every problem at once, each with its JSON path."""
from __future__ import annotations

import pytest

from backend.engine import ValidationContext, validate_graph
from backend.engine.runtime import PromptTemplate

from .scripted import chain, graph, llm

INPUT = {"id": "in", "type": "input"}
OUTPUT = {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}


def paths(doc: object, ctx: ValidationContext | None = None) -> dict[str, str]:
    """Problems by path; several at one path are joined with " | "."""
    found: dict[str, str] = {}
    for p in validate_graph(doc, ctx):
        found[p.path] = f"{found[p.path]} | {p.message}" if p.path in found else p.message
    return found


def test_a_sound_graph_has_no_problems() -> None:
    assert validate_graph(graph([INPUT, llm("a"), OUTPUT], chain("in", "a", "out"))) == []


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    doc = graph(
        [INPUT,
         llm("a", "{{ ''.__class__.__mro__ }}"),
         llm("b", "{{ nodes.ghost.output }}"),
         {"id": "c", "type": "teleport"},
         llm("d"), llm("e"),
         OUTPUT],
        [*chain("in", "a", "out"), {"from": "in", "to": "b"}, {"from": "b", "to": "nowhere"},
         {"from": "d", "to": "e"}, {"from": "e", "to": "d"}],
    )
    problems = paths(doc)
    assert "'__class__' is not allowed" in problems["nodes[1].config.prompt"]
    assert "ghost" in problems["nodes[2].config.prompt"]
    assert "unknown node type 'teleport'" in problems["nodes[3].type"]
    assert "'nowhere', which does not exist" in problems["edges[3].to"]
    assert any("closes a loop" in m and "d → e → d" in m for m in problems.values())


def test_template_must_read_an_upstream_node() -> None:
    doc = graph([INPUT, llm("a"), llm("b", "{{ nodes.a.output }}"), OUTPUT],
                [*chain("in", "a", "out"), {"from": "in", "to": "b"}])
    problems = paths(doc)
    assert "not upstream of 'b'" in problems["nodes[2].config.prompt"]


def test_unknown_variables_and_input_fields_are_refused() -> None:
    doc = graph([INPUT, llm("a", "{{ secrets }} {{ input.nme }}"), OUTPUT], chain("in", "a", "out"),
                inputs={"type": "object", "properties": {"name": {"type": "string"}}})
    messages = [p.message for p in validate_graph(doc)]
    assert any("unknown variable 'secrets'" in m for m in messages)
    assert any("input has no field 'nme'" in m for m in messages)


def test_config_is_checked_against_the_node_type_schema() -> None:
    doc = graph([INPUT, {"id": "a", "type": "llm", "config": {"prompt": "x", "params": {"temperature": 9}}},
                 OUTPUT], chain("in", "a", "out"))
    problems = paths(doc)
    assert problems["nodes[1].config"] == "'model' is required"
    assert "9" in problems["nodes[1].config.params.temperature"]


def test_model_aliases_and_prompt_refs_are_checked_when_known() -> None:
    doc = graph([INPUT, llm("a", model="huge"),
                 {"id": "b", "type": "llm", "config": {"model": "fast", "prompt_ref": "greet@production"}}, OUTPUT],
                [*chain("in", "a", "out"), {"from": "in", "to": "b"}])
    ctx = ValidationContext(prompts={}, model_aliases={"fast"})
    problems = paths(doc, ctx)
    assert "unknown model alias 'huge'" in problems["nodes[1].config.model"]
    assert "no saved prompt matches 'greet@production'" in problems["nodes[2].config.prompt_ref"]


def test_a_saved_prompt_is_validated_like_an_inline_one() -> None:
    doc = graph([INPUT, {"id": "a", "type": "llm", "config": {"model": "fast", "prompt_ref": "p@1"}}, OUTPUT],
                chain("in", "a", "out"))
    ctx = ValidationContext(prompts={"p@1": PromptTemplate("p@1", "{{ nodes.zz.output }}")})
    assert "reads node 'zz'" in paths(doc, ctx)["nodes[1].config.prompt_ref"]


@pytest.mark.parametrize("doc, path", [
    ([], ""),
    ({"schema": "patchbay.graph/v0", "name": "x", "nodes": [INPUT, OUTPUT], "edges": []}, "schema"),
    ({"schema": "patchbay.graph/v1", "name": "", "nodes": [INPUT, OUTPUT], "edges": []}, "name"),
    ({"schema": "patchbay.graph/v1", "name": "x", "nodes": "nope"}, "nodes"),
    (graph([INPUT], []), "nodes"),
    (graph([INPUT, {"id": "1bad", "type": "transform", "config": {"value": 1}}, OUTPUT], []), "nodes[1].id"),
    (graph([INPUT, OUTPUT, {**OUTPUT}], []), "nodes[2].id"),
    (graph([INPUT, OUTPUT], [{"from": "out", "to": "in"}]), "edges[0]"),
    (graph([INPUT, OUTPUT], [{"from": "in", "to": "out", "port": "nope"}]), "edges[0].port"),
    (graph([INPUT, OUTPUT], [], budget={"max_llm_calls": 0}), "budget.max_llm_calls"),
    (graph([INPUT, llm("a", "{% if %}"), OUTPUT], chain("in", "a", "out")), "nodes[1].config.prompt"),
])
def test_malformed_documents_name_the_field_at_fault(doc: object, path: str) -> None:
    assert path in paths(doc)

"""No outbound request from validation, ever: every schema resolves refs inside itself or is refused at save.

A local HTTP listener stands in for an internal service; a ``$ref`` to it in a
graph's input schema, a gate's JSON-schema check or a step's output_schema must
never reach it, at save time or at run time, and the graph is refused with the
path of the ref.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.runtime import parse_structured
from backend.engine.schemas import SchemaUnusable, schema_errors, schema_problems

from .schema_sites import SECRET, Listener
from .scripted import ScriptedLLM, chain, graph, llm

ROOT = Path(__file__).resolve().parents[2]


def test_the_listener_answers_when_asked(listener: Listener) -> None:
    """The control: the listener is reachable, so zero requests below means none were made."""
    import urllib.request

    with urllib.request.urlopen(listener.url, timeout=5) as answer:  # noqa: S310 - our own local listener
        assert SECRET in answer.read().decode()
    assert listener.requests == ["/internal/config.json"]
    listener.requests.clear()


def test_a_ref_made_remote_by_id_is_refused_too(listener: Listener) -> None:
    base = listener.url.rsplit("/", 1)[0] + "/"
    schema = {"$id": base + "root.json", "type": "object", "properties": {"text": {"$ref": "config.json"}}}
    problems = schema_problems(schema, "inputs")
    assert [p.path for p in problems] == ["inputs.properties.text.$ref"]
    with pytest.raises(SchemaUnusable):
        schema_errors(schema, {"text": "x"})
    assert listener.requests == []


def run_engine(doc: dict, answer: str) -> Any:
    ports = Ports(llm=ScriptedLLM(answer=lambda req: answer), events=CollectingEvents())
    return asyncio.run(execute_graph(parse_graph(doc), {"text": "x"}, ports=ports))


@pytest.mark.parametrize("schema", [{"$ref": "#"}, {"properties": {"a": {"$ref": "REMOTE"}}}], ids=["self", "remote"])
def test_a_legacy_gate_or_output_schema_fails_the_node_cleanly(listener: Listener, schema: dict) -> None:
    schema = json.loads(json.dumps(schema).replace("REMOTE", listener.url))
    gate_doc = graph([{"id": "in", "type": "input"}, llm("a"),
                      {"id": "g", "type": "gate", "config": {"check": {"kind": "json_schema",
                                                                       "value": {"a": "{{ input.text }}"},
                                                                       "schema": schema}}},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
                     chain("in", "a", "g", "out"))
    assert validate_graph(gate_doc) != []  # refused today; the run below is what an older save left behind
    result = run_engine(gate_doc, '{"a": 1}')
    assert result.status == "failed" and "gate's JSON schema cannot be used" in result.error
    llm_doc = graph([{"id": "in", "type": "input"}, llm("a", output_schema=schema),
                     {"id": "out", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
                    chain("in", "a", "out"))
    result = run_engine(llm_doc, '{"a": 1}')
    assert result.status == "failed" and "output_schema cannot be used" in result.error
    assert listener.requests == []


def test_structured_output_that_nests_too_deep_is_a_node_failure_not_a_crash() -> None:
    from backend.engine.nodes.base import NodeFailed

    for text in ("[" * 100_000, "[" * 150 + "]" * 150):
        with pytest.raises(NodeFailed, match="nests more than"):
            parse_structured(text, {"type": "array"})


def test_pattern_keywords_run_in_linear_time() -> None:
    """A backtracking pattern on Python's re takes minutes on this input; on RE2 it answers at once."""
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
              "patternProperties": {"^(b+)+$": {"type": "string"}}, "additionalProperties": False}
    assert schema_problems(schema, "s") == []
    errors = schema_errors(schema, {"s": "a" * 5000 + "!", "b" * 5000 + "!": "x"})
    assert sorted(e.validator for e in errors) == ["additionalProperties", "pattern"]


def test_a_trailing_newline_does_not_satisfy_an_anchored_pattern() -> None:
    """"$" in Python's re matches before a final newline; config patterns (route labels, branch names) do not."""
    router = {"id": "r", "type": "router", "config": {"mode": "rules", "routes": [{"label": "billing\n"}]}}
    doc = graph([{"id": "in", "type": "input"}, router,
                 {"id": "out", "type": "output", "config": {"value": "x"}}],
                [{"from": "in", "to": "r"}, {"from": "r", "to": "out", "port": "default"}])
    assert "nodes[1].config.routes[0].label" in [p.path for p in validate_graph(doc)]


def test_engine_schemas_is_the_only_place_validators_are_built() -> None:
    """A validator built anywhere else would come without the no-retrieval registry."""
    import re

    constructs = re.compile(r"\bimport jsonschema\b|\bfrom jsonschema\b|Draft\d+Validator|validator_for\(")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "backend").rglob("*.py")
                 if path.name != "schemas.py" and constructs.search(path.read_text())]
    assert offenders == []

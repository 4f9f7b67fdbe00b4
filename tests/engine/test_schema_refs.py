"""No outbound request from validation, ever: every schema resolves refs inside itself or is refused at save.

A local HTTP listener stands in for an internal service; a ``$ref`` to it in a
graph's input schema, a gate's JSON-schema check or a step's output_schema must
never reach it, at save time or at run time, and the graph is refused with the
path of the ref.
"""
from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.engine.runtime import parse_structured
from backend.engine.schemas import SchemaUnusable, schema_errors, schema_problems
from backend.graphs.models import Graph, GraphVersion

from .scripted import ScriptedLLM, chain, graph, llm

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())
SECRET = "internal-secret-value-42"


class Listener:
    """An internal service on a free port that records every request it gets."""

    def __init__(self) -> None:
        requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                requests.append(self.path)
                body = json.dumps({"enum": [SECRET]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.requests = requests
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal/config.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def with_inputs(schema: dict) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["inputs"] = schema
    return spec


def with_gate_schema(schema: dict) -> dict:
    spec = copy.deepcopy(CHAIN)
    gate = next(n for n in spec["nodes"] if n["type"] == "gate")
    gate["config"]["check"] = {"kind": "json_schema", "value": "{{ nodes.extract.output }}", "schema": schema}
    return spec


def with_output_schema(schema: dict) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["nodes"][1]["config"]["output_schema"] = schema
    return spec


def sites(url: str) -> list[tuple[dict, str]]:
    """(a graph with a ref to ``url`` at one schema site, the problem path the API must name)."""
    ref = {"type": "object", "properties": {"text": {"$ref": url}}}
    return [
        (with_inputs(ref), "spec.inputs.properties.text.$ref"),
        (with_gate_schema(ref), "spec.nodes[2].config.check.schema.properties.text.$ref"),
        (with_output_schema(ref), "spec.nodes[1].config.output_schema.properties.text.$ref"),
    ]


def problem_paths(response: Any) -> list[str]:
    return [p["path"] for p in response.json()["problems"]]


def test_the_listener_answers_when_asked(listener: Listener) -> None:
    """The control: the listener is reachable, so zero requests below means none were made."""
    import urllib.request

    with urllib.request.urlopen(listener.url, timeout=5) as answer:  # noqa: S310 - our own local listener
        assert SECRET in answer.read().decode()
    assert listener.requests == ["/internal/config.json"]
    listener.requests.clear()


@pytest.mark.parametrize("site", range(3), ids=["inputs", "gate", "output_schema"])
def test_a_remote_ref_is_refused_at_save_and_never_fetched(alice_api, listener: Listener,  # type: ignore[no-untyped-def]
                                                          site: int) -> None:
    spec, path = sites(listener.url)[site]
    saved = alice_api.post("/api/graphs/", {"spec": spec}, format="json")
    assert saved.status_code == 400, saved.content
    assert path in problem_paths(saved)
    assert "outside this schema" in " ".join(p["message"] for p in saved.json()["problems"])
    checked = alice_api.post("/api/graphs/validate/", {"spec": spec}, format="json")
    assert checked.status_code == 200 and checked.json()["valid"] is False
    assert path.removeprefix("spec.") in problem_paths(checked)
    assert SECRET not in saved.content.decode() + checked.content.decode()
    assert Graph.objects.count() == 0
    assert listener.requests == []


def test_a_ref_made_remote_by_id_is_refused_too(listener: Listener) -> None:
    base = listener.url.rsplit("/", 1)[0] + "/"
    schema = {"$id": base + "root.json", "type": "object", "properties": {"text": {"$ref": "config.json"}}}
    problems = schema_problems(schema, "inputs")
    assert [p.path for p in problems] == ["inputs.properties.text.$ref"]
    with pytest.raises(SchemaUnusable):
        schema_errors(schema, {"text": "x"})
    assert listener.requests == []


@pytest.mark.parametrize("schema, path, words", [
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/nope"}}}, "spec.inputs.properties.a.$ref",
     "does not resolve"),
    ({"$ref": "#"}, "spec.inputs.$ref", "recurse forever"),
    ({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"not": {"$ref": "#/$defs/a"}}},
      "properties": {"x": {"$ref": "#/$defs/a"}}}, "spec.inputs.$defs.a.allOf[0].$ref", "recurse forever"),
    ({"type": "object", "properties": {"a": {"$ref": "#missing"}}}, "spec.inputs.properties.a.$ref",
     "does not resolve"),
    ({"type": "object", "properties": {"a": {"type": "string", "pattern": "(?=x)"}}},
     "spec.inputs.properties.a.pattern", "lookaround"),
    ({"type": "object", "properties": {"a": {"type": 7}}}, "spec.inputs.properties.a.type", "not a valid JSON schema"),
])
def test_refs_that_cannot_resolve_or_recurse_in_place_are_refused_at_save(alice_api, schema: dict, path: str,  # type: ignore[no-untyped-def]
                                                                       words: str) -> None:
    saved = alice_api.post("/api/graphs/", {"spec": with_inputs(schema)}, format="json")
    assert saved.status_code == 400, saved.content
    problems = {p["path"]: p["message"] for p in saved.json()["problems"]}
    assert words in problems[path], problems
    assert Graph.objects.count() == 0


TREE = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "tree": {"$ref": "#/$defs/node"}},
    "required": ["text"],
    "$defs": {"node": {"type": "object", "properties": {"label": {"type": "string"},
                                                        "children": {"type": "array",
                                                                     "items": {"$ref": "#/$defs/node"}}}}},
}


def test_local_defs_and_recursion_that_reads_deeper_still_work(alice_api) -> None:  # type: ignore[no-untyped-def]
    saved = alice_api.post("/api/graphs/", {"spec": with_inputs(TREE)}, format="json")
    assert saved.status_code == 201, saved.content
    graph_id = saved.json()["id"]
    ok = alice_api.post("/api/runs/", {"graph": graph_id, "input": {
        "text": "hi", "tree": {"label": "a", "children": [{"label": "b", "children": []}]}}}, format="json")
    assert ok.status_code == 201, ok.content
    bad = alice_api.post("/api/runs/", {"graph": graph_id, "input": {
        "text": "hi", "tree": {"children": [{"label": 3}]}}}, format="json")
    assert bad.status_code == 400
    assert problem_paths(bad) == ["input.tree.children[0].label"]


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"text": {"$ref": "REMOTE"}}},
    {"type": "object", "properties": {"text": {"$ref": "#/$defs/nope"}}},
    {"$ref": "#"},
], ids=["remote", "unresolvable", "self"])
def test_a_graph_saved_before_the_checks_gets_a_400_on_run_not_a_500(alice_api, listener: Listener,  # type: ignore[no-untyped-def]
                                                                    schema: dict) -> None:
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    legacy = json.loads(json.dumps(schema).replace("REMOTE", listener.url))
    # What older versions let through: written past validation, as the database holds it.
    GraphVersion.objects.filter(graph_id=graph_id).update(spec=with_inputs(legacy))
    response = alice_api.post("/api/runs/", {"graph": graph_id, "input": {"text": "hello"}}, format="json")
    assert response.status_code == 400, response.content
    assert problem_paths(response) == ["input"]
    assert "input schema cannot be used" in response.json()["problems"][0]["message"]
    assert SECRET not in response.content.decode()
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

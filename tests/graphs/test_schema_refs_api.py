"""No outbound request from validation, over the API: a ``$ref`` to an internal service is refused at save
with its path, and a graph saved before the checks gets a 400 on run (the engine side: tests/engine)."""
from __future__ import annotations

import json

import pytest

from backend.graphs.models import Graph, GraphVersion
from tests.engine.schema_sites import CHAIN, SECRET, Listener, problem_paths, sites, with_inputs


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

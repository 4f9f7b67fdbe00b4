"""Subgraphs that call saved graphs: pinned by graph id and version, so names can change and repeat.

A reference is stored as ``{"graph": "#<id>@<version>"}``; the name form ``"shouter@1"`` is
accepted at save and pinned there. Runs go through the real execution path (claim, engine,
sink) on PostgreSQL, in this process.
"""
from __future__ import annotations

import asyncio
import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connections

from backend.endpoints.models import Endpoint
from backend.graphs.models import Graph, GraphVersion, content_hash
from backend.runs import execution
from backend.runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def child(name: str = "shouter", transform: str = "{{ input.text | upper }}") -> dict:
    return {
        "schema": "patchbay.graph/v1", "name": name,
        "inputs": {"type": "object", "properties": {"text": {"type": "string"}}},
        "nodes": [{"id": "in", "type": "input"}, {"id": "loud", "type": "transform", "config": {"value": transform}},
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.loud.output }}"}}],
        "edges": [{"from": "in", "to": "loud"}, {"from": "loud", "to": "out"}],
    }


CHILD = child()


def caller(name: str, ref: str) -> dict:
    return {"schema": "patchbay.graph/v1", "name": name,
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "call", "type": "subgraph", "config": {"subgraph": {"graph": ref},
                                                                   "input": {"text": "hi"}}},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.call.output }}"}}],
            "edges": [{"from": "in", "to": "call"}, {"from": "call", "to": "out"}]}


def inline_caller(name: str, ref: str) -> dict:
    """A graph whose subgraph node runs an inline spec, which in turn calls a saved graph."""
    doc = caller(name, ref)
    doc["nodes"][1]["config"] = {"subgraph": {"spec": caller("inner", ref)}}
    return doc


def create(api: Any, spec: dict) -> dict:
    response = api.post("/api/graphs/", {"spec": spec}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def run_output(graph_id: int, number: int | None = None) -> Any:
    """Execute a run of the graph (its latest version, or ``number``) as a worker would; its output."""
    graph = Graph.objects.get(pk=graph_id)
    version = graph.versions.get(number=number) if number else graph.latest_version
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=version, input={},
                             trace_id="e" * 32)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(2))
        try:
            await execution.execute_run_async(run.pk)
        finally:  # close each database thread's connection, so the test database can be dropped
            everyone = threading.Barrier(2)

            def close() -> None:
                everyone.wait(timeout=10)
                connections.close_all()

            await asyncio.gather(*(loop.run_in_executor(None, close) for _ in range(2)))

    asyncio.run(main())
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    return run.output


def stored_ref(graph_id: int) -> str:
    return Graph.objects.get(pk=graph_id).latest_version.spec["nodes"][1]["config"]["subgraph"]["graph"]


def test_a_name_reference_is_pinned_to_the_graph_id_at_save(alice_api) -> None:  # type: ignore[no-untyped-def]
    shouter = create(alice_api, CHILD)
    saved = create(alice_api, caller("caller", "shouter@1"))
    assert stored_ref(saved["id"]) == f"#{shouter['id']}@1"
    assert saved["spec"]["nodes"][1]["config"]["subgraph"] == {"graph": f"#{shouter['id']}@1"}
    by_id = create(alice_api, caller("caller2", f"#{shouter['id']}@1"))
    assert stored_ref(by_id["id"]) == f"#{shouter['id']}@1"
    missing = alice_api.post("/api/graphs/", {"spec": caller("caller3", "shouter@7")}, format="json")
    assert missing.status_code == 400
    assert missing.json()["problems"] == [{"path": "spec.nodes[1].config.subgraph.graph", "node_id": "call",
                                           "message": f"graph 'shouter' (#{shouter['id']}) has no version 7 (latest: 1)"}]


def test_pinning_survives_a_same_named_graph_and_a_rename(alice_api) -> None:  # type: ignore[no-untyped-def]
    shouter = create(alice_api, CHILD)
    saved = create(alice_api, caller("caller", "shouter@1"))
    assert run_output(saved["id"]) == "HI"

    # Someone saves another graph under the same name, and it is the most recently updated one.
    create(alice_api, child("shouter", "{{ input.text | lower }} (impostor)"))
    assert run_output(saved["id"]) == "HI"

    # The referenced graph is renamed (a new version with a new name): the reference follows the id.
    renamed = alice_api.put(f"/api/graphs/{shouter['id']}/", {"spec": child("yeller")}, format="json")
    assert renamed.status_code == 201, renamed.json()
    assert run_output(saved["id"]) == "HI"
    # The caller's unchanged spec re-saves as the same version: the stored form is already the pinned one.
    again = alice_api.put(f"/api/graphs/{saved['id']}/", {"spec": saved["spec"]}, format="json")
    assert again.status_code == 200 and again.json()["created_version"] is False

    # The name now belongs to the impostor alone: a new name reference pins that one.
    fresh = create(alice_api, caller("caller2", "shouter@1"))
    assert stored_ref(fresh["id"]) != stored_ref(saved["id"])
    assert run_output(fresh["id"]) == "hi (impostor)"


def test_an_ambiguous_name_is_refused_at_save(alice_api) -> None:  # type: ignore[no-untyped-def]
    first, second = create(alice_api, CHILD), create(alice_api, CHILD)
    refused = alice_api.post("/api/graphs/", {"spec": caller("caller", "shouter@1")}, format="json")
    assert refused.status_code == 400
    [problem] = refused.json()["problems"]
    assert problem["path"] == "spec.nodes[1].config.subgraph.graph"
    assert f"#{first['id']}" in problem["message"] and f"#{second['id']}" in problem["message"]


def test_an_unknown_or_foreign_graph_id_is_refused_at_save(alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    alices = create(alice_api, CHILD)
    before = GraphVersion.objects.count()
    for ref, message in [(f"#{alices['id']}@1", f"there is no graph #{alices['id']} in this workspace"),
                         ("#999999@1", "there is no graph #999999 in this workspace"),
                         ("shouter@1", "no saved graph is named 'shouter'")]:
        refused = bob_api.post("/api/graphs/", {"spec": caller("thief", ref)}, format="json")
        assert refused.status_code == 400, ref
        [problem] = refused.json()["problems"]
        assert problem["path"] == "spec.nodes[1].config.subgraph.graph" and problem["message"].startswith(message)
    # Only the whole string counts: a trailing newline or a non-ASCII digit is no reference at all.
    bobs = create(bob_api, child("bobs"))
    for ref in (f"#{bobs['id']}@1\n", "bobs@\u00b2"):
        refused = bob_api.post("/api/graphs/", {"spec": caller("odd", ref)}, format="json")
        assert refused.status_code == 400 and refused.json()["problems"][0]["path"] == "spec.nodes[1].config.subgraph.graph"
    before = GraphVersion.objects.count()
    checked = bob_api.post("/api/graphs/validate/", {"spec": caller("thief", f"#{alices['id']}@1")}, format="json")
    assert checked.json()["valid"] is False
    assert GraphVersion.objects.count() == before


def test_an_exported_file_carries_the_name_and_a_foreign_id_says_where_it_came_from(  # type: ignore[no-untyped-def]
        alice_api, bob_api) -> None:
    alices = create(alice_api, CHILD)
    exported = caller("caller", f"#{alices['id']}@1")
    exported["nodes"][1]["config"]["subgraph"]["name"] = "shouter"
    # In the same workspace the id decides, and the display name is not stored.
    saved = create(alice_api, exported)
    assert Graph.objects.get(pk=saved["id"]).latest_version.spec["nodes"][1]["config"]["subgraph"] == {
        "graph": f"#{alices['id']}@1"}
    refused = bob_api.post("/api/graphs/", {"spec": exported}, format="json")
    assert "it was 'shouter' where this file came from" in refused.json()["problems"][0]["message"]


def test_recursion_through_saved_graphs_is_refused_and_nothing_saved(alice_api) -> None:  # type: ignore[no-untyped-def]
    alpha = create(alice_api, child("alpha"))
    beta = create(alice_api, caller("beta", "alpha@1"))
    before = GraphVersion.objects.count()
    looped = alice_api.put(f"/api/graphs/{alpha['id']}/", {"spec": caller("alpha", "beta@1")}, format="json")
    assert looped.status_code == 400
    problem = looped.json()["problems"][0]
    assert problem["path"] == "spec.nodes[1].config.subgraph.graph"
    assert f"#{beta['id']}@1 → #{alpha['id']}@1" in problem["message"]
    itself = alice_api.put(f"/api/graphs/{alpha['id']}/", {"spec": caller("alpha", f"#{alpha['id']}@1")}, format="json")
    assert itself.status_code == 400 and "cannot call itself" in itself.json()["problems"][0]["message"]
    assert GraphVersion.objects.count() == before


def test_a_cycle_through_an_inline_subgraph_and_a_rename_is_refused(alice_api) -> None:  # type: ignore[no-untyped-def]
    alpha = create(alice_api, child("alpha"))
    # beta calls alpha from inside an inline subgraph; then alpha is renamed, so names no longer match.
    beta = create(alice_api, inline_caller("beta", "alpha@1"))
    alice_api.put(f"/api/graphs/{alpha['id']}/", {"spec": child("alpha-renamed")}, format="json")
    before = GraphVersion.objects.count()
    # alpha (renamed) now calls beta, from inside an inline subgraph too: alpha → beta → alpha.
    looped = alice_api.put(f"/api/graphs/{alpha['id']}/",
                           {"spec": inline_caller("alpha-renamed", f"#{beta['id']}@1")}, format="json")
    assert looped.status_code == 400, looped.json()
    [problem] = looped.json()["problems"]
    assert problem["path"] == "spec.nodes[1].config.subgraph.spec.nodes[1].config.subgraph.graph"
    assert problem["node_id"] == "call" and "leads back to this graph" in problem["message"]
    assert GraphVersion.objects.count() == before


def test_delete_is_refused_while_a_latest_version_or_a_live_endpoint_uses_the_graph(  # type: ignore[no-untyped-def]
        alice, alice_api) -> None:
    shouter = create(alice_api, CHILD)
    user = create(alice_api, caller("user", "shouter@1"))
    refused = alice_api.delete(f"/api/graphs/{shouter['id']}/")
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "graph_in_use" and "'user' v1" in body["message"]
    assert [p["graph"] for p in body["problems"]] == [user["id"]]
    assert Graph.objects.filter(pk=shouter["id"]).exists()

    # The user's latest version stops calling it, but a live endpoint still serves version 1.
    assert alice_api.put(f"/api/graphs/{user['id']}/", {"spec": child("user")}, format="json").status_code == 201
    Endpoint.objects.create(workspace=Graph.objects.get(pk=user["id"]).workspace, graph_id=user["id"], slug="users",
                            version=GraphVersion.objects.get(graph_id=user["id"], number=1), enabled=True,
                            signing_secret="s" * 32)
    assert alice_api.delete(f"/api/graphs/{shouter['id']}/").status_code == 409

    Endpoint.objects.filter(slug="users").update(enabled=False)
    assert alice_api.delete(f"/api/graphs/{shouter['id']}/").status_code == 204
    assert not Graph.objects.filter(pk=shouter["id"]).exists()


def test_the_migration_pins_legacy_name_references_as_they_resolve_today(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    old = create(alice_api, child("shouter", "{{ input.text }} old"))
    new = create(alice_api, CHILD)  # the same name, updated later: today's rule picks this one
    lonely = create(alice_api, child("lonely"))
    target = create(alice_api, caller("target", f"#{lonely['id']}@1"))
    # Write legacy specs the way versions were stored before: by name (and one name nothing matches).
    legacy = inline_caller("legacy", "shouter@1")
    legacy["nodes"][1]["config"]["subgraph"]["spec"]["nodes"].append(
        {"id": "ghost", "type": "subgraph", "config": {"subgraph": {"graph": "nobody@1"}}})
    version = Graph.objects.get(pk=target["id"]).latest_version
    GraphVersion.objects.filter(pk=version.pk).update(spec=legacy, content_hash=content_hash(legacy))

    importlib.import_module("backend.graphs.migrations.0004_pin_subgraphs_by_id").pin(django_apps, None)

    version.refresh_from_db()
    inner = version.spec["nodes"][1]["config"]["subgraph"]["spec"]["nodes"]
    assert inner[1]["config"]["subgraph"]["graph"] == f"#{new['id']}@1"
    assert inner[-1]["config"]["subgraph"]["graph"] == "nobody@1"  # broken before, left visibly broken
    assert version.content_hash == content_hash(version.spec)
    assert old["id"] != new["id"]

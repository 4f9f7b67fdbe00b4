"""One exact example of each 500 the fuzz suites found, kept as regression tests now that each is fixed."""
from __future__ import annotations

import copy
import json

import pytest
from asgiref.sync import async_to_sync

from .checks import assert_answer
from .strategies import EXAMPLE_GRAPHS


def spec_with(**node_changes) -> dict:  # type: ignore[no-untyped-def]
    spec = copy.deepcopy(EXAMPLE_GRAPHS["chain"])
    spec["nodes"][0].update(node_changes)
    return spec


def with_node(node: dict) -> dict:  # type: ignore[no-untyped-def]
    return {"schema": "patchbay.graph/v1", "name": "ref", "nodes": [
        {"id": "in", "type": "input"}, node, {"id": "out", "type": "output"}],
        "edges": [{"from": "in", "to": "n"}, {"from": "n", "to": "out"}]}


SUBGRAPH = {"id": "n", "type": "subgraph", "config": {"subgraph": {"graph": "other@1"}}}
LLM = {"id": "n", "type": "llm", "config": {"model": "fast", "prompt_ref": "greet@1"}}


def ref(node: dict, key: str, value: str) -> dict:  # type: ignore[no-untyped-def]
    node = copy.deepcopy(node)
    if key == "graph":
        node["config"]["subgraph"]["graph"] = value
    else:
        node["config"]["prompt_ref"] = value
    return with_node(node)


GRAPH_BODIES = {
    "node id is a list (validation: _check_edges)": spec_with(id=[]),
    "node type is a list (validation: _check_nodes)": spec_with(type=["input"]),
    "edge port is an object (validation: _check_edges)": {**EXAMPLE_GRAPHS["chain"], "edges": [
        {**EXAMPLE_GRAPHS["chain"]["edges"][0], "port": {}}, *EXAMPLE_GRAPHS["chain"]["edges"][1:]]},
    "subgraph ref with NUL (pins: selectors.saved_graph)": ref(SUBGRAPH, "graph", "\x00@0"),
    "subgraph ref name@² (pins/boundaries: selectors.saved_graph)": ref(SUBGRAPH, "graph", "other@²"),
    "prompt_ref with NUL (boundaries: selectors.prompt_templates)": ref(LLM, "prompt_ref", "gr\x00eet@1"),
    "prompt_ref name@² (boundaries: selectors.prompt_templates)": ref(LLM, "prompt_ref", "greet@²"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("body", list(GRAPH_BODIES.values()), ids=list(GRAPH_BODIES))
def test_found_by_fuzzing_graph_documents_get_a_4xx(alice_api, body: dict) -> None:  # type: ignore[no-untyped-def]
    assert_answer(alice_api.post("/api/graphs/validate/", {"spec": body}, format="json"), "validate")
    assert_answer(alice_api.post("/api/graphs/", {"spec": body}, format="json"), "create")


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["/api/runs/?graph=²", "RUN_EVENTS?after=²"])
def test_found_by_fuzzing_query_strings_get_a_4xx(alice_api, query: str) -> None:  # type: ignore[no-untyped-def]
    graph = alice_api.post("/api/graphs/", {"spec": EXAMPLE_GRAPHS["chain"]}, format="json").json()
    run = alice_api.post("/api/runs/", {"graph": graph["id"], "input": {"text": "x"}}, format="json").json()
    assert_answer(alice_api.get(query.replace("RUN_EVENTS", f"/api/runs/{run['id']}/events/")), query)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("after", ["²"])
def test_found_by_fuzzing_websocket_cursors_close_4400(alice, alice_api, after: str) -> None:  # type: ignore[no-untyped-def]
    from backend.graphs.models import Graph
    from backend.runs.models import Run

    from ..conftest import token_for
    from .test_websocket import session

    # A finished run, written here rather than started through the API: the cursor is checked before anything is
    # read, and a started run would be executed by whatever live worker the session has, its writes racing this
    # test's database flush (a deadlock seen in CI).
    graph = Graph.objects.get(pk=alice_api.post("/api/graphs/", {"spec": EXAMPLE_GRAPHS["chain"]},
                                                format="json").json()["id"])
    run = {"id": str(Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                                        input={"text": "x"}, trace_id="f" * 32, status=Run.Status.SUCCEEDED).pk)}
    outputs = async_to_sync(session)(f"/ws/runs/{run['id']}/?after={after}",
                                     [(b"authorization", f"Token {token_for(alice)}".encode())], [])
    assert {"type": "websocket.close", "code": 4400} in [{"type": o["type"], "code": o.get("code")} for o in outputs]


def test_found_by_fuzzing_non_utf8_query_string_gets_a_json_400() -> None:
    """Django's ASGI handler answers a query string byte that is not UTF-8 with an empty 400 before any middleware:
    the application answers it first, in the API's error shape. (Daphne itself refuses such a raw request line
    before the application sees it; other ASGI servers pass it on.)"""
    from backend.config.asgi import application

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/graphs/", "raw_path": b"/api/graphs/",
             "query_string": b"a=\xff", "headers": [], "http_version": "1.1", "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    async_to_sync(application)(scope, receive, send)
    assert sent[0]["status"] == 400 and (b"content-type", b"application/json") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["problems"][0]["path"] == "query"

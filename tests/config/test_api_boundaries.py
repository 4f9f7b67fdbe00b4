"""Every REST door reads its body and parameters totally: a 4xx naming the field, never a 500, nothing saved.

Through Django's full request stack (middleware, DRF, the API's exception handler) with real PostgreSQL.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.config.jsonbody import NOT_FINITE, SURROGATE
from backend.graphs.models import Graph, GraphVersion
from backend.runs.models import Run

from ..runs.live import create_graph

pytestmark = pytest.mark.django_db

OPEN = {"schema": "patchbay.graph/v1", "name": "open", "inputs": {"type": "object"},
        "nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output", "config": {"value": "{{ input }}"}}],
        "edges": [{"from": "in", "to": "out"}]}


def post(api: APIClient, path: str, body: bytes | str, content_type: str = "application/json") -> Any:
    return api.generic("POST", path, body, content_type=content_type)


def problems(response: Any) -> list[dict[str, Any]]:
    assert response["content-type"].startswith("application/json"), response.content[:200]
    return response.json()["problems"]


@pytest.mark.parametrize(("body", "path"), [
    ('{{"graph": {g}, "input": {{}}, "budget": {{"max_cost_usd": NaN}}}}', "budget.max_cost_usd"),
    ('{{"graph": {g}, "input": {{}}, "budget": {{"max_cost_usd": Infinity}}}}', "budget.max_cost_usd"),
    ('{{"graph": {g}, "input": {{"n": -Infinity}}}}', "input.n"),
    ('{{"graph": {g}, "input": {{"n": [1, 1e309]}}}}', "input.n[1]"),
    ('{{"graph": {g}, "input": {{"text": "\\udc00"}}}}', "input.text"),
])
def test_a_run_request_with_an_unreadable_value_is_a_400_naming_it(alice_api, body: str, path: str) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, OPEN)
    response = post(alice_api, "/api/runs/", body.format(g=graph_id))
    assert response.status_code == 400, response.content
    assert problems(response)[0]["path"] == path
    assert problems(response)[0]["message"] in (NOT_FINITE, SURROGATE)
    assert not Run.objects.exists()


def test_a_graph_with_a_non_finite_number_is_refused_and_not_saved(alice_api) -> None:  # type: ignore[no-untyped-def]
    spec = json.dumps({"spec": {**OPEN, "nodes": [OPEN["nodes"][0], {**OPEN["nodes"][1], "config": {"value": 0.5}}]}})
    response = post(alice_api, "/api/graphs/", spec.replace("0.5", "1e999"))
    assert response.status_code == 400
    assert problems(response) == [{"path": "spec.nodes[1].config.value", "message": NOT_FINITE}]
    validate = post(alice_api, "/api/graphs/validate/", spec.replace('"spec": ', '"spec": ').replace("0.5", "NaN"))
    assert validate.status_code == 400 and problems(validate)[0]["path"] == "spec.nodes[1].config.value"
    assert not Graph.objects.exists() and not GraphVersion.objects.exists()


@pytest.mark.parametrize("body", [b'{"spec": {"name": "caf\xe9"}}', b'\xff\xfe{\x00}\x00'])
def test_a_body_that_is_not_utf8_is_a_400(alice_api, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = post(alice_api, "/api/graphs/", body)
    assert response.status_code == 400 and problems(response) == [{"path": "", "message": "not valid UTF-8"}]
    assert not Graph.objects.exists()


def test_a_body_over_the_limit_is_a_413_on_the_rest_api(alice_api, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    big = json.dumps({"spec": {**OPEN, "description": "x" * 5000}})
    response = post(alice_api, "/api/graphs/", big)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert not Graph.objects.exists()


def test_form_and_multipart_bodies_are_a_415(alice_api) -> None:  # type: ignore[no-untyped-def]
    form = post(alice_api, "/api/graphs/", "spec=%5B%5B%5B", "application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.json()["error"] == "unsupported_media_type"
    multipart = alice_api.post("/api/graphs/", {"spec": "[" * 5000}, format="multipart")
    assert multipart.status_code == 415
    assert not Graph.objects.exists()


def test_the_session_login_reads_its_body_with_the_same_reader(alice) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    for body, status in [('{"username": "alice", "password": NaN}', 400), ('{"username": "\\ud800"}', 400),
                         ("[" * 10_000, 400), (b"\xc3", 400)]:
        response = client.generic("POST", "/api/session/login/", body, content_type="application/json")
        assert response.status_code == status, (body[:20], response.content)
        assert response.json()["error"] in ("invalid", "parse_error")


@pytest.mark.parametrize("value", ["²", "٣", "-1", "1.5", "x", "99999999999999999999", "0"])
def test_a_bad_graph_filter_is_a_400_naming_it(alice_api, value: str) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.get("/api/runs/", {"graph": value})
    assert response.status_code == 400, response.content
    assert [p["path"] for p in problems(response)] == ["graph"]


@pytest.mark.parametrize("value", ["²", "٣", "-1", "1e3", "99999999999", ""])
def test_a_bad_event_cursor_is_a_400_naming_it(alice_api, value: str) -> None:  # type: ignore[no-untyped-def]
    graph = Graph.objects.get(pk=create_graph(alice_api, OPEN))
    run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                             trace_id="a" * 32)
    response = alice_api.get(f"/api/runs/{run.pk}/events/", {"after": value})
    assert response.status_code == 400, response.content
    assert [p["path"] for p in problems(response)] == ["after"]
    assert alice_api.get(f"/api/runs/{run.pk}/events/", {"after": "3"}).status_code == 200


@pytest.mark.parametrize("ref", ["name@²", "name@٣", "name@99999999999999999999"])
def test_a_prompt_ref_or_subgraph_version_in_unicode_digits_is_a_problem_not_a_500(alice_api, ref: str) -> None:  # type: ignore[no-untyped-def]
    prompt = {**OPEN, "nodes": [OPEN["nodes"][0], {"id": "ask", "type": "llm", "config": {
        "model": "fast", "prompt_ref": ref}}, OPEN["nodes"][1]],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}
    sub = {**OPEN, "nodes": [OPEN["nodes"][0], {"id": "sub", "type": "subgraph", "config": {
        "subgraph": {"graph": ref}}}, OPEN["nodes"][1]],
        "edges": [{"from": "in", "to": "sub"}, {"from": "sub", "to": "out"}]}
    for spec in (prompt, sub):
        response = alice_api.post("/api/graphs/validate/", {"spec": spec}, format="json")
        assert response.status_code in (200, 400), response.content
        saved = alice_api.post("/api/graphs/", {"spec": spec}, format="json")
        assert saved.status_code == 400, saved.content
        assert any(p["path"].startswith("spec.nodes[1]") for p in problems(saved)), saved.content
    assert not Graph.objects.exists()


@pytest.mark.parametrize("field", ["graph", "version"])
def test_an_id_beyond_the_database_range_in_a_run_request_is_a_4xx(alice_api, field: str) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, OPEN)
    body = {"graph": graph_id, "input": {}, field: 2**70}
    response = alice_api.post("/api/runs/", body, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert not Run.objects.exists()


def test_the_same_input_size_is_accepted_by_the_rest_api_as_by_published_endpoints(alice_api, settings) -> None:  # type: ignore[no-untyped-def]
    """``"é" × 100,000`` is 200,000 UTF-8 bytes: within 256 KiB (it was 600,000 escaped characters here)."""
    graph_id = create_graph(alice_api, OPEN)
    accepted = alice_api.post("/api/runs/", {"graph": graph_id, "input": {"t": "é" * 100_000}}, format="json")
    assert accepted.status_code == 201, accepted.content[:300]
    settings.PATCHBAY_MAX_INPUT_BYTES = 200_000
    refused = alice_api.post("/api/runs/", {"graph": graph_id, "input": {"t": "é" * 100_000}}, format="json")
    assert refused.status_code == 400 and problems(refused)[0]["path"] == "input"
    assert "200008 bytes" in problems(refused)[0]["message"]  # {"t":""} is 8 bytes + 200,000
    assert Run.objects.count() == 1

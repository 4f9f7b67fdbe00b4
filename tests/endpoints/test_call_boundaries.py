"""A published flow's call reads its body, headers and cursors totally, over real HTTP to Daphne.

Every refusal is a 4xx in the API's shape naming the field; nothing is stored.
"""
from __future__ import annotations

import httpx
import pytest

from backend.config.jsonbody import NOT_FINITE, SURROGATE
from backend.runs.models import Run

from .conftest import Flow, create_graph, publish

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

OPEN = {"schema": "patchbay.graph/v1", "name": "open", "inputs": {"type": "object"},
        "nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output", "config": {"value": 1}}],
        "edges": [{"from": "in", "to": "out"}]}


def call(http: httpx.Client, flow: Flow, body: bytes | str, slug: str | None = None) -> httpx.Response:
    return http.post(f"/api/v1/flows/{slug or flow.slug}/run", content=body,
                     headers={**flow.auth(), "Content-Type": "application/json"})


@pytest.mark.parametrize(("body", "path", "message"), [
    ('{"input": {"text": "hi"}, "budget": {"max_cost_usd": NaN}}', "budget.max_cost_usd", NOT_FINITE),
    ('{"input": {"text": "hi"}, "budget": {"max_cost_usd": Infinity}}', "budget.max_cost_usd", NOT_FINITE),
    ('{"input": {"text": "hi"}, "budget": {"max_cost_usd": 1e309}}', "budget.max_cost_usd", NOT_FINITE),
    ('{"input": {"text": "hi"}, "timeout_s": -Infinity}', "timeout_s", NOT_FINITE),
    ('{"input": {"text": "\\ud800"}}', "input.text", SURROGATE),
])
def test_an_unreadable_value_in_a_flow_call_is_a_400_with_its_path(live_stack, http: httpx.Client, flow: Flow,  # type: ignore[no-untyped-def]
                                                                  body: str, path: str, message: str) -> None:
    response = call(http, flow, body)
    assert response.status_code == 400, response.text
    assert response.json()["problems"] == [{"path": path, "message": message}]
    assert response.headers["X-Request-Id"]
    assert not Run.objects.exists()


def test_a_flow_call_that_is_not_utf8_or_too_large_is_refused(live_stack, http: httpx.Client, flow: Flow) -> None:  # type: ignore[no-untyped-def]
    bad = call(http, flow, b'{"input": {"text": "caf\xe9"}}')
    assert bad.status_code == 400 and bad.json()["problems"] == [{"path": "", "message": "not valid UTF-8"}]
    huge = call(http, flow, b'{"input": {"text": "' + b"x" * (3 * 1024 * 1024) + b'"}}')
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    assert not Run.objects.exists()


def test_one_input_size_for_published_endpoints_and_the_rest_api(live_stack, http: httpx.Client, flow: Flow,  # type: ignore[no-untyped-def]
                                                                alice_api) -> None:
    """``"é" × 100,000`` (200,000 UTF-8 bytes) is accepted by both doors; ``"é" × 140,000`` refused by both."""
    publish(alice_api, create_graph(alice_api, OPEN), "open")
    fits, too_big = {"t": "é" * 100_000}, {"t": "é" * 140_000}
    via_endpoint = http.post("/api/v1/flows/open/run", json={"input": fits, "mode": "async"}, headers=flow.auth())
    assert via_endpoint.status_code == 202, via_endpoint.text[:300]
    graph_id = Run.objects.get().graph_id
    via_rest = alice_api.post("/api/runs/", {"graph": graph_id, "input": fits}, format="json")
    assert via_rest.status_code == 201, via_rest.content[:300]
    refused_endpoint = http.post("/api/v1/flows/open/run", json={"input": too_big}, headers=flow.auth())
    refused_rest = alice_api.post("/api/runs/", {"graph": graph_id, "input": too_big}, format="json")
    assert refused_endpoint.status_code == 413 and refused_endpoint.json()["problems"][0]["path"] == "input"
    assert refused_rest.status_code == 400 and refused_rest.json()["problems"][0]["path"] == "input"
    assert "280008 bytes" in refused_endpoint.json()["message"] and "280008 bytes" in \
        refused_rest.json()["problems"][0]["message"]
    assert Run.objects.count() == 2


@pytest.mark.parametrize(("headers", "query", "path"), [
    ({"Last-Event-ID": "²"}, {}, "headers.Last-Event-ID"),
    ({"Last-Event-ID": "-1"}, {}, "headers.Last-Event-ID"),
    ({"Last-Event-ID": "99999999999"}, {}, "headers.Last-Event-ID"),
    ({}, {"after": "²"}, "after"),
    ({}, {"after": "٣"}, "after"),
    ({}, {"after": "1.5"}, "after"),
])
def test_a_bad_event_cursor_is_a_400_naming_it(live_stack, http: httpx.Client, flow: Flow,  # type: ignore[no-untyped-def]
                                               headers: dict[str, str], query: dict[str, str], path: str) -> None:
    started = http.post(f"/api/v1/flows/{flow.slug}/run", json={"input": {"text": "hi"}, "mode": "async"},
                        headers=flow.auth())
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    encoded = {k: v.encode("latin-1") for k, v in headers.items()}  # as a client sends "²": one byte, 0xB2
    response = http.get(f"/api/v1/runs/{run_id}/events", params=query, headers={**flow.auth(), **encoded})
    assert response.status_code == 400, response.text
    assert [p["path"] for p in response.json()["problems"]] == [path]


@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
def test_a_bad_idempotency_key_is_a_400_naming_it_in_every_mode_and_on_v1(live_stack, http: httpx.Client,  # type: ignore[no-untyped-def]
                                                                         flow: Flow, mode: str) -> None:
    bad = {**flow.auth(), "Idempotency-Key": "two words"}
    response = http.post(f"/api/v1/flows/{flow.slug}/run", json={"input": {"text": "hi"}, "mode": mode}, headers=bad)
    assert response.status_code == 400, response.text
    assert response.json()["problems"] == [{"path": "headers.Idempotency-Key",
                                            "message": "1 to 200 visible ASCII characters"}]
    chat = http.post("/v1/chat/completions", headers=bad, json={
        "model": flow.slug, "messages": [{"role": "user", "content": "hi"}], "stream": mode == "stream"})
    assert chat.status_code == 400 and chat.json()["error"]["param"] == "headers.Idempotency-Key", chat.text
    assert not Run.objects.exists()


def test_the_key_is_checked_before_the_body_on_v1_too(live_stack, http: httpx.Client, flow: Flow) -> None:  # type: ignore[no-untyped-def]
    """A caller without a valid key learns nothing about its request: 401 even for a body that is not JSON."""
    for headers in ({}, {"Authorization": "Bearer pbk_nope_nothing"}):
        for body in (b"{not json", b'{"model": "nowhere", "messages": []}'):
            response = http.post("/v1/chat/completions", content=body,
                                 headers={**headers, "Content-Type": "application/json"})
            assert response.status_code == 401, response.text
            assert response.json()["error"]["type"] == "authentication_error"
    unreadable = http.post("/v1/chat/completions", content=b"{not json",
                           headers={**flow.auth(), "Content-Type": "application/json"})
    assert unreadable.status_code == 400 and unreadable.json()["error"]["type"] == "invalid_request_error"

"""A JSON body nested thousands deep is a 400 naming the problem on every door, never a 500 (RecursionError).

Over real HTTP to the live Daphne server: the REST API (DRF's parser, set in
settings) and the async flow view (its own body parsing). Depths around
Python's recursion limit (1,000) parse or not depending on the stack; each
must still answer 400.
"""
from __future__ import annotations

import httpx
import pytest

from ..conftest import token_for
from .conftest import Flow

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_bodies(depth: int, graph_id: int) -> dict[str, str]:
    value = nested(depth)
    return {"/api/runs/": f'{{"graph": {graph_id}, "input": {{"q": {value}}}}}',
            "/api/graphs/": f'{{"spec": {{"nodes": {value}}}}}'}


@pytest.mark.parametrize("depth", [150, 950, 990, 5000])
def test_a_deeply_nested_body_is_a_400_on_the_rest_api(live_stack, http: httpx.Client, flow: Flow,  # type: ignore[no-untyped-def]
                                                        alice, depth: int) -> None:
    headers = {"Authorization": f"Token {token_for(alice)}", "Content-Type": "application/json"}
    for path, body in deep_bodies(depth, flow.graph_id).items():
        response = http.post(path, content=body, headers=headers)
        assert response.status_code == 400, (path, depth, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")
        assert "nested" in response.json()["message"] + str(response.json()["problems"]), response.text[:300]


@pytest.mark.parametrize("depth", [150, 950, 990, 5000])
def test_a_deeply_nested_flow_call_is_a_400(live_stack, http: httpx.Client, flow: Flow, depth: int) -> None:  # type: ignore[no-untyped-def]
    response = http.post(f"/api/v1/flows/{flow.slug}/run", content=f'{{"input": {{"text": {nested(depth)}}}}}',
                         headers={**flow.auth(), "Content-Type": "application/json"})
    assert response.status_code == 400, (depth, response.status_code, response.text[:300])
    body = response.json()
    assert "nested" in body["message"] + str(body["problems"]), body


def test_an_unclosed_body_thousands_deep_is_a_400_naming_the_problem(live_stack, http: httpx.Client, flow: Flow,  # type: ignore[no-untyped-def]
                                                                     alice) -> None:
    body = "[" * 5000
    rest = http.post("/api/runs/", content=body, headers={"Authorization": f"Token {token_for(alice)}",
                                                          "Content-Type": "application/json"})
    assert rest.status_code == 400 and rest.json()["problems"] == [{"path": "", "message": "nested too deeply to read"}]
    called = http.post(f"/api/v1/flows/{flow.slug}/run", content=body,
                       headers={**flow.auth(), "Content-Type": "application/json"})
    assert called.status_code == 400 and called.json()["problems"] == [{"path": "",
                                                                        "message": "nested too deeply to read"}]

"""The authorization rule on the live stack: the websocket and published endpoints (real server, real worker).

The matrix (test_matrix.py) covers every HTTP route in-process; here the same rule is checked where it runs
outside DRF views: the websocket consumer (reads) and API keys calling published flows (scopes, revocation,
another workspace's key).
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.graphs.models import Membership, Workspace
from tests.conftest import token_for
from tests.runs.live import close_code, create_graph, read_events, start_run, wait_finished

INPUTS = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def flow_spec(name: str) -> dict[str, Any]:
    return {"schema": "patchbay.graph/v1", "name": name, "inputs": INPUTS,
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "ask", "type": "llm", "config": {"model": "fast", "prompt": "Answer: {{ input.text }}"}},
                      {"id": "out", "type": "output", "config": {"value": {"reply": "{{ nodes.ask.output }}"}}}],
            "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def member_of(workspace: Workspace, name: str, role: str) -> Any:
    user = get_user_model().objects.create_user(name)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def http(live_stack) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_stack.http_url, timeout=30) as client:
        yield client


def test_the_websocket_lets_members_read_and_no_one_else(live_stack, alice, alice_api, bob) -> None:  # type: ignore[no-untyped-def]
    workspace = Workspace.objects.get(membership__user=alice)
    viewer = member_of(workspace, "vic", Membership.Role.VIEWER)
    leaver = member_of(workspace, "dave", Membership.Role.EDITOR)
    run_id = start_run(alice_api, create_graph(alice_api, flow_spec("ws")), {"text": "hello"})
    wait_finished(run_id)

    events = asyncio.run(read_events(live_stack.ws_url, run_id, token_for(viewer)))
    assert events[-1]["type"] == "run.completed"
    assert asyncio.run(close_code(live_stack.ws_url, run_id, token_for(bob))) == 4403  # another workspace's admin
    assert asyncio.run(close_code(live_stack.ws_url, run_id, None)) == 4401

    # Removed from the workspace: the next connection is refused like anyone else's.
    assert asyncio.run(read_events(live_stack.ws_url, run_id, token_for(leaver)))[-1]["type"] == "run.completed"
    assert alice_api.delete(f"/api/workspaces/{workspace.pk}/members/{leaver.pk}/").status_code == 204
    assert asyncio.run(close_code(live_stack.ws_url, run_id, token_for(leaver))) == 4403


def test_published_flows_answer_keys_by_scope_revocation_and_workspace(live_stack, http, alice, alice_api,  # type: ignore[no-untyped-def]
                                                                        bob, bob_api) -> None:
    for slug in ("ask", "other"):
        graph_id = create_graph(alice_api, flow_spec(slug))
        assert alice_api.post("/api/endpoints/", {"graph": graph_id, "slug": slug}, format="json").status_code == 201
    scoped = alice_api.post("/api/api-keys/", {"name": "ask only", "scopes": ["ask"], "rate_limit_per_minute": None},
                            format="json").json()
    revoked = alice_api.post("/api/api-keys/", {"name": "old", "rate_limit_per_minute": None}, format="json").json()
    assert alice_api.post(f"/api/api-keys/{revoked['id']}/revoke/").status_code == 200
    bob_graph = create_graph(bob_api, flow_spec("bobs"))
    assert bob_api.post("/api/endpoints/", {"graph": bob_graph, "slug": "bobs"}, format="json").status_code == 201
    bobs_key = bob_api.post("/api/api-keys/", {"name": "bob", "rate_limit_per_minute": None}, format="json").json()

    def flow(slug: str, key: str, scheme: str = "Bearer") -> httpx.Response:
        return http.post(f"/api/v1/flows/{slug}/run", json={"input": {"text": "hi"}},
                         headers={"Authorization": f"{scheme} {key}"})

    answered = flow("ask", scoped["key"])
    assert answered.status_code == 200 and answered.json()["status"] == "succeeded", answered.text
    out_of_scope = flow("other", scoped["key"])
    assert out_of_scope.status_code == 403 and "may call only: ask" in out_of_scope.json()["message"]
    assert flow("ask", revoked["key"]).status_code == 401
    assert flow("ask", bobs_key["key"]).status_code == 404  # another workspace's flow does not exist for this key
    assert flow("ask", token_for(alice), scheme="Token").status_code == 401  # a person's token is not an API key

    # The same rule through the OpenAI-compatible routes (a flow is a model named by its slug).
    def chat(model: str, key: str) -> httpx.Response:
        return http.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                         headers={"Authorization": f"Bearer {key}"})

    def models(key: str) -> list[str]:
        return [m["id"] for m in http.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).json()["data"]]

    assert chat("ask", scoped["key"]).status_code == 200
    assert [chat(m, k).status_code for m, k in (("other", scoped["key"]), ("ask", revoked["key"]),
                                                ("ask", bobs_key["key"]), ("ask", token_for(alice)))] == \
        [403, 401, 404, 401]
    assert models(scoped["key"]) == ["ask"] and models(bobs_key["key"]) == ["bobs"]

    # The run the scoped key started: readable with that key, not with another workspace's.
    run_id = answered.headers["X-Run-Id"]
    assert http.get(f"/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {scoped['key']}"}).status_code == 200
    assert http.get(f"/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {bobs_key['key']}"}).status_code == 404
    assert http.get(f"/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {revoked['key']}"}).status_code == 401

    # A viewer of the workspace reads keys' metadata but cannot mint, change or revoke one.
    workspace = Workspace.objects.get(membership__user=alice)
    viewer = client_for(member_of(workspace, "vic", Membership.Role.VIEWER))
    assert sorted(k["name"] for k in viewer.get("/api/api-keys/").json()) == ["ask only", "old"]
    for response in (viewer.post("/api/api-keys/", {"name": "mine", "workspace": workspace.pk}, format="json"),
                     viewer.patch(f"/api/api-keys/{scoped['id']}/", {"scopes": []}, format="json"),
                     viewer.post(f"/api/api-keys/{scoped['id']}/revoke/")):
        assert response.status_code == 403 and "the admin role" in response.json()["message"]
    assert flow("other", scoped["key"]).status_code == 403  # the scope is unchanged

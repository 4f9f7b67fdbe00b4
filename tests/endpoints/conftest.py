"""Fixtures for published endpoints: a published flow, API keys, an HTTP client on the live server.

Callbacks in the live stack: the worker and server inherit this process's
environment when the session's ``live_stack`` starts (after collection, so
after this module is imported). The test-only allowance below lets result
callbacks reach a receiver on 127.0.0.2 over plain HTTP and nowhere else
that is not public; 127.0.0.1 and every other private range stay refused,
which the refusal tests check. Nothing here sends traffic off this machine.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

CALLBACK_HOST = "127.0.0.2"
os.environ.setdefault("PATCHBAY_CALLBACK_ALLOWED_NETWORKS", f"{CALLBACK_HOST}/32")
os.environ.setdefault("PATCHBAY_CALLBACK_REQUIRE_HTTPS", "false")

INPUTS = {"type": "object", "properties": {"text": {"type": "string", "title": "Question", "maxLength": 5000}},
          "required": ["text"], "additionalProperties": False}


def tagged_spec(tag: str, *, model: str = "fast", name: str = "ask") -> dict[str, Any]:
    """input → one llm call → output {reply, version}: ``tag`` tells which graph version answered."""
    return {
        "schema": "patchbay.graph/v1", "name": name, "inputs": INPUTS,
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "ask", "type": "llm", "config": {"model": model, "prompt": "Answer briefly: {{ input.text }}",
                                                          "params": {"temperature": 0.3}}},
                  {"id": "out", "type": "output", "config": {"value": {"reply": "{{ nodes.ask.output }}",
                                                                       "version": tag}}}],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
    }


@dataclass
class Flow:
    slug: str
    graph_id: int
    key: str  # a whole API key (Bearer) of alice's workspace, unscoped, no limits
    key_id: int

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


def create_graph(api: Any, spec: dict[str, Any]) -> int:
    response = api.post("/api/graphs/", {"spec": spec}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def save_version(api: Any, graph_id: int, spec: dict[str, Any]) -> int:
    response = api.put(f"/api/graphs/{graph_id}/", {"spec": spec}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["latest_version"]["number"]


def publish(api: Any, graph_id: int, slug: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/api/endpoints/", {"graph": graph_id, "slug": slug, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def make_key(api: Any, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/api-keys/", {"name": "test key", "rate_limit_per_minute": None, **fields},
                        format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def flow(alice, alice_api) -> Flow:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "ask")
    key = make_key(alice_api)
    return Flow(slug="ask", graph_id=graph_id, key=key["key"], key_id=key["id"])


@pytest.fixture
def http(live_stack) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_stack.http_url, timeout=30) as client:
        yield client

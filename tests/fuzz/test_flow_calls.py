"""Flow calls (POST /api/v1/flows/<slug>/run with an API key) and their event cursors, fuzzed in-process.

The async views run in-process through Django's test client; their database
pool has its own connections, so the test commits (``transactional_db``).
Accepted calls are queued (mode ``async``: no worker needed, nothing waits)
and the test's queue is emptied afterwards. Callback URLs are swapped for
ones refused before anything is contacted, so no generated host is resolved.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import assume, given
from hypothesis import strategies as st

from backend.runs.models import Run

from ..endpoints.conftest import create_graph, make_key, publish
from .checks import assert_answer
from .conftest import fuzz
from .strategies import json_values, numbers, raw_bodies, shaped_then_mutated, tricky_text

pytestmark = pytest.mark.django_db(transaction=True)

INPUTS = {"type": "object", "additionalProperties": False, "required": ["text"], "properties": {
    "text": {"type": "string", "maxLength": 5000}, "count": {"type": "integer", "minimum": 0, "maximum": 100},
    "ratio": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    "kind": {"enum": ["a", "b"]}}}
SPEC = {"schema": "patchbay.graph/v1", "name": "echo", "inputs": INPUTS,
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "out", "type": "output", "config": {"value": {"text": "{{ input.text }}"}}}],
        "edges": [{"from": "in", "to": "out"}]}
REFUSED_CALLBACKS = ["https://127.0.0.1/hook", "http://10.0.0.1/x", "ftp://x", "not a url", "https://[::1]/"]

call_bodies = st.fixed_dictionaries({"input": shaped_then_mutated(INPUTS)}, optional={
    "mode": st.one_of(st.sampled_from(["async", "sync", "stream"]), json_values()),
    "budget": st.one_of(json_values(), st.dictionaries(st.sampled_from(["max_cost_usd", "max_seconds",
                                                                         "max_llm_calls"]), numbers(), max_size=3)),
    "timeout_s": st.one_of(numbers(), json_values()),
    "callback_url": st.one_of(st.sampled_from(REFUSED_CALLBACKS), json_values()),
    "extra": json_values()})


@pytest.fixture
def flow(alice_api) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, SPEC)
    publish(alice_api, graph_id, "echo")
    yield {"slug": "echo", "key": make_key(alice_api)["key"]}
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete(settings.CELERY_TASK_DEFAULT_QUEUE)  # the queued fuzz runs
    close_pool_connections()


def close_pool_connections() -> None:
    """Close the flow views' pool connections, so the test database can be flushed and dropped."""
    import threading

    from django.db import connections

    from backend.endpoints.asyncdb import _pool

    threads = len(_pool._threads)
    if not threads:
        return
    everyone = threading.Barrier(threads, timeout=10)

    def close() -> None:
        connections.close_all()
        everyone.wait()  # hold this thread so each of the pool's threads takes one task

    for future in [_pool.submit(close) for _ in range(threads)]:
        future.result()


def tame(body: Any) -> Any:
    """Keep the call from waiting or reaching out: sync/stream → async, any string callback → a refused one."""
    if isinstance(body, dict):
        body = dict(body)
        if body.get("mode", "sync") in ("sync", "stream"):
            body["mode"] = "async"
        if isinstance(body.get("callback_url"), str) and body["callback_url"] not in REFUSED_CALLBACKS:
            body["callback_url"] = REFUSED_CALLBACKS[0]
    return body


@fuzz
@given(data=st.data(), raw=st.booleans(), slug=st.sampled_from(["echo", "echo", "nope", "ECHO"]),
       idempotency=st.one_of(st.none(), tricky_text()), request_id=st.one_of(st.none(), tricky_text()))
def test_flow_calls_never_500_nor_leave_a_refused_run(flow, data: st.DataObject, raw: bool, slug: str,  # type: ignore[no-untyped-def]
                                                      idempotency: str | None, request_id: str | None) -> None:
    body = tame(data.draw(st.one_of(call_bodies, json_values()), label="body"))
    encoded = json.dumps(body).encode()
    if raw:
        encoded = data.draw(raw_bodies(st.just(body)), label="raw")
        if b"mode" not in encoded and b"{" in encoded[:1]:
            assume(False)  # a raw body without a mode would call in sync mode and wait for a worker
    headers = {"HTTP_AUTHORIZATION": f"Bearer {flow['key']}"}
    if idempotency is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency
    if request_id is not None:
        headers["HTTP_X_REQUEST_ID"] = request_id
    before = Run.objects.count()
    response = Client().post(f"/api/v1/flows/{slug}/run", encoded, content_type="application/json", **headers)
    assert_answer(response, f"POST /api/v1/flows/{slug}/run {encoded[:2000]!r} {headers}")
    if response.status_code >= 400:
        assert Run.objects.count() == before, f"refused with {response.status_code} but a run was stored"


@fuzz
@given(cursor=tricky_text(), header=st.booleans())
def test_event_cursors_never_500(flow, alice_api, cursor: str, header: bool) -> None:  # type: ignore[no-untyped-def]
    run = Run.objects.order_by("-created_at").first()
    if run is None:
        response = Client().post("/api/v1/flows/echo/run", {"input": {"text": "x"}, "mode": "async"},
                                 content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {flow['key']}")
        assert response.status_code == 202, response.content
        run = Run.objects.get(pk=response.json()["run_id"])
    extra = {"HTTP_LAST_EVENT_ID": cursor} if header else {}
    query = "" if header else f"?after={cursor}"
    # A cursor past the end keeps the stream open; only refusals are read here (a good cursor is 200 + SSE).
    response = Client().get(f"/api/v1/runs/{run.pk}/events{query}", HTTP_AUTHORIZATION=f"Bearer {flow['key']}",
                            **extra)
    if response.status_code != 200:
        assert_answer(response, f"GET /api/v1/runs/{run.pk}/events cursor={cursor!r} header={header}")

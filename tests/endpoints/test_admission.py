"""One admission for every published call (admission.py): the flow route and the OpenAI routes refuse alike.

In-process through Django's test client (the views' database pool has its own
connections, so the test commits); the rate limiter's Redis is made to fail.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.config.redis_clients import sync_redis
from backend.endpoints import admission, flow_views, openai_views, ratelimit
from backend.endpoints.models import ApiKey
from backend.runs.models import Run

from ..fuzz.test_flow_calls import SPEC, close_pool_connections
from .conftest import create_graph, make_key, publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def limited(alice_api) -> Iterator[str]:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, SPEC), "echo")
    yield make_key(alice_api, rate_limit_per_minute=5)["key"]
    close_pool_connections()


class DownRedis:
    def eval(self, *args: Any) -> Any:
        raise RedisConnectionError("Connection refused (injected)")


def test_a_rate_limiter_down_is_a_503_with_retry_after_on_both_routes(limited: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "sync_redis", DownRedis)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {limited}", "HTTP_X_REQUEST_ID": "req-limiter-down"}
    flow = Client().post("/api/v1/flows/echo/run", {"input": {"text": "hi"}, "mode": "async"},
                         content_type="application/json", **auth)
    assert flow.status_code == 503 and flow.json()["error"] == "unavailable", flow.content
    assert flow["Retry-After"] == "5" and flow["X-Request-Id"] == "req-limiter-down"
    chat = Client().post("/v1/chat/completions", {"model": "echo", "messages": [{"role": "user", "content": "hi"}]},
                         content_type="application/json", **auth)
    assert chat.status_code == 503 and chat.json()["error"]["type"] == "service_unavailable", chat.content
    assert chat["Retry-After"] == "5" and chat["X-Request-Id"] == "req-limiter-down"
    assert not Run.objects.exists()


def test_a_call_an_outage_refuses_after_its_rate_limit_counted_it_is_not_counted(
        limited: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client retrying through a database or broker outage, as Retry-After tells it, keeps its limit for after."""
    def database_down(**_: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused (injected)")

    monkeypatch.setattr(admission, "flow_call_start", database_down)
    window = ratelimit.bucket(ApiKey.objects.get().prefix)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {limited}"}
    for _ in range(3):  # 6 calls on a limit of 5: each would have counted
        flow = Client().post("/api/v1/flows/echo/run", {"input": {"text": "hi"}, "mode": "async"},
                             content_type="application/json", **auth)
        assert flow.status_code == 503 and flow.json()["error"] == "service_unavailable", flow.content
        chat = Client().post("/v1/chat/completions", {"model": "echo", "messages": [{"role": "user", "content": "hi"}]},
                             content_type="application/json", **auth)
        assert chat.status_code == 503 and chat.json()["error"]["code"] == "service_unavailable", chat.content
    assert sync_redis().zcard(window) == 0
    assert ratelimit.hit(ApiKey.objects.get().prefix, 5).remaining == 4


def test_the_routes_admit_through_admission_only() -> None:
    """A route that checks a key or a limit, or starts a run, by itself is a second copy of the rule."""
    for view in (flow_views, openai_views):
        assert view.admit_and_start is admission.admit_and_start, view.__name__
        for copy in ("ratelimit", "flow_call_start", "call_cache", "authorize", "want_request_deltas",
                     "endpoint_for_call"):
            assert not hasattr(view, copy), f"{view.__name__} uses {copy} itself: admit through admission.py"

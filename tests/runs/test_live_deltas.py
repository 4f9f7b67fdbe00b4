"""Endpoint runs stream model answers only when someone reads the deltas; everything else streams as before.

The marks live in the test Redis; the gateway talks to bench/fake_openai.py over HTTP through litellm.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.engine.ports import LLMRequest
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import ModelRoute
from backend.runs import live_deltas
from bench.fake_openai import FakeConfig, make_answer

MESSAGES = [{"role": "user", "content": "Say hello to the whole team please"}]


def wanted(run_id: str, source: str, request_id: str) -> bool | None:
    check = live_deltas.deltas_wanted_check(run_id, source, request_id)
    return None if check is None else asyncio.run(check())


def test_runs_people_watch_always_stream() -> None:
    for source in ("api", "canvas", "replay", "cli"):
        assert live_deltas.deltas_wanted_check(uuid.uuid4(), source, "req-1") is None


def test_an_endpoint_run_streams_once_its_request_or_a_follower_asks() -> None:
    run_id, request_id = str(uuid.uuid4()), f"req-{uuid.uuid4().hex}"
    assert wanted(run_id, "endpoint", request_id) is False, "a sync or async call: nobody reads deltas"
    live_deltas.want_request_deltas(request_id)  # a stream-mode call, before its run exists
    assert wanted(run_id, "endpoint", request_id) is True
    other = str(uuid.uuid4())
    assert wanted(other, "openai", "") is False
    asyncio.run(live_deltas.want_run_deltas(other))  # a websocket or SSE follower joined
    assert wanted(other, "openai", "") is True


def test_without_redis_the_worker_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        async def mget(self, keys: list[str]) -> Any:
            raise RedisConnectionError("Redis is restarting")

    monkeypatch.setattr(live_deltas, "async_redis", lambda: Down())
    assert wanted(str(uuid.uuid4()), "endpoint", "req-x") is True


@pytest.mark.parametrize("read", [False, True])
def test_the_gateway_asks_for_a_whole_answer_when_nobody_reads_deltas(fake_openai: Any, read: bool) -> None:
    fake_openai.configure(**vars(FakeConfig()))
    primary = ModelRoute(alias="primary", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key="k",
                         timeout_s=5)

    async def resolve(alias: str) -> ModelRoute:
        return primary

    async def stream_when() -> bool:
        return read

    deltas: list[str] = []

    def on_delta(text: str, *, attempt: int = 1) -> None:
        deltas.append(text)

    result = asyncio.run(LiteLLMGateway(resolve, stream_when=stream_when).complete(
        LLMRequest("primary", MESSAGES, stream=True), on_delta))
    assert result.text == make_answer({"messages": MESSAGES}) and result.output_tokens > 0
    assert ("".join(deltas) == result.text) if read else deltas == []


def test_the_marks_are_read_with_the_circuit_breaker_in_one_round_trip(fake_openai: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With a breaker on the route, the check's own MGET is never sent: its keys ride on the breaker's EVAL, and
    a mark set before a call still makes that call stream (a follower's join reaches the next call)."""
    import redis.asyncio as aioredis
    from django.conf import settings

    from backend.providers.breaker import RedisBreaker
    from backend.providers.routes import BreakerPolicy

    fake_openai.configure(**vars(FakeConfig()))
    primary = ModelRoute(alias=f"peek-{uuid.uuid4().hex[:8]}", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                         api_key="k", timeout_s=5, breaker=BreakerPolicy(failures=5, window_s=60, cooldown_s=30))
    run_id = str(uuid.uuid4())
    check = live_deltas.deltas_wanted_check(run_id, "endpoint", "")
    own_reads: list[str] = []
    real_mget = live_deltas.DeltasCheck.__call__

    async def counted(self: live_deltas.DeltasCheck) -> bool:
        own_reads.append("mget")
        return await real_mget(self)

    monkeypatch.setattr(live_deltas.DeltasCheck, "__call__", counted)

    async def resolve(alias: str) -> ModelRoute:
        return primary

    async def one_call() -> list[str]:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        deltas: list[str] = []
        try:
            gateway = LiteLLMGateway(resolve, RedisBreaker(lambda: client), stream_when=check)
            await gateway.complete(LLMRequest(primary.alias, MESSAGES, stream=True),
                                   lambda text, attempt=1: deltas.append(text))
        finally:
            await client.aclose()
        return deltas

    assert asyncio.run(one_call()) == [], "nobody reads: a whole answer"
    asyncio.run(live_deltas.want_run_deltas(run_id))
    assert "".join(asyncio.run(one_call())) == make_answer({"messages": MESSAGES}), "a follower joined: it streams"
    assert own_reads == []

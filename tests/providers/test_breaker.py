"""The circuit breaker over real Redis and litellm's real client against bench/fake_openai.py over HTTP."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis

from backend.engine.ports import LLMError, LLMRequest
from backend.providers.breaker import KEY_PREFIX, RedisBreaker, read_states
from backend.providers.defaults import DEFAULT_ROUTES
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import BreakerPolicy, ModelRoute
from bench.fake_openai import FakeConfig

MESSAGES = [{"role": "user", "content": "Say hello to the team"}]


@pytest.fixture(autouse=True)
def _fresh_fake(fake_openai: Any) -> None:
    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()


def redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, alias: str, event: str, detail: str) -> None:
        self.events.append((alias, event))


def breaker(events: Recorder | None = None, url: str | None = None) -> RedisBreaker:
    clients: dict[int, Any] = {}

    def client() -> Any:  # one client per event loop, as the project's async_redis does
        loop = id(asyncio.get_running_loop())
        if loop not in clients:
            clients[loop] = aioredis.Redis.from_url(url or redis_url())
        return clients[loop]

    return RedisBreaker(client, on_event=events)


def flaky_route(fake_url: str, failures: int, *, cooldown_s: float = 1.0, fallbacks: tuple = ()) -> ModelRoute:
    """A fresh alias (no state left from another test) whose first ``failures`` calls get a 500."""
    return ModelRoute(alias=f"flaky-{uuid.uuid4().hex[:8]}", model=f"openai/gpt-4o-mini+error_500:{failures}",
                      api_base=fake_url, api_key="k", max_retries=0, timeout_s=5, fallbacks=fallbacks,
                      breaker=BreakerPolicy(failures=5, window_s=60, cooldown_s=cooldown_s))


def call(gw: LiteLLMGateway, alias: str) -> Any:
    return asyncio.run(gw.complete(LLMRequest(alias, MESSAGES)))


def calls_at_fake(fake: Any, route: ModelRoute) -> int:
    return fake.stats()["calls_by_model"].get(route.model.split("/", 1)[1], 0)


def state(alias: str) -> str:
    import redis

    return read_states(redis.Redis.from_url(redis_url()), [alias])[alias]["state"]


def test_five_500s_trip_it_calls_skip_the_provider_then_a_probe_closes_it(fake_openai: Any) -> None:
    route = flaky_route(fake_openai.url, failures=5, cooldown_s=1.5)
    events = Recorder()
    gw = LiteLLMGateway(_routes({route.alias: route}), breaker(events))
    for n in range(5):
        with pytest.raises(LLMError) as info:
            call(gw, route.alias)
        assert info.value.kind == "provider"
        assert state(route.alias) == ("open" if n == 4 else "closed")
    assert calls_at_fake(fake_openai, route) == 5 and events.events == [(route.alias, "tripped")]

    # Open: no call reaches the provider, and with no fallback the error says the model is unavailable.
    for _ in range(3):
        with pytest.raises(LLMError) as info:
            call(gw, route.alias)
        assert info.value.kind == "model_unavailable" and "circuit is open" in str(info.value)
    assert calls_at_fake(fake_openai, route) == 5

    time.sleep(1.6)  # the cooldown ends: the next call is the probe, and the fake now answers
    result = call(gw, route.alias)
    assert result.text and result.fallback_from == [] and calls_at_fake(fake_openai, route) == 6
    assert state(route.alias) == "closed" and events.events[-1] == (route.alias, "recovered")


def test_an_open_circuit_sends_calls_to_the_fallback_and_the_span_says_why(fake_openai: Any) -> None:
    route = flaky_route(fake_openai.url, failures=100, cooldown_s=30, fallbacks=(DEFAULT_ROUTES["fast"],))
    gw = LiteLLMGateway(_routes({route.alias: route}), breaker())
    for _ in range(5):  # each call fails at the provider, then the fallback answers
        result = call(gw, route.alias)
        assert result.attributes["patchbay.fallback_reason"] == "error"
    assert calls_at_fake(fake_openai, route) == 5 and state(route.alias) == "open"
    result = call(gw, route.alias)
    assert result.model == "demo/fast" and result.fallback_from == [route.alias]
    assert result.attributes["patchbay.fallback_reason"] == "circuit_open" and result.attempts == 1
    assert calls_at_fake(fake_openai, route) == 5


def test_a_failed_probe_opens_it_again_and_only_one_caller_probes(fake_openai: Any) -> None:
    route = flaky_route(fake_openai.url, failures=100, cooldown_s=1.0)
    events = Recorder()
    gw = LiteLLMGateway(_routes({route.alias: route}), breaker(events))
    for _ in range(5):
        with pytest.raises(LLMError):
            call(gw, route.alias)
    time.sleep(1.1)
    fake_openai.configure(latency_ms=300)  # the probe is slow: the others arrive while it is in flight

    async def many() -> list[Any]:
        return await asyncio.gather(*[gw.complete(LLMRequest(route.alias, MESSAGES)) for _ in range(6)],
                                    return_exceptions=True)

    outcomes = asyncio.run(many())
    kinds = sorted(o.kind for o in outcomes if isinstance(o, LLMError))
    assert kinds == ["model_unavailable"] * 5 + ["provider"]  # one probe reached the provider, and failed
    assert calls_at_fake(fake_openai, route) == 6 and state(route.alias) == "open"
    assert [e for _, e in events.events] == ["tripped", "reopened"]


def test_a_success_resets_the_count_so_only_consecutive_failures_trip_it(fake_openai: Any) -> None:
    route = flaky_route(fake_openai.url, failures=4, cooldown_s=30)
    gw = LiteLLMGateway(_routes({route.alias: route}), breaker())
    for _ in range(4):
        with pytest.raises(LLMError):
            call(gw, route.alias)
    call(gw, route.alias)  # the fifth call answers: 4 failures then a success
    assert state(route.alias) == "closed"
    import redis

    assert read_states(redis.Redis.from_url(redis_url()), [route.alias])[route.alias]["failures"] == 0


def test_with_redis_down_calls_go_through_and_the_log_says_so(fake_openai: Any, caplog: Any) -> None:
    route = flaky_route(fake_openai.url, failures=0)
    gw = LiteLLMGateway(_routes({route.alias: route}), breaker(url="redis://127.0.0.1:1/0"))
    with caplog.at_level(logging.WARNING, logger="backend.providers.breaker"):
        for _ in range(7):  # more than the trip count: nothing is counted, nothing opens
            assert call(gw, route.alias).text
    assert calls_at_fake(fake_openai, route) == 7
    assert any("Redis unreachable" in r.getMessage() for r in caplog.records)
    import redis

    assert read_states(redis.Redis.from_url("redis://127.0.0.1:1/0"), [route.alias])[route.alias]["state"] == "unknown"


def test_the_breaker_key_holds_no_provider_key(fake_openai: Any) -> None:
    route = flaky_route(fake_openai.url, failures=100)
    route = ModelRoute(**{**vars(route), "api_key": "sk-secret-in-breaker-test"})
    gw = LiteLLMGateway(_routes({route.alias: route}), breaker())
    for _ in range(5):
        with pytest.raises(LLMError):
            call(gw, route.alias)
    import redis

    stored = redis.Redis.from_url(redis_url()).hgetall(KEY_PREFIX + route.alias)
    assert stored[b"state"] == b"open" and not any(b"sk-secret" in v for v in stored.values())


def _routes(routes: dict[str, ModelRoute]) -> Any:
    async def resolve(alias: str) -> ModelRoute:
        return routes[alias]

    return resolve

"""The gateway over litellm's real client: fallbacks, kill switch, estimates (fake provider over HTTP)."""
from __future__ import annotations

import asyncio

import pytest

from backend.engine.ports import LLMError, LLMRequest
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import ModelRoute

MESSAGES = [{"role": "user", "content": "Say hello to the team"}]


def gateway(routes: dict[str, ModelRoute]) -> LiteLLMGateway:
    async def resolve(alias: str) -> ModelRoute:
        return routes[alias]

    return LiteLLMGateway(resolve)


def test_streaming_delivers_deltas_and_usage(fake_openai) -> None:  # type: ignore[no-untyped-def]
    fake_openai.configure(fail_first_n=0, latency_ms=0)
    route = ModelRoute(alias="r", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key="k")
    deltas: list[str] = []
    result = asyncio.run(gateway({"r": route}).complete(LLMRequest("r", MESSAGES, stream=True),
                                                        lambda text, attempt: deltas.append(text)))
    assert "".join(deltas) == result.text and len(deltas) > 1
    assert result.input_tokens > 0 and result.output_tokens > 0 and result.cost_usd > 0


def test_a_failing_primary_falls_back_and_says_so(fake_openai) -> None:  # type: ignore[no-untyped-def]
    broken = ModelRoute(alias="broken", model="openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1", api_key="k",
                        max_retries=0, timeout_s=2,
                        fallbacks=(ModelRoute(alias="demo", model="demo/x", input_cost_per_token=1e-6),))
    result = asyncio.run(gateway({"broken": broken}).complete(LLMRequest("broken", MESSAGES)))
    assert result.model == "demo/x" and result.fallback_from == ["broken"] and result.demo


def test_a_hanging_provider_times_out_clearly(fake_openai) -> None:  # type: ignore[no-untyped-def]
    fake_openai.configure(hang_rate=1.0)
    try:
        route = ModelRoute(alias="r", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key="k",
                           max_retries=0, timeout_s=0.5)
        with pytest.raises(LLMError) as info:
            asyncio.run(gateway({"r": route}).complete(LLMRequest("r", MESSAGES)))
        assert info.value.kind == "timeout"
    finally:
        fake_openai.configure(hang_rate=0.0)


def test_the_estimate_prices_the_prompt_and_the_capped_completion() -> None:
    route = ModelRoute(alias="p", model="demo/p", input_cost_per_token=1e-6, output_cost_per_token=2e-6)
    estimate = asyncio.run(gateway({"p": route}).estimate_cost(LLMRequest("p", MESSAGES, params={"max_tokens": 100})))
    assert 100 * 2e-6 < estimate < 100 * 2e-6 + 50 * 1e-6


def test_the_cache_sees_the_model_that_would_answer_not_the_alias() -> None:
    """Part of the cache key: the provider model and endpoint; switched off, the fallback that would answer."""
    backup = ModelRoute(alias="backup", model="openai/gpt-4o", api_base="http://127.0.0.1:9/v1")
    main = ModelRoute(alias="main", model="openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1", fallbacks=(backup,))
    other_server = ModelRoute(alias="main", model="openai/gpt-4o-mini", api_base="http://127.0.0.1:8/v1")
    switched_off = ModelRoute(alias="main", model="openai/gpt-4o-mini", enabled=False, fallbacks=(backup,))

    def identity(route: ModelRoute) -> dict:
        return asyncio.run(gateway({"main": route}).resolved_model("main"))

    assert identity(main)["model"] == "openai/gpt-4o-mini"
    assert identity(main) != identity(other_server)  # same model name, another server
    assert identity(switched_off)["model"] == "openai/gpt-4o"


def test_a_provider_repeating_the_key_in_its_error_does_not_pass_it_on(fake_openai) -> None:  # type: ignore[no-untyped-def]
    """Its words reach the span and the run's error; the key in them does not, nor does the chained cause."""
    secret = "sk-echoed-4c1d9e7a2b"
    route = ModelRoute(alias="echo", model="openai/gpt-4o-mini+error_echo_key", api_base=fake_openai.url,
                       api_key=secret, max_retries=0, timeout_s=5)
    with pytest.raises(LLMError) as info:
        asyncio.run(gateway({"echo": route}).complete(LLMRequest("echo", MESSAGES)))
    assert "Incorrect API key provided: [provider key]" in str(info.value) and info.value.kind == "bad_request"
    chain, seen = [], info.value  # what a logged traceback would print
    while seen is not None:
        chain.append(f"{seen} {getattr(seen, 'attributes', '')}")
        seen = seen.__cause__
    assert all(secret not in text for text in chain), chain


def test_calls_with_different_time_left_share_one_provider_client(fake_openai) -> None:  # type: ignore[no-untyped-def]
    """litellm keeps one openai client (and its connection pool) per timeout it is given: the time a run has left
    differs on every call, so passing it would build a client and open a connection per call. The route's
    timeout goes to litellm; the run's deadline still bounds the attempt (test_provider_answers)."""
    import hashlib

    from backend.providers.gateway import litellm_module

    fake_openai.configure(fail_first_n=0, latency_ms=0, hang_rate=0.0)
    key = "k-one-client-per-route"
    route = ModelRoute(alias="r", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key=key, timeout_s=20)
    calls = gateway({"r": route})

    async def three_calls() -> None:
        for time_left in (9.0, 7.25, 3.5):
            result = await calls.complete(LLMRequest("r", MESSAGES, timeout_s=time_left))
            assert result.text and result.cost_usd > 0

    asyncio.run(three_calls())
    hashed = hashlib.sha256(key.encode()).hexdigest()
    cached = [k for k in litellm_module().in_memory_llm_clients_cache.cache_dict if hashed in str(k)]
    assert len(cached) == 1, cached

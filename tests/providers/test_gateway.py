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


@pytest.mark.parametrize("own_key", [True, False], ids=["own key: litellm's HTTP handler", "no key: openai SDK"])
def test_calls_with_different_time_left_share_one_provider_client(fake_openai, monkeypatch,  # type: ignore[no-untyped-def]
                                                                   own_key: bool) -> None:
    """litellm keeps one openai client (and its connection pool) per timeout it is given: the time a run has left
    differs on every call, so passing it would build a client and open a connection per call. The route's
    timeout goes to litellm; the run's deadline still bounds the attempt (test_provider_answers). Either call
    path (gateway.litellm_model): after the first call, no call adds a client."""
    from backend.providers.gateway import litellm_module

    fake_openai.configure(fail_first_n=0, latency_ms=0, hang_rate=0.0)
    monkeypatch.setenv("OPENAI_API_KEY", "k-from-the-environment")
    route = ModelRoute(alias="r", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                       api_key="k-one-client-per-route" if own_key else None, timeout_s=20)
    calls = gateway({"r": route})
    clients: list[set[str]] = []

    async def three_calls() -> None:
        for time_left in (9.0, 7.25, 3.5):
            result = await calls.complete(LLMRequest("r", MESSAGES, timeout_s=time_left))
            assert result.text and result.cost_usd > 0
            clients.append({str(k) for k in litellm_module().in_memory_llm_clients_cache.cache_dict})

    asyncio.run(three_calls())
    assert clients[0] == clients[1] == clients[2], [sorted(c - clients[0]) for c in clients]


def test_a_self_hosted_openai_route_answers_under_its_own_name(fake_openai) -> None:  # type: ignore[no-untyped-def]
    """litellm calls an ``openai/`` route with its own api_base and key through its ``hosted_vllm`` provider
    for a whole answer (gateway.litellm_model: litellm's HTTP handler, not the openai SDK); the model, provider
    and price the span and budget see are still the route's."""
    from backend.providers.gateway import litellm_model

    fake_openai.configure(fail_first_n=0, latency_ms=0, hang_rate=0.0)
    route = ModelRoute(alias="r", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key="k")
    assert litellm_model(route, streamed=False) == "hosted_vllm/gpt-4o-mini"
    assert litellm_model(route, streamed=True) == "openai/gpt-4o-mini"
    keyless = ModelRoute(alias="o", model="openai/gpt-4o-mini", api_base=fake_openai.url)
    assert litellm_model(keyless, streamed=False) == "openai/gpt-4o-mini"
    for stream in (False, True):
        result = asyncio.run(gateway({"r": route}).complete(LLMRequest("r", MESSAGES, stream=stream)))
        assert result.model == "openai/gpt-4o-mini" and result.attributes["gen_ai.system"] == "openai"
        assert result.cost_usd == pytest.approx(sum(litellm_module_cost(result.input_tokens, result.output_tokens)))


def litellm_module_cost(prompt_tokens: int, completion_tokens: int) -> tuple[float, float]:
    from backend.providers.gateway import litellm_module

    return litellm_module().cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=prompt_tokens,
                                           completion_tokens=completion_tokens)

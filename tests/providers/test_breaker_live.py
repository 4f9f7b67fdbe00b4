"""Kill switch and circuit breaker across processes: the API and this test process on one side, the real
Celery worker process running the runs on the other, litellm calling bench/fake_openai.py over HTTP."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bench.fake_openai import FakeConfig

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh(fake_openai: Any) -> None:
    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()  # breakers start closed (tests/conftest.py)


def graph(alias: str) -> dict[str, Any]:
    return {
        "schema": "patchbay.graph/v1", "name": f"ask {alias}", "inputs": {"type": "object"},
        "nodes": [
            {"id": "in", "type": "input"},
            {"id": "ask", "type": "llm", "config": {"model": alias, "prompt": "Greet {{ input.who }}"}},
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
        ],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
    }


def run_once(api: Any, graph_id: int) -> Any:
    from backend.runs.models import Span
    from tests.runs.live import start_run, wait_finished

    run = wait_finished(start_run(api, graph_id, {"who": "the team"}))
    return run, Span.objects.get(run=run, kind="llm")


def calls(fake: Any, model: str) -> int:
    return fake.stats()["calls_by_model"].get(model, 0)


def test_switching_an_alias_off_sends_the_workers_next_call_to_the_fallback(live_stack, fake_openai, alice,  # type: ignore[no-untyped-def]
                                                                            alice_api) -> None:
    from backend.providers.models import ModelAlias
    from tests.runs.live import create_graph

    alice.is_staff = True
    alice.save()
    ModelAlias.objects.create(alias="switchable", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=5, fallbacks=["fast"])
    ModelAlias.objects.create(alias="lonely", model="openai/gpt-4o", api_base=fake_openai.url, api_key_env="PATH")
    with_fallback, without = create_graph(alice_api, graph("switchable")), create_graph(alice_api, graph("lonely"))

    run, span = run_once(alice_api, with_fallback)
    assert run.status == "succeeded" and span.model == "openai/gpt-4o-mini" and calls(fake_openai, "gpt-4o-mini") == 1

    assert alice_api.patch("/api/models/switchable/", {"enabled": False}, format="json").status_code == 200
    run, span = run_once(alice_api, with_fallback)
    assert run.status == "succeeded" and span.model == "demo/fast"
    assert span.attributes["patchbay.fallback_from"] == ["switchable"]
    assert span.attributes["patchbay.fallback_reason"] == "disabled"
    assert calls(fake_openai, "gpt-4o-mini") == 1  # the switched-off model was not called

    assert alice_api.patch("/api/models/lonely/", {"enabled": False}, format="json").status_code == 200
    run, span = run_once(alice_api, without)
    assert run.status == "failed" and span.attributes["error.type"] == "model_disabled"
    assert span.error.startswith("model_disabled: model alias 'lonely' is switched off")
    assert calls(fake_openai, "gpt-4o") == 0


def test_five_500s_in_the_worker_trip_the_breaker_for_every_process(live_stack, fake_openai, alice,  # type: ignore[no-untyped-def]
                                                                    alice_api) -> None:
    import redis
    from django.conf import settings

    from backend.engine.ports import LLMError, LLMRequest
    from backend.providers.breaker import read_states
    from backend.providers.gateway import LiteLLMGateway, litellm_module
    from backend.providers.models import ModelAlias, ModelEvent
    from backend.providers.registry import resolve_route
    from tests.runs.live import create_graph

    name = "gpt-4o-mini+error_500:5"  # the fake answers 500 to its first 5 calls, then properly
    ModelAlias.objects.create(alias="wobbly", model=f"openai/{name}", api_base=fake_openai.url, api_key_env="PATH",
                              max_retries=0, timeout_s=5, breaker_cooldown_s=5)
    graph_id = create_graph(alice_api, graph("wobbly"))
    litellm_module()  # import litellm now (seconds), not inside the cooldown below
    client = redis.Redis.from_url(settings.REDIS_URL)

    for _ in range(5):
        run, span = run_once(alice_api, graph_id)
        assert run.status == "failed" and span.attributes["error.type"] == "provider"
    assert calls(fake_openai, name) == 5
    assert read_states(client, ["wobbly"])["wobbly"]["state"] == "open"  # seen from this process
    opened_until = read_states(client, ["wobbly"])["wobbly"]["until"]

    # During the cooldown: the worker's runs and this process's calls short-circuit; none reaches the fake.
    run, span = run_once(alice_api, graph_id)
    assert run.status == "failed" and span.attributes["error.type"] == "model_unavailable"
    with pytest.raises(LLMError) as info:
        asyncio.run(LiteLLMGateway(resolve_route).complete(LLMRequest("wobbly", [{"role": "user", "content": "hi"}])))
    assert info.value.kind == "model_unavailable"
    assert calls(fake_openai, name) == 5

    time.sleep(max(0.0, opened_until - time.time()) + 0.2)
    run, span = run_once(alice_api, graph_id)  # the worker's probe: the fake answers now
    assert run.status == "succeeded" and span.model == f"openai/{name}" and calls(fake_openai, name) == 6
    assert read_states(client, ["wobbly"])["wobbly"]["state"] == "closed"
    result = asyncio.run(LiteLLMGateway(resolve_route).complete(LLMRequest("wobbly", [{"role": "user", "content": "hi"}])))
    assert result.text and calls(fake_openai, name) == 7  # closed for this process too
    assert list(ModelEvent.objects.filter(alias="wobbly").order_by("at").values_list("kind", flat=True)) == [
        "tripped", "recovered"]

    health = {e["alias"]: e for e in alice_api.get("/api/model-health/").json()}["wobbly"]
    assert health["health"]["calls"] == 7 and health["health"]["failed"] == 6
    assert health["health"]["last_error"].startswith("model_unavailable")
    assert health["breaker_state"]["state"] == "closed" and [e["kind"] for e in health["events"]] == [
        "recovered", "tripped"]

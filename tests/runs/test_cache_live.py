"""The model cache through the live stack: API → Celery worker → engine → Redis cache → litellm →
bench/fake_openai.py over HTTP → PostgreSQL. Counts at the fake say whether a model was really called."""
from __future__ import annotations

import time
from typing import Any

import pytest

from bench.fake_openai import FakeConfig

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_fake(fake_openai: Any) -> None:
    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()


def deterministic_graph(alias: str, **step: Any) -> dict[str, Any]:
    return {
        "schema": "patchbay.graph/v1", "name": "cached", "inputs": {"type": "object"},
        "nodes": [
            {"id": "in", "type": "input"},
            {"id": "ask", "type": "llm", "config": {"model": alias, "prompt": "Greet {{ input.who }}",
                                                    "params": {"temperature": 0}, **step}},
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
        ],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
    }


def model_calls(fake_openai: Any) -> int:
    return sum(fake_openai.stats()["calls_by_model"].values())


def alias(fake_openai: Any, name: str, model: str = "openai/gpt-4o-mini") -> Any:
    from backend.providers.models import ModelAlias

    return ModelAlias.objects.create(alias=name, model=model, api_base=fake_openai.url, api_key_env="PATH",
                                     max_retries=0, timeout_s=10)


def test_a_repeated_deterministic_run_is_served_from_the_cache(live_stack, fake_openai, alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.runs.models import Span
    from tests.runs.live import create_graph, start_run, wait_finished

    alias(fake_openai, "cached-mini")
    graph = create_graph(alice_api, deterministic_graph("cached-mini"))
    first = wait_finished(start_run(alice_api, graph, {"who": "the team"}))
    assert first.status == "succeeded" and model_calls(fake_openai) == 1
    assert first.cost_usd > 0 and first.cache_hits == 0 and first.saved_usd == 0

    second = wait_finished(start_run(alice_api, graph, {"who": "the team"}))
    assert second.status == "succeeded" and second.output == first.output
    assert model_calls(fake_openai) == 1  # nothing reached the provider
    assert second.cache_hits == 1 and second.llm_calls == 0 and second.cost_usd == 0
    assert second.saved_usd == pytest.approx(first.cost_usd) and second.saved_ms > 0
    span = Span.objects.get(run=second, kind="llm")
    assert span.cache_hit and span.cost_usd == 0 and "patchbay.attempts" not in span.attributes
    assert span.attributes["patchbay.cache.saved_cost_usd"] == pytest.approx(first.cost_usd)
    body = alice_api.get(f"/api/runs/{second.pk}/").json()
    assert body["totals"]["cache_hits"] == 1 and body["totals"]["saved_usd"] == pytest.approx(first.cost_usd)
    assert body["totals"]["saved_ms"] == pytest.approx(second.saved_ms)


def test_remapping_the_alias_to_another_model_misses(live_stack, fake_openai, alice_api) -> None:  # type: ignore[no-untyped-def]
    from tests.runs.live import create_graph, start_run, wait_finished

    row = alias(fake_openai, "remapped")
    graph = create_graph(alice_api, deterministic_graph("remapped"))
    assert wait_finished(start_run(alice_api, graph, {"who": "x"})).status == "succeeded"
    row.model = "openai/gpt-4o"
    row.save()  # the registry's version moves on save: every worker resolves the alias again
    after = wait_finished(start_run(alice_api, graph, {"who": "x"}))
    assert after.status == "succeeded" and after.cache_hits == 0
    assert fake_openai.stats()["calls_by_model"] == {"gpt-4o-mini": 1, "gpt-4o": 1}


def test_a_fresh_run_calls_the_model_and_refreshes_the_cache(live_stack, fake_openai, alice_api) -> None:  # type: ignore[no-untyped-def]
    from tests.runs.live import create_graph, start_run, wait_finished

    alias(fake_openai, "freshened")
    graph = create_graph(alice_api, deterministic_graph("freshened"))
    wait_finished(start_run(alice_api, graph, {"who": "x"}))
    fresh = wait_finished(start_run(alice_api, graph, {"who": "x"}, fresh=True))
    assert fresh.status == "succeeded" and fresh.fresh and fresh.cache_hits == 0 and fresh.llm_calls == 1
    assert model_calls(fake_openai) == 2
    cached = wait_finished(start_run(alice_api, graph, {"who": "x"}))
    assert cached.cache_hits == 1 and model_calls(fake_openai) == 2


def test_past_its_ttl_an_answer_is_asked_again(live_stack, fake_openai, alice_api) -> None:  # type: ignore[no-untyped-def]
    from tests.runs.live import create_graph, start_run, wait_finished

    alias(fake_openai, "short-lived")
    graph = create_graph(alice_api, deterministic_graph("short-lived", cache_ttl_s=1))
    wait_finished(start_run(alice_api, graph, {"who": "x"}))
    assert wait_finished(start_run(alice_api, graph, {"who": "x"})).cache_hits == 1
    time.sleep(1.2)
    expired = wait_finished(start_run(alice_api, graph, {"who": "x"}))
    assert expired.cache_hits == 0 and model_calls(fake_openai) == 2


def test_fresh_must_be_a_boolean(alice_api) -> None:  # type: ignore[no-untyped-def]
    from tests.runs.live import create_graph

    graph = create_graph(alice_api, deterministic_graph("fast"))
    response = alice_api.post("/api/runs/", {"graph": graph, "input": {}, "fresh": "sometimes"}, format="json")
    assert response.status_code == 400 and "fresh" in str(response.json())

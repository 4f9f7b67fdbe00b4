"""A truncated stream inside a run: the engine with the real gateway, then the live stack
(API → Celery worker → engine → litellm → bench/fake_openai.py over HTTP → PostgreSQL → websocket)."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, Ports
from backend.providers.defaults import DEFAULT_ROUTES
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import ModelRoute
from bench.fake_openai import FakeConfig


@pytest.fixture(autouse=True)
def _fresh_fake(fake_openai: Any) -> None:
    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()


def streamed_graph(alias: str, **extra: Any) -> dict[str, Any]:
    return {
        "schema": "patchbay.graph/v1", "name": "truncated", "inputs": {"type": "object"},
        "nodes": [
            {"id": "in", "type": "input"},
            {"id": "ask", "type": "llm", "config": {"model": alias, "prompt": "Greet {{ input.who }}", "stream": True}},
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
        ],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
        **extra,
    }


def run_engine(doc: dict[str, Any], routes: dict[str, ModelRoute]) -> tuple[Any, list[dict[str, Any]]]:
    async def resolve(alias: str) -> ModelRoute:
        return routes[alias]

    assert validate_graph(doc) == []
    events = CollectingEvents()
    result = asyncio.run(execute_graph(parse_graph(doc), {"who": "the team"},
                                       ports=Ports(llm=LiteLLMGateway(resolve), events=events)))
    return result, events.events


def test_a_run_whose_stream_is_cut_short_fails_with_the_kind_on_its_span(fake_openai: Any) -> None:
    flaky = ModelRoute(alias="flaky", model="openai/gpt-4o-mini+truncated_stream", api_base=fake_openai.url,
                       api_key="k", max_retries=2, retry_backoff_s=0.01)
    result, events = run_engine(streamed_graph("flaky"), {"flaky": flaky})
    assert result.status == "failed" and "truncated_stream" in result.error
    span = next(s for s in result.spans if s.kind == "llm")
    assert span.status == "failed" and span.error.startswith("truncated_stream: ")
    assert span.attributes["error.type"] == "truncated_stream" and span.attributes["patchbay.attempts"] == 3
    assert len(span.attributes["patchbay.attempt_errors"]) == 3
    assert result.output is None  # the half sentence never became the run's output
    deltas = [e for e in events if e["type"] == "node.delta"]
    assert {e["attempt"] for e in deltas} == {1, 2, 3}  # live deltas say which attempt they belong to


def test_a_run_whose_stream_is_cut_short_succeeds_through_the_fallback(fake_openai: Any) -> None:
    flaky = ModelRoute(alias="flaky", model="openai/gpt-4o-mini+aborted_stream", api_base=fake_openai.url,
                       api_key="k", max_retries=1, retry_backoff_s=0.01, fallbacks=(DEFAULT_ROUTES["fast"],))
    result, events = run_engine(streamed_graph("flaky"), {"flaky": flaky})
    assert result.status == "succeeded" and result.output
    span = next(s for s in result.spans if s.kind == "llm")
    assert span.model == "demo/fast" and span.attributes["patchbay.fallback_from"] == ["flaky"]
    assert span.attributes["patchbay.attempts"] == 3
    assert [e.split(": ")[1] for e in span.attributes["patchbay.attempt_errors"]] == ["truncated_stream"] * 2
    final = "".join(e["text"] for e in events if e["type"] == "node.delta" and e["attempt"] == 3)
    assert final == result.output


def test_retries_stop_at_the_runs_max_seconds(fake_openai: Any) -> None:
    fake_openai.configure(hang_rate=1.0)
    slow = ModelRoute(alias="slow", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key="k",
                      max_retries=5, timeout_s=30, retry_backoff_s=0.01)
    started = time.monotonic()
    result, _ = run_engine(streamed_graph("slow", budget={"max_seconds": 1}), {"slow": slow})
    assert result.status in ("failed", "budget_exceeded")
    assert time.monotonic() - started < 1 + 3  # generous slack: the machine is shared


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_truncated_stream_through_the_live_stack(live_stack, fake_openai, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.providers.models import ModelAlias
    from backend.runs.models import Run, Span
    from tests.conftest import token_for
    from tests.runs.live import create_graph, read_events, start_run, wait_finished

    ModelAlias.objects.create(alias="cut", model="openai/gpt-4o-mini+truncated_stream", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=1, timeout_s=5)
    ModelAlias.objects.create(alias="cut-then-demo", model="openai/gpt-4o+truncated_stream",
                              api_base=fake_openai.url, api_key_env="PATH", max_retries=1, timeout_s=5,
                              fallbacks=["fast"])

    failed = wait_finished(start_run(alice_api, create_graph(alice_api, streamed_graph("cut")), {"who": "you"}))
    assert failed.status == "failed" and "truncated_stream" in failed.error
    span = Span.objects.get(run=failed, kind="llm")
    assert span.status == "failed" and span.error.startswith("truncated_stream: ")
    assert span.attributes["error.type"] == "truncated_stream" and span.attributes["patchbay.attempts"] == 2
    assert fake_openai.stats()["calls_by_model"]["gpt-4o-mini+truncated_stream"] == 2

    run_id = start_run(alice_api, create_graph(alice_api, streamed_graph("cut-then-demo")), {"who": "you"})
    events = asyncio.run(read_events(live_stack.ws_url, run_id, token_for(alice)))
    run = Run.objects.get(pk=run_id)
    assert run.status == "succeeded"
    span = Span.objects.get(run=run, kind="llm")
    assert span.model == "demo/fast" and span.attributes["patchbay.fallback_from"] == ["cut-then-demo"]
    assert span.attributes["patchbay.attempts"] == 3
    final = "".join(e["text"] for e in events if e["type"] == "node.delta" and e.get("attempt") == 3)
    assert final == run.output

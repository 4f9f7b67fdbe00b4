"""GET /api/model-health/: each alias's health from its spans, scoped to the caller's workspaces."""
from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

GRAPH = {"schema": "patchbay.graph/v1", "name": "one", "nodes": [
    {"id": "in", "type": "input"}, {"id": "ask", "type": "llm", "config": {"model": "fast", "prompt": "hi"}},
    {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}],
    "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}


def a_run(api: Any) -> Any:
    from backend.graphs.models import Graph
    from backend.runs.models import Run
    from tests.runs.live import create_graph

    graph = Graph.objects.get(pk=create_graph(api, GRAPH))
    return Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version, input={},
                              trace_id="b" * 32, status=Run.Status.SUCCEEDED)


def span(run: Any, n: int, alias: str, *, ms: float, cost: float = 0.0, error: str = "", ago_h: float = 1,
         **extra: Any) -> Any:
    from backend.runs.models import Span

    attributes = {"patchbay.model_alias": alias, **extra.pop("attributes", {})}
    return Span.objects.create(run=run, span_id=f"s{n}", kind="llm", name="llm", node_id="ask",
                        status="failed" if error else "succeeded", error=error, duration_ms=ms, cost_usd=cost,
                        started_at=timezone.now() - dt.timedelta(hours=ago_h), attributes=attributes, **extra)


def test_health_counts_calls_errors_latency_spend_and_the_last_error(alice_api, bob_api,  # type: ignore[no-untyped-def]
                                                                      django_assert_max_num_queries) -> None:
    run = a_run(alice_api)
    durations = [100.0, 200.0, 300.0, 400.0, 1000.0]
    spans = [span(run, i, "fast", ms=ms, cost=0.01, ago_h=i + 1) for i, ms in enumerate(durations)]
    span(run, 10, "fast", ms=50, error="provider: older failure", ago_h=3)
    span(run, 11, "fast", ms=60, error="timeout: newest failure", ago_h=0.5,
         attributes={"patchbay.fallback_from": ["fast"]})
    span(run, 12, "fast", ms=5, cost=0.5, ago_h=30)  # older than 24 h: not counted
    span(run, 13, "fast", ms=1, cache_hit=True)  # a cache hit made no call
    span(a_run(bob_api), 20, "fast", ms=9999, error="bob's secret failure")  # another workspace

    with django_assert_max_num_queries(8):  # session, catalogue, one aggregate, events: not one per alias
        response = alice_api.get("/api/model-health/")
    assert response.status_code == 200
    fast = {e["alias"]: e for e in response.json()}["fast"]
    health = fast["health"]
    assert health["calls"] == 7 and health["failed"] == 2 and health["fallbacks"] == 1
    assert health["error_rate"] == pytest.approx(2 / 7)
    every = sorted([*durations, 50, 60])
    assert health["p50_ms"] == pytest.approx(statistics.median(every))
    assert every[-2] < health["p95_ms"] <= every[-1]
    assert health["last_error"] == "timeout: newest failure" and "bob" not in str(fast)
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert health["spend_today_usd"] == pytest.approx(sum(s.cost_usd for s in spans if s.started_at >= midnight))
    assert fast["breaker_state"]["state"] in ("closed", "unknown") and fast["events"] == []


def test_staff_see_every_workspace_and_unused_aliases_read_zero(alice, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    span(a_run(bob_api), 1, "fast", ms=10, error="provider: down")
    assert {e["alias"]: e for e in alice_api.get("/api/model-health/").json()}["fast"]["health"]["calls"] == 0
    alice.is_staff = True
    alice.save()
    entries = {e["alias"]: e for e in alice_api.get("/api/model-health/").json()}
    assert entries["fast"]["health"]["calls"] == 1 and entries["fast"]["health"]["error_rate"] == 1.0
    assert entries["frontier"]["health"]["calls"] == 0 and entries["frontier"]["health"]["p95_ms"] is None


def test_breaker_settings_are_validated_and_shown(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    alice.is_staff = True
    alice.save()
    bad = alice_api.put("/api/models/mine/", {"model": "openai/gpt-4o-mini", "breaker_failures": -1,
                                              "timeout_s": 0}, format="json")
    assert bad.status_code == 400
    assert {p["path"] for p in bad.json()["problems"]} >= {"breaker_failures", "timeout_s"}
    ok = alice_api.put("/api/models/mine/", {"model": "openai/gpt-4o-mini", "breaker_failures": 3,
                                             "breaker_cooldown_s": 10, "api_key": "sk-never-shown"}, format="json")
    assert ok.status_code == 200 and ok.json()["breaker"] == {"failures": 3, "window_s": 60.0, "cooldown_s": 10.0}
    entry = {e["alias"]: e for e in alice_api.get("/api/model-health/").json()}["mine"]
    assert entry["has_api_key"] and "sk-never-shown" not in str(entry)
    off = alice_api.patch("/api/models/mine/", {"breaker_failures": 0}, format="json")
    assert off.json()["breaker"] is None

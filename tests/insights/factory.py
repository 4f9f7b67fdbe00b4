"""Crafted run histories for the insights tests: plain records, and the same records as Run/Span rows.

The one place tests build runs by hand. Step builders set exactly the attribute names the engine records
(backend.insights.records holds them; test_engine_attributes.py holds them to a real engine run).
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from backend.graphs.models import Graph
from backend.insights.models import RunLabel
from backend.insights.records import (
    EO_ITERATIONS,
    EO_VERDICT,
    GATE_PASSED,
    ORCH_WORKERS,
    ROUTER_ROUTE,
    VOTE_AGREEMENT,
    RunRecord,
    StepRecord,
)
from backend.runs.models import Run, Span

DAY0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def step(node_id: str, node_type: str, *, ms: float | None = 100.0, calls: dict[str, float] | None = None,
         status: str = "succeeded", **attributes: Any) -> StepRecord:
    costs = dict(calls or {})
    return StepRecord(node_id=node_id, node_type=node_type, status=status, duration_ms=ms,
                      cost_usd=sum(costs.values()), attributes=attributes, call_costs=costs)


def router(node_id: str, route: str, **kw: Any) -> StepRecord:
    return step(node_id, "router", **{ROUTER_ROUTE: route, "patchbay.router.default_taken": route == "default"}, **kw)


def vote(node_id: str, agreement: float, samples: int = 3, each: float = 0.001, **kw: Any) -> StepRecord:
    return step(node_id, "vote", calls={f"vote {i + 1}": each for i in range(samples)},
                **{VOTE_AGREEMENT: agreement}, **kw)


def loop(node_id: str, iterations: int, passed: bool, draft: float = 0.002, judge: float = 0.001,
         **kw: Any) -> StepRecord:
    # Call names as the engine's: each round's draft and evaluate spans (summed per name per run).
    return step(node_id, "evaluator_optimizer", calls={"draft": draft * iterations, "evaluate": judge * iterations},
                **{EO_ITERATIONS: iterations, EO_VERDICT: "passed" if passed else "max_iterations"}, **kw)


def orchestrator(node_id: str, workers: int, **kw: Any) -> StepRecord:
    return step(node_id, "orchestrator", **{ORCH_WORKERS: workers}, **kw)


def gate(node_id: str, passed: bool, **kw: Any) -> StepRecord:
    return step(node_id, "gate", **{GATE_PASSED: passed}, **kw)


def llm(node_id: str, cost: float, ms: float = 100.0) -> StepRecord:
    return step(node_id, "llm", ms=ms, calls={node_id: cost})


def run(*steps: StepRecord, day: int = 0, llm_calls: int | None = None, cache_hits: int = 0, fallbacks: int = 0,
        status: str = "succeeded", latency_ms: float | None = None) -> RunRecord:
    return RunRecord(run_id=str(uuid.uuid4()), created_at=DAY0 + dt.timedelta(days=day, minutes=len(steps)),
                     status=status, cost_usd=sum(s.cost_usd for s in steps), latency_ms=latency_ms,
                     llm_calls=sum(len(s.call_costs) for s in steps) if llm_calls is None else llm_calls,
                     cache_hits=cache_hits, fallbacks=fallbacks, steps=tuple(steps))


def save_runs(graph: Graph, records: Sequence[RunRecord]) -> list[Run]:
    """Write the records as Run rows, one node span per step and one model-call span per call (fallbacks: the
    first ones carry ``patchbay.fallback_from``; cache hits: extra zero-cost hit spans)."""
    saved = []
    for record in records:
        row = Run.objects.create(
            id=record.run_id, workspace_id=graph.workspace_id, graph=graph, graph_version=graph.latest_version,
            input={"message": "crafted"}, status=record.status, trace_id=uuid.uuid4().hex, cost_usd=record.cost_usd,
            latency_ms=record.latency_ms, llm_calls=record.llm_calls, cache_hits=record.cache_hits)
        Run.objects.filter(pk=row.pk).update(created_at=record.created_at)
        Span.objects.bulk_create(list(_spans(row, record)))
        saved.append(row)
    return saved


def _spans(row: Run, record: RunRecord) -> Iterable[Span]:
    fallbacks = record.fallbacks
    n = 0
    for s in record.steps:
        n += 1
        node_span = f"n{n:015d}"
        yield Span(run=row, span_id=node_span, node_id=s.node_id, kind="node", name=s.node_id,
                   node_type=s.node_type, status=s.status, started_at=record.created_at, duration_ms=s.duration_ms,
                   attributes=dict(s.attributes))
        for name, cost in s.call_costs.items():
            n += 1
            attributes: dict[str, Any] = {}
            if fallbacks:
                attributes["patchbay.fallback_from"] = ["frontier"]
                fallbacks -= 1
            yield Span(run=row, span_id=f"c{n:015d}", parent_id=node_span, node_id=s.node_id, kind="llm", name=name,
                       node_type=s.node_type, status="succeeded", started_at=record.created_at, cost_usd=cost,
                       attributes=attributes)
    for i in range(record.cache_hits):
        yield Span(run=row, span_id=f"h{i:015d}", node_id=record.steps[0].node_id if record.steps else "",
                   kind="llm", name="hit", status="succeeded", started_at=record.created_at, cache_hit=True)


def label_routes(runs: Sequence[RunRecord], node_id: str, routes: Sequence[str | None]) -> None:
    """A person's correct route for each run (None: not labelled)."""
    RunLabel.objects.bulk_create([RunLabel(run_id=r.run_id, node_id=node_id, route=route)
                                  for r, route in zip(runs, routes) if route is not None])

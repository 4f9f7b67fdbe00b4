"""Reads: a graph's recorded runs over a period as plain records, and people's labels on them.

Three queries whatever the number of runs: the runs, their top-level step spans, and their model calls summed
per run, step and call name in SQL. A subgraph's inner steps roll up into the subgraph step that ran them.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum

from backend.graphs.models import Graph
from backend.runs.models import Run, Span

from .models import RunLabel
from .records import RunRecord, StepRecord

MAX_RUNS = 5000  # the newest runs of the period; a dashboard over more reads a sample this size


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime


def period_runs(graph: Graph, period: Period) -> list[RunRecord]:
    """The graph's finished runs created in the period (newest ``MAX_RUNS``), oldest first.

    An eval's runs are left out: they test the flow (some with another prompt or model) and are not its traffic."""
    rows = list(Run.objects.filter(graph=graph, created_at__gte=period.since, created_at__lt=period.until,
                                   status__in=Run.FINISHED).exclude(source="eval")
                .order_by("-created_at")
                .values_list("id", "created_at", "status", "cost_usd", "latency_ms", "llm_calls", "cache_hits")
                [:MAX_RUNS])
    ids = [row[0] for row in rows]
    steps = _steps_by_run(ids)
    fallbacks = _fallbacks_by_run(ids)
    return [RunRecord(run_id=str(pk), created_at=created, status=status, cost_usd=cost, latency_ms=latency,
                      llm_calls=calls, cache_hits=hits, fallbacks=fallbacks.get(pk, 0), steps=tuple(steps.get(pk, ())))
            for pk, created, status, cost, latency, calls, hits in reversed(rows)]


def _top(node_id: str) -> str:
    return node_id.split("/", 1)[0]


def _steps_by_run(run_ids: list[Any]) -> dict[Any, list[StepRecord]]:
    calls: dict[tuple[Any, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for run_id, node_id, name, cost in (Span.objects.filter(run_id__in=run_ids, kind="llm")
                                        .values("run_id", "node_id", "name").annotate(cost=Sum("cost_usd"))
                                        .values_list("run_id", "node_id", "name", "cost")):
        # A subgraph's inner calls count for the subgraph step; their names keep the inner step's path.
        top = _top(node_id)
        calls[(run_id, top)][name if top == node_id else f"{node_id}: {name}"] += cost or 0.0
    steps: dict[Any, list[StepRecord]] = defaultdict(list)
    for run_id, node_id, node_type, status, duration, attributes in (
            Span.objects.filter(run_id__in=run_ids, kind="node").exclude(node_id__contains="/")
            .values_list("run_id", "node_id", "node_type", "status", "duration_ms", "attributes")):
        costs = dict(calls.get((run_id, node_id), {}))
        steps[run_id].append(StepRecord(node_id=node_id, node_type=node_type, status=status, duration_ms=duration,
                                        cost_usd=sum(costs.values()), attributes=attributes or {},
                                        call_costs=costs))
    return steps


def _fallbacks_by_run(run_ids: list[Any]) -> dict[Any, int]:
    answered_elsewhere = Q(attributes__has_key="patchbay.fallback_from") & Q(cache_hit=False)
    return dict(Span.objects.filter(run_id__in=run_ids, kind="llm").values("run_id")
                .annotate(n=Count("id", filter=answered_elsewhere)).values_list("run_id", "n"))


def true_routes(run_ids: Iterable[Any]) -> dict[tuple[str, str], str]:
    """(run id, node id) -> the route a person labelled correct, for the runs given."""
    return {(str(run_id), node_id): route for run_id, node_id, route in
            RunLabel.objects.filter(run_id__in=list(run_ids)).exclude(route="")
            .values_list("run_id", "node_id", "route")}


def true_route_of(run_id: Any, node_id: str) -> str | None:
    """The route a person says a run's router step should have taken (None: nobody said). For eval datasets."""
    return (RunLabel.objects.filter(run_id=run_id, node_id=node_id).exclude(route="")
            .values_list("route", flat=True).first())


def labels_of_run(run: Run) -> list[RunLabel]:
    return list(RunLabel.objects.filter(run=run).select_related("created_by", "updated_by"))

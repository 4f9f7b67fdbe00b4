"""Pattern metrics: pure functions over plain run records (records.py), one per question a pattern raises.

Every function takes the runs of one graph over a period and answers with plain dicts ready for the API.
A share or a percentile with nothing to measure is ``None`` ("no data"), never 0.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from .records import (
    DEFAULT_ROUTE,
    EO_CAPPED,
    EO_ITERATIONS,
    EO_VERDICT,
    GATE_PASSED,
    ORCH_WORKERS,
    ROUTER_ROUTE,
    VOTE_AGREEMENT,
    RunRecord,
    StepRecord,
    TrueRoutes,
)
from .stats import mean, percentile, share

UNANIMOUS = 0.9999  # agreement is recorded rounded to 4 places


def _steps(runs: Iterable[RunRecord], node_id: str) -> list[tuple[RunRecord, StepRecord]]:
    """The runs where the step ran to the end, with the step."""
    found = []
    for run in runs:
        step = run.step(node_id)
        if step is not None and step.status == "succeeded":
            found.append((run, step))
    return found


def router_confusion(runs: Sequence[RunRecord], node_id: str, routes: Sequence[str], truth: TrueRoutes
                     ) -> dict[str, Any]:
    """True route (a person's label) × chosen route, per-route precision and recall, and the default's share.

    Precision of r: of the labelled runs sent to r, the share whose true route is r. Recall of r: of the labelled
    runs whose true route is r, the share sent to r. The default's share counts every run, labelled or not.
    """
    names = [*routes, *([DEFAULT_ROUTE] if DEFAULT_ROUTE not in routes else [])]
    matrix: dict[str, Counter[str]] = {r: Counter() for r in names}
    routed = _steps(runs, node_id)
    chosen_all = Counter(str(step.attributes.get(ROUTER_ROUTE)) for _, step in routed)
    labelled = 0
    for run, step in routed:
        true = truth.get((run.run_id, node_id))
        if true is None:
            continue
        labelled += 1
        matrix.setdefault(true, Counter())[str(step.attributes.get(ROUTER_ROUTE))] += 1
    columns = list(dict.fromkeys([*names, *matrix, *(c for row in matrix.values() for c in row)]))
    per_route = []
    for route in columns:
        sent = sum(row[route] for row in matrix.values())
        actual = sum(matrix.get(route, Counter()).values())
        hit = matrix.get(route, Counter())[route]
        per_route.append({"route": route, "precision": share(hit, sent), "recall": share(hit, actual),
                          "labelled": actual, "chosen": chosen_all[route]})
    return {"node_id": node_id, "runs": len(routed), "labelled": labelled, "routes": columns,
            "matrix": [{"true": t, "counts": {c: matrix.get(t, Counter())[c] for c in columns}} for t in columns],
            "per_route": per_route, "default_share": share(chosen_all[DEFAULT_ROUTE], len(routed))}


def vote_agreement(runs: Sequence[RunRecord], node_id: str) -> dict[str, Any]:
    """Mean agreement and the share of unanimous votes, overall and per day (UTC)."""
    voted = [(run, float(step.attributes.get(VOTE_AGREEMENT, 0.0))) for run, step in _steps(runs, node_id)]
    by_day: dict[str, list[float]] = defaultdict(list)
    for run, agreement in voted:
        by_day[run.created_at.date().isoformat()].append(agreement)
    values = [a for _, a in voted]
    return {"node_id": node_id, "runs": len(voted), "mean_agreement": mean(values),
            "unanimous_share": share(sum(1 for a in values if a >= UNANIMOUS), len(values)),
            "series": [{"day": day, "runs": len(v), "mean_agreement": mean(v),
                        "unanimous_share": share(sum(1 for a in v if a >= UNANIMOUS), len(v))}
                       for day, v in sorted(by_day.items())]}


def loop_iterations(runs: Sequence[RunRecord], node_id: str, max_iterations: int) -> dict[str, Any]:
    """How many rounds an evaluator-optimizer took: histogram, passed at once, and ran out of rounds."""
    rounds = [(int(step.attributes.get(EO_ITERATIONS, 0)), step.attributes.get(EO_VERDICT))
              for _, step in _steps(runs, node_id)]
    counts = Counter(n for n, _ in rounds)
    return {"node_id": node_id, "runs": len(rounds), "max_iterations": max_iterations,
            "histogram": [{"iterations": n, "runs": counts[n]} for n in range(1, max(max_iterations, *counts, 1) + 1)],
            "first_pass_share": share(sum(1 for n, v in rounds if n == 1 and v == "passed"), len(rounds)),
            "cap_share": share(sum(1 for _, v in rounds if v == EO_CAPPED), len(rounds)),
            "mean_iterations": mean([float(n) for n, _ in rounds])}


def orchestrator_workers(runs: Sequence[RunRecord], node_id: str, max_workers: int) -> dict[str, Any]:
    """Workers per run against the cap."""
    workers = [int(step.attributes.get(ORCH_WORKERS, 0)) for _, step in _steps(runs, node_id)]
    counts = Counter(workers)
    return {"node_id": node_id, "runs": len(workers), "max_workers": max_workers, "mean_workers": mean(
        [float(w) for w in workers]), "at_cap_share": share(sum(1 for w in workers if w >= max_workers), len(workers)),
            "histogram": [{"workers": n, "runs": counts[n]} for n in range(0, max(max_workers, *counts, 0) + 1)]}


def gate_exits(runs: Sequence[RunRecord], node_id: str, downstream: Iterable[str]) -> dict[str, Any]:
    """How often the gate stopped a run, and what that saved.

    Saved cost is an estimate: each stopped run is taken to have saved what the steps after the gate cost, on
    average, on the runs the gate let through.
    """
    after = set(downstream)
    checked = _steps(runs, node_id)
    stopped = [run for run, step in checked if step.attributes.get(GATE_PASSED) is False]
    passed = [run for run, step in checked if step.attributes.get(GATE_PASSED) is True]
    downstream_cost = mean([sum(s.cost_usd for s in run.steps if s.node_id in after) for run in passed])
    return {"node_id": node_id, "runs": len(checked), "exits": len(stopped), "exit_rate": share(len(stopped),
                                                                                              len(checked)),
            "mean_downstream_cost_usd": downstream_cost,
            "saved_usd": None if downstream_cost is None else downstream_cost * len(stopped)}


def node_latency(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """Per step: latency p50/p95 and its share of the period's model cost (which step stacks time or money)."""
    durations: dict[str, list[float]] = defaultdict(list)
    costs: dict[str, float] = defaultdict(float)
    types: dict[str, str] = {}
    for run in runs:
        for step in run.steps:
            types[step.node_id] = step.node_type
            costs[step.node_id] += step.cost_usd
            if step.duration_ms is not None:
                durations[step.node_id].append(step.duration_ms)
    total = sum(costs.values())
    return [{"node_id": node, "node_type": types[node], "runs": len(durations[node]),
             "p50_ms": percentile(durations[node], 50), "p95_ms": percentile(durations[node], 95),
             "cost_usd": costs[node], "cost_share": share(costs[node], total)} for node in sorted(types)]


def cost_per_run(runs: Sequence[RunRecord], bins: int = 10) -> dict[str, Any]:
    """The distribution of run cost: percentiles and an equal-width histogram."""
    costs = [run.cost_usd for run in runs]
    histogram: list[dict[str, Any]] = []
    if costs:
        low, high = min(costs), max(costs)
        width = (high - low) / bins or 1.0
        counts = Counter(min(int((c - low) / width), bins - 1) for c in costs)
        histogram = [{"from_usd": low + i * width, "to_usd": low + (i + 1) * width, "runs": counts[i]}
                     for i in range(bins if high > low else 1)]
    return {"runs": len(costs), "mean_usd": mean(costs), "p50_usd": percentile(costs, 50),
            "p95_usd": percentile(costs, 95), "total_usd": sum(costs), "histogram": histogram}


def call_rates(runs: Sequence[RunRecord]) -> dict[str, Any]:
    """Of the model calls asked for: the share the cache answered; of those that went out, the share another
    alias answered (a fallback: the requested one was switched off, its circuit open, or it failed)."""
    calls = sum(run.llm_calls for run in runs)
    hits = sum(run.cache_hits for run in runs)
    return {"llm_calls": calls, "cache_hits": hits, "fallbacks": sum(run.fallbacks for run in runs),
            "fallback_rate": share(sum(run.fallbacks for run in runs), calls),
            "cache_hit_rate": share(hits, calls + hits)}

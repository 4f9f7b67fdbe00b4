"""The advisor's evidence that a cheaper model answers a router's route as well: from held-out evals.

For a graph with a router, every finished eval on a held-out dataset whose candidate swapped the model of a
step that only one route leads to (``candidates.py``) is set against the baseline eval of the same dataset and
graph version: no candidate, the same scorers. Both are counted on the items whose baseline run took the route
(paired by dataset item), since the other routes' answers do not change and would only dilute the difference.

"Answers as well" is decided by the advisor with the eval gate's rule (a pass-rate drop of at most the graph's
eval-policy threshold), not by overlapping confidence intervals: on the 20-50 items a route gets in a
held-out set, a 95 % interval spans ±15-20 points and would call a clearly worse model "as good", while the
gate's rule is the one the switch must pass anyway when the changed graph is published. Both evals run the
same items, so the difference of the two rates is far less noisy than two independent intervals suggest.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Sum

from backend.graphs.models import Graph
from backend.insights.advisor import CHEAPER_ALIAS_TOLERANCE, RouteEvalEvidence
from backend.insights.graph_shape import steps_on_routes
from backend.runs.models import Span

from .datasets import routes_of
from .models import EvalItem, EvalPolicy, EvalRun

RECENT_SWAPS = 50  # the newest model-swap evals read per graph


def _items(eval_run: EvalRun) -> dict[int, tuple[Any, bool]]:
    """Dataset item id → (run id, passed) for the eval's scored items."""
    return {item_id: (run_id, bool(passed)) for item_id, run_id, passed in
            EvalItem.objects.filter(eval_run=eval_run, scored=True, item__isnull=False)
            .values_list("item_id", "run_id", "passed")}


def _step_costs(run_ids: list[Any], step_id: str) -> dict[Any, float]:
    return dict(Span.objects.filter(run_id__in=run_ids, kind="llm", node_id=step_id).values("run_id")
                .annotate(cost=Sum("cost_usd")).values_list("run_id", "cost"))


def _baseline(swap: EvalRun) -> EvalRun | None:
    """The newest finished eval of the same version and dataset with no candidate and the same scorers."""
    for found in (EvalRun.objects.filter(graph_id=swap.graph_id, graph_version_id=swap.graph_version_id,
                                         dataset_id=swap.dataset_id, candidate={}, status=EvalRun.Status.SUCCEEDED)
                  .order_by("-finished_at")[:10]):
        if found.scorers == swap.scorers:
            return found
    return None


def compare_on_route(baseline: EvalRun, swap: EvalRun, router_id: str, route: str, step_id: str,
                     tolerance: float) -> RouteEvalEvidence | None:
    """The two evals on the items whose baseline run took ``route``; None when no item did."""
    base_items, swap_items = _items(baseline), _items(swap)
    routes = routes_of([run_id for run_id, _ in base_items.values()])
    paired = [(base_items[i], swap_items[i]) for i in base_items
              if i in swap_items and routes[base_items[i][0]].get(router_id) == route]
    if not paired:
        return None
    base_costs = _step_costs([b[0] for b, _ in paired], step_id)
    swap_costs = _step_costs([s[0] for _, s in paired], step_id)
    n = len(paired)
    return RouteEvalEvidence(
        node_id=router_id, route=route, alias=str(swap.candidate.get("was", "")),
        cheaper_alias=str(swap.candidate["model"]), items=n,
        pass_rate=sum(1 for b, _ in paired if b[1]) / n, cheaper_pass_rate=sum(1 for _, s in paired if s[1]) / n,
        cost_per_item_usd=sum(base_costs.get(b[0]) or 0.0 for b, _ in paired) / n,
        cheaper_cost_per_item_usd=sum(swap_costs.get(s[0]) or 0.0 for _, s in paired) / n,
        dataset=swap.dataset.name, step_id=step_id, tolerance=tolerance)


def route_model_evidence(graph: Graph) -> list[RouteEvalEvidence]:
    """Evidence for each (route step, other model) the graph's newest held-out evals tried, newest eval first.

    Only steps that still name the model the eval replaced count: once the graph switched, the advice is moot."""
    latest = graph.latest_version
    if latest is None:
        return []
    on_route = steps_on_routes(latest.spec)
    if not on_route:
        return []
    models_now: Mapping[str, Any] = {n["id"]: (n.get("config") or {}).get("model")
                                     for n in latest.spec.get("nodes", [])}
    policy = EvalPolicy.objects.filter(graph=graph).first()
    tolerance = policy.threshold if policy is not None else CHEAPER_ALIAS_TOLERANCE
    swaps = (EvalRun.objects.filter(graph=graph, status=EvalRun.Status.SUCCEEDED, dataset__held_out=True,
                                    candidate__has_key="model").select_related("dataset")
             .order_by("-finished_at")[:RECENT_SWAPS])
    found, seen = [], set()
    for swap in swaps:
        step, model = swap.candidate.get("node"), swap.candidate.get("model")
        if step not in on_route or (step, model) in seen or models_now.get(step) != swap.candidate.get("was"):
            continue
        baseline = _baseline(swap)
        if baseline is None:
            continue
        router_id, route = on_route[step]
        evidence = compare_on_route(baseline, swap, router_id, route, step, tolerance)
        if evidence is not None:
            seen.add((step, model))
            found.append(evidence)
    return found

"""One graph's dashboard: every pattern step's metrics, the per-step and per-run numbers, and the advice."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import metrics
from .advisor import AdvisorInput, RouteEvalEvidence, advise
from .graph_shape import downstream_of, pattern_nodes, router_routes, setting
from .records import RunRecord, TrueRoutes


def pattern_metrics(spec: Mapping[str, Any], runs: Sequence[RunRecord], truth: TrueRoutes) -> dict[str, list]:
    found: dict[str, list] = {"routers": [], "votes": [], "loops": [], "orchestrators": [], "gates": []}
    for node in pattern_nodes(spec):
        kind, node_id = node["type"], node["id"]
        if kind == "router":
            found["routers"].append(metrics.router_confusion(runs, node_id, router_routes(node), truth))
        elif kind == "vote":
            found["votes"].append({**metrics.vote_agreement(runs, node_id), "samples": setting(node, "samples")})
        elif kind == "evaluator_optimizer":
            found["loops"].append(metrics.loop_iterations(runs, node_id, int(setting(node, "max_iterations"))))
        elif kind == "orchestrator":
            found["orchestrators"].append(metrics.orchestrator_workers(runs, node_id, int(setting(node, "max_workers"))))
        else:
            found["gates"].append(metrics.gate_exits(runs, node_id, downstream_of(spec, node_id)))
    return found


def dashboard(spec: Mapping[str, Any], runs: Sequence[RunRecord], truth: TrueRoutes,
              route_evals: Sequence[RouteEvalEvidence] = ()) -> dict[str, Any]:
    return {"runs": len(runs), "patterns": pattern_metrics(spec, runs, truth), "steps": metrics.node_latency(runs),
            "cost": metrics.cost_per_run(runs), "calls": metrics.call_rates(runs),
            "findings": [f.to_dict() for f in advise(AdvisorInput(spec=spec, runs=runs, route_evals=route_evals))]}

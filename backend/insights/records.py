"""Plain records of recorded runs: what the metrics and the advisor read (no Django, no ORM rows).

The selectors (selectors.py) build them from Run and Span rows; tests build them by hand.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The attributes the engine records on a pattern step's node span (backend/engine/nodes/*); one name each.
ROUTER_ROUTE = "patchbay.router.route"
ROUTER_LABEL = "patchbay.router.label"
ROUTER_CONFIDENCE = "patchbay.router.confidence"
ROUTER_DEFAULT_TAKEN = "patchbay.router.default_taken"
VOTE_AGREEMENT = "patchbay.vote.agreement"
VOTE_SAMPLES = "patchbay.vote.samples"
EO_ITERATIONS = "patchbay.eo.iterations"
EO_VERDICT = "patchbay.eo.verdict"
EO_CAPPED = "max_iterations"  # the verdict of a loop that ran out of iterations without passing
ORCH_WORKERS = "patchbay.orchestrator.workers"
ORCH_PLANNED = "patchbay.orchestrator.planned"
GATE_PASSED = "patchbay.gate.passed"
DEFAULT_ROUTE = "default"  # engine.nodes.router.DEFAULT_ROUTE, restated so this module stays import-light


@dataclass(frozen=True)
class StepRecord:
    """One step (node span) of a run, with what its model calls cost, by call name ("draft", "vote 1"...)."""

    node_id: str
    node_type: str
    status: str = "succeeded"
    duration_ms: float | None = None
    cost_usd: float = 0.0
    attributes: Mapping[str, Any] = field(default_factory=dict)
    call_costs: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    created_at: datetime
    status: str = "succeeded"
    cost_usd: float = 0.0
    latency_ms: float | None = None
    llm_calls: int = 0  # calls that went to a model (cache hits not included, as in Run.llm_calls)
    cache_hits: int = 0
    fallbacks: int = 0  # model calls another alias answered (the requested one was off, open or failing)
    steps: tuple[StepRecord, ...] = ()

    def step(self, node_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.node_id == node_id), None)


# (run id, node id) -> the route a person says was right.
TrueRoutes = Mapping[tuple[str, str], str]

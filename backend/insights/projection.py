"""Cost projection: dry-run a list of inputs through a graph on demo answers priced as the real aliases.

Nothing reaches a provider: the engine runs for real (same spec, prompts, subgraphs and budget) with the
projection port (projection_port.py) on a virtual-time loop, so a thousand "slow" calls take milliseconds
and the latency is what the aliases' pace makes it. The result says what 1,000 such runs would cost and take.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.config.errors import InvalidRequest
from backend.config.sizes import input_too_large
from backend.engine import execute_graph, parse_graph
from backend.engine.ports import Ports
from backend.evals.models import Dataset, DatasetItem
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph
from backend.graphs.selectors import dependencies
from backend.providers.defaults import DEFAULT_ROUTES
from backend.providers.demo_provider import DemoPace
from backend.providers.gateway import priced_answer
from backend.providers.registry import known_aliases, route_for
from backend.runs.models import Run

from .models import Projection
from .projection_port import ProjectionLLM
from .stats import mean, percentile, share
from .virtual_time import run_virtual

log = logging.getLogger(__name__)

MAX_INPUTS = 500
DEFAULT_RECENT = 50


def _inputs_problem(inputs: Any) -> dict[str, str] | None:
    if not isinstance(inputs, list) or not inputs:
        return {"path": "inputs", "message": "expected a list of one or more inputs"}
    if len(inputs) > MAX_INPUTS:
        return {"path": "inputs", "message": f"at most {MAX_INPUTS} inputs"}
    for i, value in enumerate(inputs):
        if input_too_large(value):
            return {"path": f"inputs[{i}]", "message": "this input is larger than a run accepts"}
    return None


def recent_inputs(graph: Graph, count: int) -> list[Any]:
    """The inputs of the graph's newest runs (not replays), newest first."""
    return list(Run.objects.filter(graph=graph).exclude(source="replay").order_by("-created_at")
                .values_list("input", flat=True)[:count])


def dataset_inputs(user: Any, graph: Graph, dataset: Any) -> list[Any]:
    """The inputs of a dataset's items (the first ``MAX_INPUTS``, in the dataset's order): a dataset the user can
    read, in the graph's workspace. Any other dataset is a 400 on ``dataset``, never a hint that it exists."""
    unknown = InvalidRequest("Bad projection.", [{"path": "dataset", "message": "no such dataset in this flow's "
                                                  "workspace"}])
    if isinstance(dataset, bool) or not isinstance(dataset, int):
        raise InvalidRequest("Bad projection.", [{"path": "dataset", "message": "expected a dataset id"}])
    found = (Dataset.objects.filter(pk=dataset, workspace_id=graph.workspace_id, workspace__membership__user=user)
             .first())
    if found is None:
        raise unknown
    inputs = list(DatasetItem.objects.filter(dataset=found).order_by("id").values_list("input", flat=True)[:MAX_INPUTS])
    if not inputs:
        raise InvalidRequest("Nothing to project.", [{"path": "dataset", "message": f"“{found.name}” has no items "
                                                      "yet"}])
    return inputs


def projection_start(*, user: Any, graph: Graph, inputs: Any = None, recent: Any = None,
                     dataset: Any = None) -> Projection:
    """Queue a dry run of ``inputs`` (or of a dataset's items' inputs, or of the inputs of the ``recent`` newest
    runs) on the latest version."""
    require(user, graph.workspace_id, Action.RUN_START)
    source = "posted"
    if inputs is None and dataset is not None:
        inputs, source = dataset_inputs(user, graph, dataset), "dataset"
    if inputs is None:
        if recent is None:
            recent = DEFAULT_RECENT
        if isinstance(recent, bool) or not isinstance(recent, int) or not 1 <= recent <= MAX_INPUTS:
            raise InvalidRequest("Bad projection.", [{"path": "recent", "message": f"a whole number, 1-{MAX_INPUTS}"}])
        inputs, source = recent_inputs(graph, recent), "recent_runs"
        if not inputs:
            raise InvalidRequest("Nothing to project.", [{"path": "inputs", "message": "the graph has no runs "
                                                          "yet: post a list of inputs"}])
    if graph.latest_version is None:
        raise InvalidRequest("Nothing to project.", [{"path": "graph", "message": "the graph has no saved version"}])
    problem = _inputs_problem(inputs)
    if problem:
        raise InvalidRequest("Bad projection.", [problem])
    projection = Projection.objects.create(graph=graph, graph_version=graph.latest_version, inputs=inputs,
                                           source=source, created_by=user)
    from .tasks import project_costs

    transaction.on_commit(lambda: project_costs.delay(projection.pk))
    return projection


def priced_routes() -> tuple[dict[str, Any], dict[str, DemoPace]]:
    """Every alias's route (its price) and its pace, read once per projection."""
    routes = {alias: route_for(alias) for alias in known_aliases()}
    paces = {}
    for alias, route in routes.items():
        # A real model's alias keeps the pace of the built-in demo alias of its name (its own when it is a demo).
        paced = route if route.demo_latency_ms or alias not in DEFAULT_ROUTES else DEFAULT_ROUTES[alias]
        paces[alias] = DemoPace(first_token_s=paced.demo_latency_ms / 1000, tokens_per_s=paced.demo_tokens_per_s)
    return routes, paces


def dry_run(spec: dict[str, Any], inputs: Sequence[Any], deps: Any) -> list[dict[str, Any]]:
    """Each input through the engine on the projection port: status, cost, latency and cost per step."""
    routes, paces = priced_routes()
    llm = ProjectionLLM(routes, priced_answer, paces)
    graph = parse_graph(spec)
    outcomes = []
    for value in inputs:
        result = run_virtual(lambda clock, value=value: execute_graph(
            graph, value, ports=Ports(llm=llm, clock=clock), prompts=deps.prompts, subgraphs=deps.subgraphs))
        steps: Counter[str] = Counter()
        for span in result.spans:
            if span.kind == "llm":
                steps[(span.node_id or "").split("/", 1)[0]] += span.cost_usd
        outcomes.append({"status": result.status, "error": result.error, "cost_usd": result.totals["cost_usd"],
                         "latency_ms": result.totals["duration_ms"], "llm_calls": result.totals["llm_calls"],
                         "steps": dict(steps)})
    return outcomes


def summarize(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What 1,000 runs like these would cost and take."""
    costs = [o["cost_usd"] for o in outcomes]
    latencies = [o["latency_ms"] for o in outcomes]
    steps: Counter[str] = Counter()
    for o in outcomes:
        steps.update(o["steps"])
    total = sum(steps.values())
    failed = [o for o in outcomes if o["status"] != "succeeded"]
    mean_cost = mean(costs) or 0.0
    return {"runs": len(outcomes), "failed": len(failed), "first_error": failed[0]["error"] if failed else None,
            "mean_cost_usd": mean_cost, "cost_per_1000_runs_usd": mean_cost * 1000,
            "p50_latency_ms": percentile(latencies, 50), "p95_latency_ms": percentile(latencies, 95),
            "mean_llm_calls": mean([float(o["llm_calls"]) for o in outcomes]),
            "run_hours_per_1000_runs": (mean(latencies) or 0.0) * 1000 / 3_600_000,
            "steps": [{"node_id": node, "cost_usd_per_run": cost / len(outcomes), "cost_share": share(cost, total)}
                      for node, cost in steps.most_common()]}


def projection_execute(projection_id: int) -> None:
    """The Celery task's work: run the projection once (a second delivery finds it started and does nothing)."""
    claimed = Projection.objects.filter(pk=projection_id, status=Projection.Status.QUEUED).update(
        status=Projection.Status.RUNNING)
    if not claimed:
        return
    projection = Projection.objects.select_related("graph_version", "graph__workspace").get(pk=projection_id)
    spec = projection.graph_version.spec
    try:
        outcomes = dry_run(spec, projection.inputs, dependencies(projection.graph.workspace, spec))
        projection.result, projection.status = summarize(outcomes), Projection.Status.SUCCEEDED
    except Exception as exc:  # a bug, not a graph's doing (the engine ends runs itself): say so, never hang
        log.exception("projection %s failed", projection_id)
        projection.status, projection.error = Projection.Status.FAILED, f"internal error: {type(exc).__name__}"
    projection.finished_at = timezone.now()
    projection.save(update_fields=["status", "result", "error", "finished_at"])

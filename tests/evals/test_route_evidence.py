"""The cheaper-model evidence the evals app gives the advisor, read from crafted eval history (no worker: the eval
runs, their items and their runs' spans are written as the live stack writes them)."""
from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from backend.evals.models import Dataset, DatasetItem, EvalItem, EvalPolicy, EvalRun
from backend.evals.route_evidence import route_model_evidence
from backend.graphs.models import Graph, Workspace
from backend.graphs.services import graph_create, graph_save_version
from backend.insights.graph_shape import steps_on_routes
from tests.insights.factory import llm, router, run, save_runs

from .test_model_swap_live import SCORERS, SPEC

pytestmark = pytest.mark.django_db

SWAP = {"node": "fix", "model": "cheap", "was": "dear"}


@pytest.fixture
def graph(alice: Any) -> Graph:
    from backend.providers.models import ModelAlias

    for alias in ("dear", "cheap"):  # the live test's aliases (rolled back with the test)
        ModelAlias.objects.create(alias=alias, model=f"demo/{alias}")
    return graph_create(workspace=Workspace.objects.get(membership__user=alice), user=alice, spec=SPEC)


def dataset_of(graph: Graph, *, held_out: bool = True, size: int = 25) -> Dataset:
    dataset = Dataset.objects.create(workspace=graph.workspace, name=f"set {Dataset.objects.count()}",
                                     held_out=held_out)
    DatasetItem.objects.bulk_create([DatasetItem(dataset=dataset, input={"q": str(n)}) for n in range(size)])
    return dataset


def eval_of(graph: Graph, dataset: Dataset, *, candidate: dict[str, Any], passed: list[bool], routes: list[str],
            step_cost: float, scorers: list[dict[str, Any]] = SCORERS) -> EvalRun:
    """A finished eval: one run per item, taking ``routes[n]``; the step on it costs ``step_cost``."""
    items = list(dataset.items.all())
    runs = save_runs(graph, [run(router("triage", route), *([llm("fix", step_cost)] if route == "technical" else []))
                             for route in routes])
    eval_run = EvalRun.objects.create(workspace=graph.workspace, dataset=dataset, graph=graph,
                                      graph_version=graph.latest_version, candidate=candidate, scorers=scorers,
                                      status=EvalRun.Status.SUCCEEDED, total=len(runs), done=len(runs),
                                      finished_at=timezone.now())
    EvalItem.objects.bulk_create([EvalItem(eval_run=eval_run, item=item, position=n, run=r, scored=True, passed=p)
                                  for n, (item, r, p) in enumerate(zip(items, runs, passed, strict=True))])
    return eval_run


ROUTES = ["technical"] * 20 + ["default"] * 5


def test_a_swap_eval_against_its_baseline_is_counted_on_the_route_items_only(graph: Graph) -> None:
    held_out = dataset_of(graph)
    EvalPolicy.objects.create(graph=graph, threshold=0.1).datasets.add(held_out)
    # Baseline: 18 of 20 technical items pass, all 5 others. The swap: 17 of 20, and it fails the others too
    # (they do not count: the swap changed nothing on their route).
    eval_of(graph, held_out, candidate={}, passed=[True] * 18 + [False] * 2 + [True] * 5, routes=ROUTES,
            step_cost=0.01)
    eval_of(graph, held_out, candidate=SWAP, passed=[True] * 17 + [False] * 3 + [False] * 5, routes=ROUTES,
            step_cost=0.002)
    [evidence] = route_model_evidence(graph)
    assert (evidence.node_id, evidence.route, evidence.step_id) == ("triage", "technical", "fix")
    assert (evidence.alias, evidence.cheaper_alias, evidence.items) == ("dear", "cheap", 20)
    assert (evidence.pass_rate, evidence.cheaper_pass_rate) == (0.9, 0.85)
    assert evidence.cost_per_item_usd == pytest.approx(0.01)
    assert evidence.cheaper_cost_per_item_usd == pytest.approx(0.002)
    assert evidence.tolerance == 0.1 and evidence.dataset == held_out.name


def test_no_evidence_without_a_held_out_set_a_like_baseline_or_when_the_step_moved_on(graph: Graph) -> None:
    passed = [True] * 25
    assert route_model_evidence(graph) == [], "no eval at all"
    open_set = dataset_of(graph, held_out=False)
    eval_of(graph, open_set, candidate={}, passed=passed, routes=ROUTES, step_cost=0.01)
    eval_of(graph, open_set, candidate=SWAP, passed=passed, routes=ROUTES, step_cost=0.002)
    assert route_model_evidence(graph) == [], "a set that is not held out proves nothing"

    held_out = dataset_of(graph)
    eval_of(graph, held_out, candidate=SWAP, passed=passed, routes=ROUTES, step_cost=0.002)
    assert route_model_evidence(graph) == [], "no baseline eval"
    eval_of(graph, held_out, candidate={}, passed=passed, routes=ROUTES, step_cost=0.01,
            scorers=[{"type": "exact", "name": "exact"}])
    assert route_model_evidence(graph) == [], "a baseline with other scorers is not the same test"
    eval_of(graph, held_out, candidate={}, passed=passed, routes=ROUTES, step_cost=0.01)
    assert len(route_model_evidence(graph)) == 1

    moved = {**SPEC, "nodes": [{**n, "config": {**n["config"], "model": "judge"}} if n["id"] == "fix" else n
                               for n in SPEC["nodes"]]}
    graph_save_version(graph=graph, user=graph.created_by, spec=moved)
    graph.refresh_from_db()
    assert route_model_evidence(graph) == [], "the step no longer uses the model the eval replaced"


def test_only_steps_one_route_leads_to_belong_to_it() -> None:
    spec = {"nodes": [{"id": "r", "type": "router"}, {"id": "a", "type": "llm"}, {"id": "a2", "type": "llm"},
                      {"id": "b", "type": "transform"}, {"id": "join", "type": "llm"}],
            "edges": [{"from": "r", "port": "x", "to": "a"}, {"from": "a", "to": "a2"}, {"from": "a2", "to": "join"},
                      {"from": "r", "port": "default", "to": "b"}, {"from": "b", "to": "join"}]}
    assert steps_on_routes(spec) == {"a": ("r", "x"), "a2": ("r", "x")}

"""Writes on datasets: create, change, fill (from a run's trace, a file, live endpoint traffic), empty."""
from __future__ import annotations

import random
from typing import Any

from django.db import IntegrityError, transaction

from backend.config.errors import InvalidRequest
from backend.config.sizes import input_too_large, max_input_bytes
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, Workspace
from backend.runs.models import Run, Span

from .models import Dataset, DatasetItem, SamplingRule
from .transfer import read_items


def _unique_name(workspace: Workspace, name: str, exclude: int | None = None) -> None:
    found = Dataset.objects.filter(workspace=workspace, name=name)
    taken = (found.exclude(pk=exclude) if exclude is not None else found).exists()
    if taken:
        raise InvalidRequest("That name is taken.", [{"path": "name", "message": f"a dataset named '{name}' exists"}])


def dataset_create(*, user: Any, workspace: Workspace, name: str, description: str = "",
                   held_out: bool = False) -> Dataset:
    require(user, workspace, Action.DATASET_CHANGE)
    _unique_name(workspace, name)
    try:
        with transaction.atomic():
            return Dataset.objects.create(workspace=workspace, name=name, description=description, held_out=held_out,
                                          created_by=user)
    except IntegrityError:  # a concurrent create with the same name
        _unique_name(workspace, name)
        raise


def dataset_update(*, user: Any, dataset: Dataset, **changes: Any) -> Dataset:
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    if "name" in changes:
        _unique_name(dataset.workspace, changes["name"], exclude=dataset.pk)
    for key in ("name", "description", "held_out"):
        if key in changes:
            setattr(dataset, key, changes[key])
    dataset.save()
    return dataset


def dataset_delete(*, user: Any, dataset: Dataset) -> None:
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    dataset.delete()


def routes_of(run_ids: list[Any]) -> dict[Any, dict[str, str]]:
    """Per run: router node id → the route it chose (from its spans), in one query for many runs."""
    found: dict[Any, dict[str, str]] = {run_id: {} for run_id in run_ids}
    rows = Span.objects.filter(run_id__in=run_ids, kind="node", node_type="router").values_list(
        "run_id", "node_id", "attributes")
    for run_id, node, attrs in rows:
        if isinstance(attrs, dict) and attrs.get("patchbay.router.route") is not None:
            found[run_id][node] = attrs["patchbay.router.route"]
    return found


def chosen_routes(run_id: Any) -> dict[str, str]:
    """Router node id → the route it chose in this run."""
    return routes_of([run_id])[run_id]


def item_from_run(dataset: Dataset, run: Run) -> DatasetItem:
    """The run's input; its output as the expected answer; the route its router chose as the route label."""
    routes = chosen_routes(run.pk)
    labels = {"route": next(iter(routes.values()))} if len(routes) == 1 else {}
    expected = run.output if run.status == Run.Status.SUCCEEDED else None
    return DatasetItem.objects.create(dataset=dataset, input=run.input, expected=expected, labels=labels,
                                      source_run=run)


def dataset_add_run(*, user: Any, dataset: Dataset, run: Run) -> DatasetItem:
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    if run.workspace_id != dataset.workspace_id:
        raise InvalidRequest("The run is not in the dataset's workspace.",
                             [{"path": "run", "message": "pick a run of the same workspace"}])
    if not run.is_finished:
        raise InvalidRequest("The run has not finished.", [{"path": "run", "message": f"run {run.pk} is {run.status}"}])
    return item_from_run(dataset, run)


def dataset_add_item(*, user: Any, dataset: Dataset, input: Any, expected: Any = None,
                     labels: dict[str, Any] | None = None) -> DatasetItem:
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    if input_too_large(input) is not None:
        raise InvalidRequest("The input is too large.", [{"path": "input", "message": f"at most {max_input_bytes()} bytes"}])
    return DatasetItem.objects.create(dataset=dataset, input=input, expected=expected, labels=labels or {})


def dataset_item_delete(*, user: Any, dataset: Dataset, item_id: int) -> None:
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    DatasetItem.objects.filter(dataset=dataset, pk=item_id).delete()


def dataset_import(*, user: Any, dataset: Dataset, text: str, fmt: str) -> int:
    """Add every item of a JSONL or CSV file, or none: a bad row is a 400 naming its line and field."""
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    items, problems = read_items(text, fmt)
    for n, item in enumerate(items):
        if input_too_large(item.input) is not None:
            problems.append({"path": f"item {n + 1}.input", "message": f"at most {max_input_bytes()} bytes"})
    if problems:
        raise InvalidRequest("The file has problems; nothing was imported.", problems)
    DatasetItem.objects.bulk_create([DatasetItem(dataset=dataset, input=i.input, expected=i.expected,
                                                 labels=dict(i.labels)) for i in items])
    return len(items)


def sampling_set(*, user: Any, dataset: Dataset, graph: Graph, rate: float) -> SamplingRule | None:
    """Sample ``rate`` (0..1] of the graph's endpoint runs into the dataset; 0 stops sampling."""
    require(user, dataset.workspace_id, Action.DATASET_CHANGE)
    if graph.workspace_id != dataset.workspace_id:
        raise InvalidRequest("The graph is not in the dataset's workspace.", [{"path": "graph", "message": "no such graph"}])
    if not 0 <= rate <= 1:
        raise InvalidRequest("Bad rate.", [{"path": "rate", "message": "a share from 0 to 1 (0.1 = one run in ten)"}])
    if rate == 0:
        SamplingRule.objects.filter(dataset=dataset, graph=graph).delete()
        return None
    rule, _ = SamplingRule.objects.update_or_create(dataset=dataset, graph=graph, defaults={"rate": rate})
    return rule


def sample_run(run_id: Any, draw: Any = random.random) -> list[int]:
    """Copy a finished endpoint run into each dataset sampling its graph, at that dataset's rate.

    Returns the dataset ids it went into. Only succeeded runs are sampled: a failed call is not a real input's
    answer (its input still is, but its failure is the alert's business, not the dataset's)."""
    run = Run.objects.filter(pk=run_id, status=Run.Status.SUCCEEDED).first()
    if run is None:
        return []
    taken = []
    for rule in SamplingRule.objects.filter(graph_id=run.graph_id).select_related("dataset"):
        if draw() < rule.rate and not DatasetItem.objects.filter(dataset=rule.dataset, source_run=run).exists():
            item_from_run(rule.dataset, run)
            taken.append(rule.dataset_id)
    return taken

"""A graph's eval policy: which held-out datasets gate it, with which scorers, and the drop allowed."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.config.errors import InvalidRequest
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph

from .models import Dataset, EvalPolicy
from .scorers import parse_scorers


@transaction.atomic
def policy_set(*, user: Any, graph: Graph, dataset_ids: list[int], scorers: Any, threshold: float) -> EvalPolicy | None:
    """Set (or, with no datasets, remove) the graph's policy. Only held-out datasets may gate."""
    require(user, graph.workspace, Action.DATASET_CHANGE)
    if not dataset_ids:
        EvalPolicy.objects.filter(graph=graph).delete()
        return None
    _, problems = parse_scorers(scorers)
    datasets = list(Dataset.objects.filter(workspace=graph.workspace, pk__in=dataset_ids))
    found = {d.pk: d for d in datasets}
    for i, dataset_id in enumerate(dataset_ids):
        if dataset_id not in found:
            problems.append({"path": f"datasets[{i}]", "message": "no such dataset in the graph's workspace"})
        elif not found[dataset_id].held_out:
            problems.append({"path": f"datasets[{i}]", "message": f"'{found[dataset_id].name}' is not held out: "
                             "only held-out sets may gate a graph"})
    if not 0 <= threshold <= 1:
        problems.append({"path": "threshold", "message": "a pass-rate drop from 0 to 1 (0.05 = 5 points)"})
    if problems:
        raise InvalidRequest("The eval policy has problems; nothing was changed.", problems)
    policy, _ = EvalPolicy.objects.update_or_create(graph=graph, defaults={"scorers": scorers, "threshold": threshold})
    policy.datasets.set(datasets)
    return policy

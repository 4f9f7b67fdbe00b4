"""On every change: a graph's held-out datasets run against the new graph version or prompt version."""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from backend.config.errors import InvalidRequest
from backend.graphs.models import Graph

from .baseline import baseline_for_graph
from .models import EvalPolicy, EvalRun

log = logging.getLogger(__name__)


def start_policy_evals(graph_id: int, user_id: int | None, trigger: str, candidate_prompt: str = "") -> list[EvalRun]:
    """Start one eval per held-out dataset of the graph's policy, as the change's author."""
    from .evalruns import eval_start

    policy = EvalPolicy.objects.filter(graph_id=graph_id).select_related("graph").first()
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if policy is None or user is None:
        return []
    graph = Graph.objects.get(pk=graph_id)
    baseline = baseline_for_graph(graph)
    started = []
    for dataset in policy.datasets.all():
        try:
            started.append(eval_start(user=user, dataset=dataset, graph=graph, scorers=policy.scorers,
                                      candidate_prompt=candidate_prompt, trigger=trigger))
            # The baseline is measured once per dataset, so the gate has both numbers.
            if baseline is not None and not EvalRun.objects.filter(graph=graph, graph_version=baseline, candidate={},
                                                                    dataset=dataset).exists():
                started.append(eval_start(user=user, dataset=dataset, graph=graph, scorers=policy.scorers,
                                          version_number=baseline.number, trigger="baseline"))
        except InvalidRequest as exc:  # an empty dataset, an item the new version refuses: logged, not raised
            log.warning("graph %s: the %s eval on dataset %s did not start: %s %s", graph_id, trigger, dataset.pk,
                        exc.detail, exc.problems)
        except Exception:
            log.exception("graph %s: the %s eval on dataset %s did not start", graph_id, trigger, dataset.pk)
    return started

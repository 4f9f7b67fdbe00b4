"""Where evals listen: the run-finished hook (score an eval item, sample endpoint traffic) and new versions
(a graph or a prompt it uses changed: run its held-out evals). Each only enqueues work."""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.signals import post_save
from django.dispatch import receiver

from backend.graphs.models import Graph, GraphVersion, PromptVersion
from backend.graphs.selectors import prompt_refs_in
from backend.runs.finished import on_run_finished

from .models import EvalItem, EvalPolicy, SamplingRule

log = logging.getLogger(__name__)


def _facts() -> dict[str, Any]:
    """Whether the run scores an eval item (its eval run), whether it was an endpoint call, whether its graph
    samples endpoint traffic: read by the run-finished hook's own statement (every run that ends asks; nearly
    all answer no)."""
    from backend.endpoints.models import EndpointCall

    return {"eval_run_id": Subquery(EvalItem.objects.filter(run_id=OuterRef("pk")).values("eval_run_id")[:1]),
            "called": Exists(EndpointCall.objects.filter(run_id=OuterRef("pk"))),
            "sampled": Exists(SamplingRule.objects.filter(graph_id=OuterRef("graph_id")))}


@on_run_finished("evals", facts=_facts)
def run_finished(run_id: str, facts: dict[str, Any]) -> None:
    from .scoring import request_pass
    from .tasks import sample_run

    if facts["eval_run_id"] is not None:
        request_pass(facts["eval_run_id"])
        return
    if facts["called"] and facts["sampled"]:  # endpoint traffic of a graph with a sampling rule
        sample_run.delay(run_id)


def _start_later(graph_id: int, user_id: int | None, trigger: str, candidate: str = "") -> None:
    from .tasks import start_on_change

    transaction.on_commit(lambda: start_on_change.delay(graph_id, user_id, trigger, candidate), robust=True)


@receiver(post_save, sender=GraphVersion, dispatch_uid="evals.graph_version_saved")
def graph_version_saved(sender: Any, instance: GraphVersion, created: bool, **_: Any) -> None:
    # Saves only: a version made to run unsaved edits from the canvas (reason "run") is not a change to gate.
    if created and instance.reason == GraphVersion.Reason.SAVE and EvalPolicy.objects.filter(
            graph_id=instance.graph_id).exists():
        _start_later(instance.graph_id, instance.author_id, "graph_version")


@receiver(post_save, sender=PromptVersion, dispatch_uid="evals.prompt_version_saved")
def prompt_version_saved(sender: Any, instance: PromptVersion, created: bool, **_: Any) -> None:
    if not created or instance.number == 1:
        return  # a new prompt is used by no saved graph yet
    name = instance.prompt.name
    graphs = Graph.objects.filter(workspace_id=instance.prompt.workspace_id, eval_policy__isnull=False,
                                  latest_version__isnull=False).select_related("latest_version")
    for graph in graphs:
        if graph.latest_version is not None and name in {r.partition("@")[0] for r in prompt_refs_in(
                graph.latest_version.spec)}:
            _start_later(graph.pk, instance.author_id, "prompt_version", f"{name}@{instance.number}")

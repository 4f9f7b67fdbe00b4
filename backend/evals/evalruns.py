"""Eval runs: every dataset item becomes a real Run (source "eval") on the workers; each is scored when its
run finishes (the run-finished hook enqueues ``score_eval_item``), and the last one scored writes the summary.

Items run concurrently the way any run does: the worker's shared loop holds many at once. A candidate prompt
version rides on the run's override (``runs/replay_plan.py``): every step naming that prompt runs the
candidate instead.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.config.errors import InvalidRequest
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, GraphVersion, PromptVersion
from backend.graphs.selectors import prompt_refs_in
from backend.runs.models import Run
from backend.runs.services import run_create

from .datasets import chosen_routes
from .models import Dataset, EvalItem, EvalRun, Score
from .scorers import Case, Outcome, Scorer, judge, parse_scorers, score
from .stats import ItemFigures, summarize

log = logging.getLogger(__name__)

MAX_ITEMS = 2000


def _version(graph: Graph, number: int | None) -> GraphVersion:
    version = graph.latest_version if number is None else graph.versions.filter(number=number).first()
    if version is None:
        raise InvalidRequest("No such version.", [{"path": "version", "message": f"graph {graph.pk} has no version "
                                                   f"{number}"}])
    return version


def candidate_for(graph: Graph, version: GraphVersion, ref: str) -> dict[str, Any]:
    """``{"name", "ref"}`` for a candidate prompt version ``name@N`` the version uses; 400 otherwise."""
    name, _, number = ref.partition("@")
    exists = number.isdigit() and PromptVersion.objects.filter(prompt__workspace_id=graph.workspace_id,
                                                               prompt__name=name, number=int(number)).exists()
    if not exists:
        raise InvalidRequest("No such prompt version.", [{"path": "candidate_prompt", "message": f"'{ref}' is not a "
                                                          "saved prompt version (write name@number)"}])
    used = {r.partition("@")[0] for r in prompt_refs_in(version.spec)}
    if name not in used:
        raise InvalidRequest("The graph does not use that prompt.", [{"path": "candidate_prompt", "message":
                                                                      f"version {version.number} has no step using "
                                                                      f"prompt '{name}'"}])
    return {"name": name, "ref": f"{name}@{int(number)}"}


@transaction.atomic
def eval_start(*, user: Any, dataset: Dataset, graph: Graph, scorers: Any, version_number: int | None = None,
               candidate_prompt: str = "", trigger: str = "manual") -> EvalRun:
    """Queue one run per item and return the eval run (the change triggers start it as the change's author)."""
    require(user, graph.workspace, Action.RUN_START)
    parsed, problems = parse_scorers(scorers)
    if dataset.workspace_id != graph.workspace_id:
        problems.append({"path": "dataset", "message": "the dataset is in another workspace"})
    if problems:
        raise InvalidRequest("The eval has problems; nothing was started.", problems)
    version = _version(graph, version_number)
    candidate = candidate_for(graph, version, candidate_prompt) if candidate_prompt else {}
    items = list(dataset.items.all()[:MAX_ITEMS + 1])
    if not items or len(items) > MAX_ITEMS:
        raise InvalidRequest("Nothing to run." if not items else "Too many items.", [{"path": "dataset", "message":
                             "the dataset is empty" if not items else f"at most {MAX_ITEMS} items per eval"}])
    eval_run = EvalRun.objects.create(workspace=graph.workspace, dataset=dataset, graph=graph, graph_version=version,
                                      candidate=candidate, scorers=[{"type": s.type, "name": s.name, **s.params}
                                                                    for s in parsed],
                                      trigger=trigger, total=len(items), created_by=user)
    override = {"prompt_refs": {candidate["name"]: candidate["ref"]}} if candidate else {}
    rows = []
    for position, item in enumerate(items):
        try:
            run = run_create(graph=graph, user=user, input=item.input, version_number=version.number, source="eval")
        except InvalidRequest as exc:
            raise InvalidRequest(f"Item {position + 1} cannot run: {exc.detail}",
                                 [{"path": f"items[{position}].{p['path']}", "message": p["message"]}
                                  for p in exc.problems]) from exc
        rows.append(EvalItem(eval_run=eval_run, item=item, position=position, run=run))
    runs = [row.run for row in rows]
    if override:
        Run.objects.filter(pk__in=[r.pk for r in runs]).update(replay_override=override)
    EvalItem.objects.bulk_create(rows)
    return eval_run


def case_of(eval_item: EvalItem) -> Case:
    run = eval_item.run
    item = eval_item.item
    failed = "" if run.status == Run.Status.SUCCEEDED else (run.error or run.status)
    return Case(output=run.output, expected=item.expected if item else None, labels=(item.labels if item else {}),
                routes=chosen_routes(run.pk), cost_usd=run.cost_usd, latency_ms=run.latency_ms, input=run.input,
                failed=failed)


def _outcomes(scorers: list[Scorer], case: Case) -> list[tuple[Scorer, Outcome]]:
    """Every scorer on one case; the judges run on the worker's shared loop, through the gateway."""
    judges = [s for s in scorers if s.type == "judge"]
    found = {s.name: score(s, case) for s in scorers if s.type != "judge"}
    if judges:
        import asyncio

        from backend.providers.gateway import LiteLLMGateway
        from backend.providers.registry import resolve_route
        from backend.runs.loop import run_on_loop

        async def all_judges() -> list[Outcome]:
            gateway = LiteLLMGateway(resolve_route)
            return list(await asyncio.gather(*(judge(s, case, gateway) for s in judges)))

        found.update(zip([s.name for s in judges], run_on_loop(all_judges()), strict=True))
    return [(s, found[s.name]) for s in scorers]


def score_eval_item(eval_item_id: Any) -> bool:
    """Score one finished item with every scorer of its eval run; the last one scored finishes the eval run.

    Idempotent: an item already scored is left alone. Returns whether it scored now."""
    eval_item = EvalItem.objects.select_related("run", "item", "eval_run").filter(pk=eval_item_id).first()
    if eval_item is None or eval_item.scored or not eval_item.run.is_finished:
        return False
    scorers, _ = parse_scorers(eval_item.eval_run.scorers)
    results = _outcomes(scorers, case_of(eval_item))
    run = eval_item.run
    with transaction.atomic():
        if not EvalItem.objects.filter(pk=eval_item.pk, scored=False).update(
                scored=True, passed=all(o.passed for _, o in results),
                cost_usd=run.cost_usd + sum(o.cost_usd for _, o in results), latency_ms=run.latency_ms):
            return False  # another delivery scored it first
        Score.objects.bulk_create([Score(run=run, eval_run_id=eval_item.eval_run_id, name=s.name, value=o.value,
                                         data_type=o.data_type, source="EVAL", comment=o.comment[:2000],
                                         passed=o.passed, cost_usd=o.cost_usd) for s, o in results])
        EvalRun.objects.filter(pk=eval_item.eval_run_id).update(done=F("done") + 1)
        eval_run = EvalRun.objects.select_for_update().get(pk=eval_item.eval_run_id)
        if eval_run.done >= eval_run.total and eval_run.status == EvalRun.Status.RUNNING:
            eval_run.summary = summary_of(eval_run)
            eval_run.status, eval_run.finished_at = EvalRun.Status.SUCCEEDED, timezone.now()
            eval_run.save(update_fields=["summary", "status", "finished_at"])
    return True


def item_figures(eval_run: EvalRun) -> list[ItemFigures]:
    scores: dict[Any, dict[str, tuple[float, bool]]] = {}
    for run_id, name, value, passed in Score.objects.filter(eval_run=eval_run).values_list(
            "run_id", "name", "value", "passed"):
        scores.setdefault(run_id, {})[name] = (value, bool(passed))
    return [ItemFigures(scores.get(item.run_id, {}), item.cost_usd, item.latency_ms)
            for item in EvalItem.objects.filter(eval_run=eval_run, scored=True)]


def summary_of(eval_run: EvalRun) -> dict[str, Any]:
    return summarize(item_figures(eval_run))

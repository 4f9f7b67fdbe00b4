"""Eval runs: every dataset item becomes a real Run (source "eval") on the workers; each is scored when its
run finishes (the run-finished hook enqueues ``score_eval_item``), and the last one scored writes the summary.

Items run concurrently the way any run does: the worker's shared loop holds many at once. A candidate (a prompt
version, or another model for one step: candidates.py) rides on the run's override (``runs/replay_plan.py``).
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.config.errors import InvalidRequest
from backend.engine.validation import check_input
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, GraphVersion
from backend.runs.models import Run
from backend.runs.services import run_create

from .candidates import MODEL_FIELD, candidate_for, model_candidate_for, override_for
from .datasets import routes_of
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


CHUNK = 20  # runs created and committed together: the workers start on one chunk while the next is made


def eval_start(*, user: Any, dataset: Dataset, graph: Graph, scorers: Any, version_number: int | None = None,
               candidate_prompt: str = "", candidate_model: Any = None, trigger: str = "manual") -> EvalRun:
    """Queue one run per item and return the eval run (the change triggers start it as the change's author).

    Every item's input is checked against the version's input schema first, so a bad item refuses the whole eval
    (400 naming it) before any run exists; the runs are then made in committed chunks."""
    require(user, graph.workspace, Action.RUN_START)
    parsed, problems = parse_scorers(scorers)
    if dataset.workspace_id != graph.workspace_id:
        problems.append({"path": "dataset", "message": "the dataset is in another workspace"})
    if problems:
        raise InvalidRequest("The eval has problems; nothing was started.", problems)
    version = _version(graph, version_number)
    if candidate_prompt and candidate_model is not None:
        raise InvalidRequest("One candidate at a time.", [{"path": MODEL_FIELD, "message": "try either a prompt "
                                                           "version or another model, not both in one eval"}])
    candidate = (candidate_for(graph, version, candidate_prompt) if candidate_prompt
                 else model_candidate_for(version, candidate_model) if candidate_model is not None else {})
    items = list(dataset.items.all()[:MAX_ITEMS + 1])
    if not items or len(items) > MAX_ITEMS:
        raise InvalidRequest("Nothing to run." if not items else "Too many items.", [{"path": "dataset", "message":
                             "the dataset is empty" if not items else f"at most {MAX_ITEMS} items per eval"}])
    schema = version.spec.get("inputs") or {"type": "object"}
    bad = [{"path": f"items[{n}].{p['path']}".rstrip("."), "message": p["message"]}
           for n, item in enumerate(items) for p in (x.to_dict() for x in check_input(schema, item.input))]
    if bad:
        raise InvalidRequest("Some items do not fit the flow's input; nothing was started.", bad[:50])
    eval_run = EvalRun.objects.create(workspace=graph.workspace, dataset=dataset, graph=graph, graph_version=version,
                                      candidate=candidate, scorers=[{"type": s.type, "name": s.name, **s.params}
                                                                    for s in parsed],
                                      trigger=trigger, total=len(items), created_by=user)
    override = override_for(candidate)
    made = 0
    try:
        for first in range(0, len(items), CHUNK):
            with transaction.atomic():  # each chunk's runs are enqueued when it commits
                _queue_chunk(eval_run, items[first:first + CHUNK], first, user, version, override)
            made = min(first + CHUNK, len(items))
    except Exception:
        # A refusal half way (the spend cap reached, the broker gone): the eval covers what was started.
        EvalRun.objects.filter(pk=eval_run.pk).update(total=made, status=EvalRun.Status.FAILED if not made
                                                      else EvalRun.Status.RUNNING)
        raise
    return eval_run


def _queue_chunk(eval_run: EvalRun, items: list[Any], first: int, user: Any, version: GraphVersion,
                 override: dict[str, Any]) -> None:
    rows = []
    for n, item in enumerate(items):
        run = run_create(graph=eval_run.graph, user=user, input=item.input, version_number=version.number,
                         source="eval")
        rows.append(EvalItem(eval_run=eval_run, item=item, position=first + n, run=run))
    if override:
        Run.objects.filter(pk__in=[row.run.pk for row in rows]).update(replay_override=override)
    EvalItem.objects.bulk_create(rows)


def case_of(eval_item: EvalItem, routes: dict[str, str]) -> Case:
    run = eval_item.run
    item = eval_item.item
    failed = "" if run.status == Run.Status.SUCCEEDED else (run.error or run.status)
    return Case(output=run.output, expected=item.expected if item else None, labels=(item.labels if item else {}),
                routes=routes, cost_usd=run.cost_usd, latency_ms=run.latency_ms, input=run.input, failed=failed)


def _outcomes(scorers: list[Scorer], cases: list[Case]) -> list[list[tuple[Scorer, Outcome]]]:
    """Every scorer on every case; all the judges' calls at once, on the worker's shared loop, via the gateway."""
    found: list[dict[str, Outcome]] = [{s.name: score(s, case) for s in scorers if s.type != "judge"}
                                       for case in cases]
    judges = [s for s in scorers if s.type == "judge"]
    if judges:
        import asyncio

        from backend.providers.gateway import LiteLLMGateway
        from backend.providers.registry import resolve_route
        from backend.runs.loop import run_on_loop

        async def all_judges() -> list[Outcome]:
            gateway = LiteLLMGateway(resolve_route)
            return list(await asyncio.gather(*(judge(s, case, gateway) for case in cases for s in judges)))

        verdicts = iter(run_on_loop(all_judges()))
        for row in found:
            for s in judges:
                row[s.name] = next(verdicts)
    return [[(s, row[s.name]) for s in scorers] for row in found]


MAX_BATCH = 500


def score_finished_items(eval_run_id: Any) -> tuple[int, int, int]:
    """Score every item of the eval run whose run has finished and that is not scored yet; the last ones scored
    finish the eval run (summary, status). Safe to run twice at once: an item is written by one of them only.

    Returns (scored now, done, total)."""
    pending = list(EvalItem.objects.filter(eval_run_id=eval_run_id, scored=False, run__status__in=Run.FINISHED)
                   .select_related("run", "item")[:MAX_BATCH])
    eval_run = EvalRun.objects.filter(pk=eval_run_id).first()
    if not pending or eval_run is None:
        return 0, eval_run.done if eval_run else 0, eval_run.total if eval_run else 0
    scorers, _ = parse_scorers(eval_run.scorers)
    routes = routes_of([i.run_id for i in pending])
    results = _outcomes(scorers, [case_of(i, routes[i.run_id]) for i in pending])
    with transaction.atomic():
        mine = set(EvalItem.objects.select_for_update(skip_locked=True).filter(
            pk__in=[i.pk for i in pending], scored=False).values_list("pk", flat=True))
        rows = [(i, r) for i, r in zip(pending, results, strict=True) if i.pk in mine]
        for item, outcomes in rows:
            item.scored, item.passed = True, all(o.passed for _, o in outcomes)
            item.cost_usd = item.run.cost_usd + sum(o.cost_usd for _, o in outcomes)
            item.latency_ms = item.run.latency_ms
        EvalItem.objects.bulk_update([i for i, _ in rows], ["scored", "passed", "cost_usd", "latency_ms"])
        Score.objects.bulk_create([Score(run_id=i.run_id, eval_run_id=eval_run_id, name=s.name, value=o.value,
                                         data_type=o.data_type, source="EVAL", comment=o.comment[:2000],
                                         passed=o.passed, cost_usd=o.cost_usd) for i, r in rows for s, o in r])
        counted = EvalRun.objects.filter(pk=eval_run_id)
        counted.update(done=F("done") + len(rows))  # its row lock is held to commit: counts never collide
        done, total = counted.values_list("done", "total").get()
        if done >= total:
            eval_run.refresh_from_db()
            if eval_run.status == EvalRun.Status.RUNNING:
                eval_run.summary = summary_of(eval_run)
                eval_run.status, eval_run.finished_at = EvalRun.Status.SUCCEEDED, timezone.now()
                eval_run.save(update_fields=["summary", "status", "finished_at"])
    return len(rows), done, total


def item_figures(eval_run: EvalRun) -> list[ItemFigures]:
    scores: dict[Any, dict[str, tuple[float, bool]]] = {}
    for run_id, name, value, passed in Score.objects.filter(eval_run=eval_run).values_list(
            "run_id", "name", "value", "passed"):
        scores.setdefault(run_id, {})[name] = (value, bool(passed))
    return [ItemFigures(scores.get(item.run_id, {}), item.cost_usd, item.latency_ms)
            for item in EvalItem.objects.filter(eval_run=eval_run, scored=True)]


def summary_of(eval_run: EvalRun) -> dict[str, Any]:
    return summarize(item_figures(eval_run))

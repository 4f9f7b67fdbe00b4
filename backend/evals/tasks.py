"""Celery tasks: glue only."""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(name="evals.score_items", acks_late=False, ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=0.5, max_retries=5)
def score_items(eval_run_id: str) -> None:
    """Score what has finished of an eval run since the last pass (enqueued at most once at a time, see
    scoring.py), then send the progress."""
    from .evalruns import MAX_BATCH, score_finished_items
    from .progress import publish
    from .scoring import pass_started, request_pass

    pass_started(eval_run_id)
    scored, _, _ = score_finished_items(eval_run_id)
    if scored:
        publish(eval_run_id)
    if scored >= MAX_BATCH:  # more may be waiting, and no run left to finish may ask for them
        request_pass(eval_run_id)


@shared_task(name="evals.sample_run", acks_late=False, ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=0.5, max_retries=5)
def sample_run(run_id: str) -> None:
    from .datasets import sample_run as sample

    sample(run_id)


@shared_task(name="evals.start_on_change", acks_late=False, ignore_result=True)
def start_on_change(graph_id: int, user_id: int | None, trigger: str, candidate_prompt: str = "") -> None:
    from .triggers import start_policy_evals

    start_policy_evals(graph_id, user_id, trigger, candidate_prompt)

"""Celery tasks: glue only."""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(name="evals.score_item", acks_late=False, ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=0.5, max_retries=5)
def score_item(eval_item_id: int) -> None:
    from .evalruns import score_eval_item
    from .progress import publish

    if score_eval_item(eval_item_id):
        from .models import EvalItem

        eval_run_id = EvalItem.objects.filter(pk=eval_item_id).values_list("eval_run_id", flat=True).first()
        if eval_run_id is not None:
            publish(eval_run_id)


@shared_task(name="evals.sample_run", acks_late=False, ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=0.5, max_retries=5)
def sample_run(run_id: str) -> None:
    from .datasets import sample_run as sample

    sample(run_id)


@shared_task(name="evals.start_on_change", acks_late=False, ignore_result=True)
def start_on_change(graph_id: int, user_id: int | None, trigger: str, candidate_prompt: str = "") -> None:
    from .triggers import start_policy_evals

    start_policy_evals(graph_id, user_id, trigger, candidate_prompt)

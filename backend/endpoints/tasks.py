"""Celery glue: deliver a finished run's result to its callback URL (linked after ``execute_run``)."""
from __future__ import annotations

from celery import shared_task

from .delivery import deliver


@shared_task(name="endpoints.deliver_callback", bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver_callback(self, run_id: str) -> str:  # type: ignore[no-untyped-def]
    outcome = deliver(run_id)
    if outcome.retry_in_s is not None:
        raise self.retry(countdown=outcome.retry_in_s)
    return outcome.status

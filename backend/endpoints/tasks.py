"""Celery glue: deliver a finished run's result to its callback URL (enqueued by the run-finished hook, runs/finished.py)."""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .delivery import deliver


# Acknowledged when it starts, like runs.execute_run (see backend/runs/tasks.py): acks_late crashed the worker
# when the broker restarted with the message unacked. An attempt cut short by a dead worker is not redelivered;
# the receiver may get a result at most once more or once less, and its row says how the delivery went.
# A lost database connection is retried like a receiver's failure; deliver() records each attempt itself.
@shared_task(name="endpoints.deliver_callback", bind=True, acks_late=False, ignore_result=True, max_retries=None,
             autoretry_for=(OperationalError,), retry_backoff=1, retry_backoff_max=30)
def deliver_callback(self, run_id: str) -> str:  # type: ignore[no-untyped-def]
    outcome = deliver(run_id)
    if outcome.retry_in_s is not None:
        raise self.retry(countdown=outcome.retry_in_s)
    return outcome.status


# Tell an approval step's callback URL that a decision is waiting (runs/waiting.py sends it by name when the request is stored).
@shared_task(name="endpoints.notify_approval", bind=True, acks_late=False, ignore_result=True, max_retries=4,
             autoretry_for=(OperationalError,), retry_backoff=1, retry_backoff_max=30)
def notify_approval(self, approval_id: int) -> str:  # type: ignore[no-untyped-def]
    from .approval_notify import tell_waiting

    outcome = tell_waiting(approval_id, attempt=self.request.retries + 1)
    if outcome.retry_in_s is not None:
        raise self.retry(countdown=outcome.retry_in_s)
    return outcome.status

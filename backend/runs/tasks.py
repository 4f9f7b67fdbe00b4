"""Celery tasks: glue only. The run happens on the worker's shared asyncio loop."""
from __future__ import annotations

from celery import shared_task
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from django.db import OperationalError

from . import worker_start
from .execution import execute_run_async
from .loop import run_on_loop
from .otlp_push import PushFailed, push


# Acknowledged when it starts, not when it ends. With acks_late, a broker restart while a run is in flight
# crashed the worker: celery 5.7 / kombu 5.7 restore unacked messages on the dead channel during reconnect
# (AttributeError: 'NoneType' object has no attribute 'hostname'). Nothing is lost by acking early: a dead
# worker's run is ended by the heartbeat sweep within seconds, and a queued run whose message vanished is
# enqueued again by the same sweep (liveness.py); acks_late's redelivery came an hour later anyway.
# A lost database connection or a lock conflict while claiming is retried; claiming is idempotent.
@shared_task(name="runs.execute_run", acks_late=False, ignore_result=True,
             autoretry_for=(OperationalError,), retry_backoff=0.2, retry_backoff_max=5, max_retries=5)
def execute_run(run_id: str) -> None:
    worker_start.models_before_run()  # in this thread, not on the run loop
    run_on_loop(execute_run_async(run_id))


@worker_ready.connect
def worker_is_ready(sender: object, **_: object) -> None:
    """Start the run loop and the sweep, say the worker is up, then load the models in the background."""
    worker_start.on_worker_ready(getattr(sender, "hostname", None) or "worker")


@worker_process_init.connect
def child_process_started(**_: object) -> None:  # the prefork pool's children (the threads pool has none)
    worker_start.start_process_services()
    worker_start.warm_models_in_background()


worker_shutdown.connect(worker_start.on_worker_shutdown)


# OTLP push, enqueued by the run-finished hook (otlp_push.py): a receiver that is down is retried with backoff
# for about ten minutes; the run itself never waits on it.
@shared_task(name="runs.push_otlp", acks_late=False, ignore_result=True, autoretry_for=(PushFailed, OperationalError),
             retry_backoff=1, retry_backoff_max=120, max_retries=8)
def push_otlp(run_id: str) -> str:
    return push(run_id)


# Retention: scheduled by CELERY_BEAT_SCHEDULE["runs-prune"] (settings); the same service as `manage.py prune`.
@shared_task(name="runs.prune", ignore_result=True)
def prune_expired() -> dict[str, int]:
    from django.utils import timezone

    from .retention import runs_prune

    return dict(runs_prune(now=timezone.now()).counts)


# Approval deadlines: scheduled by CELERY_BEAT_SCHEDULE["approval-deadlines"] (settings); runs/approvals.py.
@shared_task(name="runs.approval_deadlines", ignore_result=True)
def approval_deadlines() -> int:
    from .approvals import enforce_deadlines

    return len(enforce_deadlines())

"""Celery tasks: glue only. The run happens on the worker's shared asyncio loop."""
from __future__ import annotations

from celery import shared_task
from celery.signals import worker_process_init, worker_ready
from django.db import OperationalError

from backend.providers.gateway import litellm_module

from .execution import execute_run_async
from .liveness import sweep_forever
from .loop import run_loop, run_on_loop


# A lost database connection or a lock conflict while claiming is retried; claiming is idempotent.
@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             autoretry_for=(OperationalError,), retry_backoff=0.2, retry_backoff_max=5, max_retries=5)
def execute_run(run_id: str) -> None:
    run_on_loop(execute_run_async(run_id))


@worker_ready.connect
@worker_process_init.connect
def warm_up(**_: object) -> None:
    """Import litellm and start the run loop before the first run, not during it; start the orphan sweep."""
    litellm_module()
    loop = run_loop()
    loop.call_soon_threadsafe(lambda: loop.create_task(sweep_forever()))


# Retention: scheduled by CELERY_BEAT_SCHEDULE["runs-prune"] (settings); the same service as `manage.py prune`.
@shared_task(name="runs.prune", ignore_result=True)
def prune_expired() -> dict[str, int]:
    from django.utils import timezone

    from .retention import runs_prune

    return dict(runs_prune(now=timezone.now()).counts)

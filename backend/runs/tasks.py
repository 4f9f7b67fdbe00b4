"""Celery tasks: glue only. The run happens on the worker's shared asyncio loop."""
from __future__ import annotations

from celery import shared_task

from .execution import execute_run_async
from .loop import run_on_loop


@shared_task(name="runs.execute_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_run(run_id: str) -> None:
    run_on_loop(execute_run_async(run_id))

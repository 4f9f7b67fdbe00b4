"""No run stays "running" after its worker died.

While a run executes, its worker refreshes a Redis key every
PATCHBAY_HEARTBEAT_SECONDS (the key lives three beats). Every worker sweeps now
and then: a run still marked running, started more than three beats ago, with
no live key, lost its worker — it is marked failed, its finished spans kept and
its ``run.completed`` event published. (Celery's acks_late would redeliver the
task too, but on Redis only after the visibility timeout, which is long.)
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from backend.config.redis_clients import async_redis, sync_redis

from .models import Run
from .sinks import finish_run_outside_engine

log = logging.getLogger(__name__)

WORKER_LOST = "the worker running this run stopped before it finished; finished spans are kept"
SWEEP_EVERY_BEATS = 3


def _key(run_id: Any) -> str:
    return f"patchbay:heartbeat:{run_id}"


def _ttl() -> int:
    return max(1, settings.PATCHBAY_HEARTBEAT_SECONDS * 3)


async def keep_alive(run_id: Any) -> None:
    """Refresh the run's heartbeat until cancelled (the run's end)."""
    client = async_redis()
    try:
        while True:
            await client.set(_key(run_id), "1", ex=_ttl())
            await asyncio.sleep(settings.PATCHBAY_HEARTBEAT_SECONDS)
    finally:
        await asyncio.shield(client.delete(_key(run_id)))


def reap_orphaned_runs() -> list[str]:
    """Fail every running run whose worker stopped beating. Returns their ids."""
    client = sync_redis()
    cutoff = timezone.now() - dt.timedelta(seconds=_ttl())
    reaped = []
    for run_id in Run.objects.filter(status=Run.Status.RUNNING, started_at__lt=cutoff).values_list("pk", flat=True):
        if not client.exists(_key(run_id)) and finish_run_outside_engine(run_id, Run.Status.FAILED, WORKER_LOST,
                                                                         expected=Run.Status.RUNNING):
            log.warning("run %s lost its worker: marked failed", run_id)
            reaped.append(str(run_id))
    return reaped


async def sweep_forever() -> None:
    """Each worker process sweeps for orphaned runs every few beats (any worker may reap any run)."""
    from asgiref.sync import sync_to_async

    reap = sync_to_async(reap_orphaned_runs, thread_sensitive=False)
    while True:
        try:
            await reap()
        except Exception:  # a sweep that fails (database restarting) is tried again next time
            log.exception("sweep for orphaned runs failed")
        await asyncio.sleep(settings.PATCHBAY_HEARTBEAT_SECONDS * SWEEP_EVERY_BEATS)

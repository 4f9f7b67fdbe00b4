"""No run stays "running" after its worker died, and none stays "queued" after its message was lost.

Heartbeats. While runs execute, one thread per worker process refreshes a Redis
key per run every PATCHBAY_HEARTBEAT_SECONDS (the key lives three beats). A
thread, not a task on the run loop: a node that keeps the loop busy for a few
seconds must not look like a dead worker. The thread still stops beating when
the loop has not turned for LOOP_STALL_BEATS beats, so a wedged worker is
noticed too.

The sweep. Every beat one worker process (a Redis lock picks it) looks for:
- runs marked running, started more than three beats ago, with no live key:
  their worker was lost. They are marked failed with WORKER_LOST, finished
  spans kept, ``run.completed`` published. Redis without persistence loses
  every key when it restarts, so nothing is reaped until Redis has been up for
  three beats (every live worker has beaten again by then); while Redis is
  unreachable the sweep fails and nothing is reaped either.
- runs still queued after QUEUED_GRACE_S whose enqueue marker is gone: their
  broker message went with a Redis restart (or was never sent). They are
  enqueued again; a duplicate delivery is harmless because claiming is
  idempotent. A run queued longer than PATCHBAY_QUEUED_GIVE_UP_SECONDS is failed.
- finished runs whose run-finished hook never fired (their process died right
  after the commit): the hook is fired now (finished.notify_missed).

Celery's acks_late would redeliver a dead worker's task too, but on Redis only
after the visibility timeout (an hour).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import threading
import time
from typing import Any

import redis
from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.config.redis_clients import sync_redis

from .finished import notify_missed
from .loop import db_call
from .models import Run
from .sinks import finish_run_outside_engine

log = logging.getLogger(__name__)

WORKER_LOST = ("the worker running this run was lost (no heartbeat for {seconds} s: the process died or hung); "
               "finished spans are kept")
NEVER_QUEUED = "the queue was unavailable; nothing ran"
NEVER_TAKEN = "no worker took the run within {seconds} s; nothing ran"
TTL_BEATS = 3
LOOP_STALL_BEATS = 30  # a loop that has not turned for this many beats is wedged: stop vouching for its runs
QUEUED_GRACE_S = 10  # between a run's commit and its enqueue marker; longer than any on_commit delay
SWEEP_LOCK = "patchbay:sweep"


def heartbeat_key(run_id: Any) -> str:
    return f"patchbay:heartbeat:{run_id}"


def enqueued_key(run_id: Any) -> str:
    return f"patchbay:enqueued:{run_id}"


def _beat() -> float:
    return float(settings.PATCHBAY_HEARTBEAT_SECONDS)


def _ttl() -> int:
    return max(1, round(_beat() * TTL_BEATS))


def worker_lost_message() -> str:
    return WORKER_LOST.format(seconds=_ttl())


class _Beater:
    """The process's heartbeat thread: one pipelined SET per beat for all its runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Counted, not a set: a run woken by a decision may be claimed again in this process before the
        # execution that parked it has let go; the second must keep beating when the first one ends.
        self._runs: dict[str, int] = {}
        self._ended: set[str] = set()
        self._fresh: set[str] = set()  # added since the last beat: they beat at once, the others on schedule
        self._wake = threading.Event()
        self._pid: int | None = None
        self.loop_turned = time.monotonic()
        self._failing = False

    def add(self, run_id: Any) -> None:
        self.loop_turned = time.monotonic()
        with self._lock:
            self._runs[str(run_id)] = self._runs.get(str(run_id), 0) + 1
            self._ended.discard(str(run_id))
            self._fresh.add(str(run_id))
            if self._pid != os.getpid():  # first use in this process (or a forked child): start the thread
                self._pid = os.getpid()
                threading.Thread(target=self._forever, name="patchbay-heartbeat", daemon=True).start()
        self._wake.set()  # beat now: the run is alive from its first second

    def remove(self, run_id: Any) -> None:
        with self._lock:
            left = self._runs.get(str(run_id), 0) - 1
            if left > 0:
                self._runs[str(run_id)] = left
                return
            self._runs.pop(str(run_id), None)
            self._ended.add(str(run_id))

    def beat_once(self, *, everyone: bool = True) -> None:
        """One pipelined write: a live key for every run (or, between beats, for the runs just added only:
        a run starting must not rewrite the keys of all the others), a delete for the runs that ended."""
        with self._lock:
            alive = list(self._runs) if everyone else [r for r in self._fresh if r in self._runs]
            ended = list(self._ended)
            self._ended.clear()
            self._fresh.clear()
        if time.monotonic() - self.loop_turned > LOOP_STALL_BEATS * _beat():
            alive = []  # the run loop is wedged: let the sweep fail its runs
        if not alive and not ended:
            return
        pipe = sync_redis().pipeline(transaction=False)
        for run_id in alive:
            pipe.set(heartbeat_key(run_id), "1", ex=_ttl())
        if ended:
            pipe.delete(*[heartbeat_key(r) for r in ended])
        pipe.execute()

    def _forever(self) -> None:
        due = time.monotonic()  # when every run beats again
        while True:
            self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()
            everyone = time.monotonic() >= due
            if everyone:
                due = time.monotonic() + _beat()
            try:
                self.beat_once(everyone=everyone)
                if self._failing:
                    log.warning("heartbeats resumed")
                self._failing = False
            except redis.RedisError as exc:  # Redis restarting: beat again next time; the sweep waits for us
                if not self._failing:
                    log.warning("heartbeat failed (%s); retrying every %s s", exc, _beat())
                self._failing = True


_beater = _Beater()


async def keep_alive(run_id: Any) -> None:
    """Vouch for the run until cancelled (the run's end); also proves the run loop still turns."""
    _beater.add(run_id)
    try:
        while True:
            _beater.loop_turned = time.monotonic()
            await asyncio.sleep(_beat())
    finally:
        _beater.remove(run_id)


def _redis_up_long_enough(client: redis.Redis) -> bool:
    """A Redis that restarted lost every heartbeat: wait until every live worker has beaten again."""
    return int(client.info("server")["uptime_in_seconds"]) >= _ttl()


def reap_orphaned_runs() -> list[str]:
    """Fail every running run whose worker stopped beating. Returns their ids."""
    client = sync_redis()
    if not _redis_up_long_enough(client):
        return []
    cutoff = timezone.now() - dt.timedelta(seconds=_ttl())
    candidates = list(Run.objects.filter(status=Run.Status.RUNNING, started_at__lt=cutoff)
                      .values_list("pk", flat=True))
    if not candidates:
        return []
    pipe = client.pipeline(transaction=False)
    for run_id in candidates:
        pipe.exists(heartbeat_key(run_id))
    reaped = []
    for run_id, beating in zip(candidates, pipe.execute(), strict=True):
        if not beating and finish_run_outside_engine(run_id, Run.Status.FAILED, worker_lost_message(),
                                                     expected=Run.Status.RUNNING):
            log.warning("run %s lost its worker: marked failed", run_id)
            reaped.append(str(run_id))
    return reaped


def requeue_lost_runs() -> tuple[list[str], list[str]]:
    """Enqueue again the queued runs whose broker message is gone; fail those queued too long.

    Returns (re-enqueued ids, failed ids).
    """
    from .services import enqueue_run

    client = sync_redis()
    now = timezone.now()
    give_up = settings.PATCHBAY_QUEUED_GIVE_UP_SECONDS
    # A run woken by a decision (runs/approvals.py) was queued again at resumed_at: its queue clock starts there.
    # A waiting run is neither queued nor running: nothing here (or in the reaper) touches it.
    stale = list(Run.objects.annotate(queued_at=Coalesce("resumed_at", "created_at"))
                 .filter(status=Run.Status.QUEUED, queued_at__lt=now - dt.timedelta(seconds=QUEUED_GRACE_S))
                 .values_list("pk", "queued_at"))
    requeued, failed = [], []
    for run_id, created_at in stale:
        if (now - created_at).total_seconds() > give_up:
            if finish_run_outside_engine(run_id, Run.Status.FAILED, NEVER_TAKEN.format(seconds=give_up),
                                         expected=Run.Status.QUEUED):
                failed.append(str(run_id))
        elif not client.exists(enqueued_key(run_id)):
            log.warning("run %s is queued but its message is gone (Redis restarted?): enqueuing it again", run_id)
            enqueue_run(run_id)
            requeued.append(str(run_id))
    return requeued, failed


def sweep() -> None:
    """One sweep, by whichever worker process takes this beat's lock."""
    if not sync_redis().set(SWEEP_LOCK, os.getpid(), nx=True, px=max(100, int(_beat() * 1000) - 100)):
        return
    reap_orphaned_runs()
    requeue_lost_runs()
    notify_missed()


async def sweep_forever() -> None:
    """Each worker process offers to sweep every beat (any worker may reap any run)."""
    run_sweep = db_call(sweep)
    while True:
        try:
            await run_sweep()
        except Exception as exc:  # a sweep that fails (database or Redis restarting) is tried again next beat
            log.warning("sweep for lost runs failed: %s", exc)
        await asyncio.sleep(_beat())

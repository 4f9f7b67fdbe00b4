"""Wait for runs to end: one channel-layer subscription per process, fanned out to every local waiter.

A sync flow call only needs to know when its run ends. Following the run
(follow.py) per call costs a private channel, a receive loop and a database
check every second per caller: at 64 clients, a sixth of the web process's CPU
went to those checks alone. Here each process (each event loop) has one
channel, added to the group of every run someone waits on; one receive loop
hands ``run.completed`` to the local waiters of that run. What keeps it whole:

* the waiter joins the run's group *before* asking the database whether the
  run has already ended, so an end stored after that read arrives live;
* a lost message (or a channel layer that is down) costs at most
  ``CHECK_S``: once a second, one query asks which of *all* waited runs have
  finished, whatever the number of waiters;
* a receive that fails makes a new channel and joins every waited group
  again; a wait never raises for that, it only waits for the next check.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

from .models import Run
from .sinks import run_group

log = logging.getLogger(__name__)

CHECK_S = 1.0  # how often the database is asked about every waited run (lost messages, layer outages)
RETRY_S = 1.0  # after a failed receive, wait this long before a new channel
CLEANUP_S = 3.0

DbRunner = Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]


# A run waiting for a person's decision has ended what a sync caller waits for: it is answered 202 waiting.
WAIT_ENDS = (*Run.FINISHED, Run.Status.WAITING)


def finished_among(run_ids: list[str]) -> list[str]:
    return [str(pk) for pk in Run.objects.filter(pk__in=run_ids, status__in=WAIT_ENDS).values_list("pk", flat=True)]


class RunWaiter:
    """The waiters of one event loop."""

    def __init__(self, db: DbRunner, layer: Any = None):
        self._db = db
        self._layer = layer or get_channel_layer()
        self._waiting: dict[str, set[asyncio.Future[bool]]] = {}
        self._channel = ""
        self._joining: asyncio.Lock | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def wait(self, run_id: Any, timeout_s: float) -> bool:
        """True once the run has ended; False if it is still going after ``timeout_s``. Raises only if the
        database cannot say whether the run ended when the wait starts."""
        key = str(run_id)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        first = key not in self._waiting
        self._waiting.setdefault(key, set()).add(future)
        try:
            await self._start()
            if first:
                await self._join(key)
            if await self._db(finished_among)([key]):  # ended before the group was joined
                return True
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout_s)
            except TimeoutError:
                return False
        finally:
            waiters = self._waiting.get(key, set())
            waiters.discard(future)
            if not waiters:
                self._waiting.pop(key, None)
                await self._leave(key)

    def _resolve(self, key: str) -> None:
        for future in self._waiting.get(key, ()):
            if not future.done():
                future.set_result(True)

    async def _start(self) -> None:
        if self._joining is None:
            self._joining = asyncio.Lock()
        async with self._joining:
            if not self._channel:
                self._channel = await self._layer.new_channel()
            if not self._tasks:
                self._tasks = [asyncio.ensure_future(self._receive_forever()),
                               asyncio.ensure_future(self._check_forever())]

    async def _join(self, key: str) -> None:
        try:
            await self._layer.group_add(run_group(key), self._channel)
        except Exception as error:  # the once-a-second check covers this run until the layer is back
            log.warning("run %s: could not join its group (%s); waiting on the database", key, error)

    async def _leave(self, key: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._layer.group_discard(run_group(key), self._channel), CLEANUP_S)

    async def _receive_forever(self) -> None:
        while True:
            try:
                message = await self._layer.receive(self._channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("run waiter: channel layer failed (%s); joining again in %g s", error, RETRY_S)
                await asyncio.sleep(RETRY_S)
                await self._rejoin()
                continue
            for event in message.get("events") or ():
                # waiting: a person decides now, and the sync caller is answered 202 (runs/waiting.py)
                if event.get("type") in ("run.completed", "run.waiting") and event.get("run_id") is not None:
                    self._resolve(str(event["run_id"]))

    async def _rejoin(self) -> None:
        try:
            self._channel = await self._layer.new_channel()
        except Exception:
            return  # next failure, next try
        for key in list(self._waiting):
            await self._join(key)

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECK_S)
            if not self._waiting:
                continue
            try:
                ended = await self._db(finished_among)(list(self._waiting))
            except Exception as error:
                log.warning("run waiter: could not read which runs ended (%s); trying again", error)
                continue
            for key in ended:
                self._resolve(key)


_waiters: dict[asyncio.AbstractEventLoop, RunWaiter] = {}


def run_waiter(db: DbRunner) -> RunWaiter:
    """This event loop's waiter (made on first use)."""
    loop = asyncio.get_running_loop()
    waiter = _waiters.get(loop)
    if waiter is None:
        for old in [other for other in _waiters if other.is_closed()]:
            del _waiters[old]
        waiter = _waiters[loop] = RunWaiter(db)
    return waiter

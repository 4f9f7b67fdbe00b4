"""Wait for runs to end: one Redis subscription per process, fanned out to every local waiter.

A sync flow call only needs to know when its run ends, and what the end
wrote. Each process (each event loop) subscribes once to the run ends its
deployment announces (run_ends.py: one message per run, published when the
end commits); one listener hands each end to the local waiters of that run,
with the columns the end wrote, so the caller is answered without reading the
run back. Nothing is sent to Redis per call. What keeps it whole:

* a caller takes a ``mark`` before it starts its run: if the subscription
  was live then and still is (same generation), every end of that run
  arrives on it, so there is nothing to ask the database first; otherwise
  (no subscription yet, a reconnect since, an Idempotency-Key replay of an
  older run) the wait asks the database whether the run has already ended;
* an end heard just before its waiter registered is kept a little while
  (``RECENT``);
* a lost message (or a Redis that is down) costs at most ``CHECK_S``: once a
  second, one query asks which of *all* waited runs have ended, whatever the
  number of waiters;
* a subscription that fails is made again after ``RETRY_S``; a wait never
  raises for that, it only waits for the next check.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from .models import Run
from .run_ends import RunEnd, channel, decode

log = logging.getLogger(__name__)

CHECK_S = 1.0  # how often the database is asked about every waited run (lost messages, Redis outages)
RETRY_S = 1.0  # after a failed subscription, wait this long before a new one
RECENT = 256  # ends kept for a waiter that registers just after its run's end was heard
CLEANUP_S = 1.0  # closing a subscription never takes longer
POLL_S = 1.0  # the longest read of the subscription (a message ends it at once)

DbRunner = Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]
# An async client with ``pubsub()`` (redis.asyncio.Redis), made in the loop that uses it.
Connect = Callable[[], Any]

# A run waiting for a person's decision has ended what a sync caller waits for: it is answered 202 waiting.
WAIT_ENDS = (*Run.FINISHED, Run.Status.WAITING)


def finished_among(run_ids: list[str]) -> list[str]:
    return [str(pk) for pk in Run.objects.filter(pk__in=run_ids, status__in=WAIT_ENDS).values_list("pk", flat=True)]


def _default_connect() -> Any:
    from backend.config.redis_clients import async_redis

    return async_redis()


class RunWaiter:
    """The waiters of one event loop."""

    def __init__(self, db: DbRunner, connect: Connect = _default_connect, topic: str | None = None):
        self._db = db
        self._connect = connect
        self._topic = topic
        self._waiting: dict[str, set[asyncio.Future[RunEnd]]] = {}
        self._recent: OrderedDict[str, RunEnd] = OrderedDict()
        self._generation = 0  # counts subscriptions confirmed by Redis; 0 = none yet
        self._live = False
        self._tasks: list[asyncio.Task[None]] = []

    def mark(self) -> int | None:
        """Taken before starting a run: a token for ``wait(since=...)`` when the subscription is live."""
        self._start()
        return self._generation if self._live else None

    async def wait(self, run_id: Any, timeout_s: float, since: int | None = None) -> RunEnd | None:
        """The run's end once it has ended (or waits for a decision); None if it is still going after
        ``timeout_s``. ``since``: a ``mark`` taken before the run was created. Raises only if the database
        cannot say whether the run ended when the wait starts."""
        self._start()
        key = str(run_id)
        heard = self._recent.get(key)
        if heard is not None:
            return heard
        future: asyncio.Future[RunEnd] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, set()).add(future)
        try:
            unbroken = since is not None and self._live and since == self._generation
            if not unbroken and await self._db(finished_among)([key]):  # it may have ended unheard
                return future.result() if future.done() else RunEnd(key)
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout_s)
            except TimeoutError:
                return None
        finally:
            waiters = self._waiting.get(key, set())
            waiters.discard(future)
            if not waiters:
                self._waiting.pop(key, None)

    def _resolve(self, end: RunEnd) -> None:
        for future in self._waiting.get(end.run_id, ()):
            if not future.done():
                future.set_result(end)

    def _heard(self, end: RunEnd) -> None:
        if end.status in Run.FINISHED:  # final; a waiting run may be woken meanwhile, so that is not kept
            self._recent[end.run_id] = end
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        self._resolve(end)

    def _start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.ensure_future(self._listen_forever()),
                           asyncio.ensure_future(self._check_forever())]

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                _stop_if_cancelled()
                log.warning("run waiter: the run-ends subscription failed (%s); subscribing again in %g s",
                            error, RETRY_S)
            self._live = False
            await asyncio.sleep(RETRY_S)

    async def _listen(self) -> None:
        pubsub = self._connect().pubsub()
        try:
            await pubsub.subscribe(self._topic or channel())
            while True:
                # redis-py may swallow a cancel while it reads (a closing event loop then waits for this task
                # forever): read with a timeout, and look at the task between reads.
                _stop_if_cancelled()
                message = await pubsub.get_message(timeout=POLL_S)
                if message is None:
                    continue
                if message["type"] == "subscribe":  # confirmed (again, after redis-py reconnected): from now on
                    self._generation += 1           # every end arrives; a mark from before may have missed some
                    self._live = True
                elif message["type"] == "message":
                    end = decode(message["data"])
                    if end is not None:
                        self._heard(end)
        finally:
            self._live = False
            # Bounded: a connection cut while it connected (a loop closing under it) may never report closed.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), CLEANUP_S)

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECK_S)
            if not self._waiting:
                continue
            try:
                ended = await self._db(finished_among)(list(self._waiting))
            except Exception as error:
                _stop_if_cancelled()
                log.warning("run waiter: could not read which runs ended (%s); trying again", error)
                continue
            for key in ended:
                self._resolve(RunEnd(key))


def _stop_if_cancelled() -> None:
    """A cancel that a client library turned into another error (redis-py may, while it connects) still ends
    the task: otherwise a closing event loop waits for it forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


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

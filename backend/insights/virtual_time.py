"""An asyncio loop on virtual time: a sleep returns at once and moves the clock forward by its length.

A dry run (projection.py) runs the real engine with models that "take" their projected time by sleeping;
on this loop those sleeps cost nothing, yet concurrency keeps its meaning (three parallel 1 s calls end at
1 s, a chain of three at 3 s), so a run's elapsed loop time is the latency it would have.

Work handed to threads (the engine renders templates in a thread pool) is waited for in real time: while any
is in flight the clock does not jump, or a timer (a branch's timeout) would fire before the thread could
answer. Only for code that does no other real I/O: a waiting socket would see the clock jump.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self._in_threads = 0
        real_select = self._selector.select  # type: ignore[attr-defined]

        def select(timeout: float | None = None) -> Any:
            if timeout is None or timeout <= 0:
                return real_select(timeout)  # nothing scheduled, or something ready: no time passes
            ready = real_select(timeout if self._in_threads else 0)
            if not ready:
                self._virtual_now += timeout  # nothing to do until the next timer: jump to it
            return ready

        self._selector.select = select  # type: ignore[attr-defined]

    def time(self) -> float:
        return self._virtual_now

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:  # type: ignore[override]
        future = super().run_in_executor(executor, func, *args)
        self._in_threads += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _: asyncio.Future[Any]) -> None:
        self._in_threads -= 1


class LoopClock:
    """The engine's clock port on a loop's time: spans and budgets see virtual seconds."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.epoch = loop, time.time()

    def monotonic(self) -> float:
        return self.loop.time()

    def now(self) -> float:
        return self.epoch + self.loop.time()


def run_virtual(make: Any) -> Any:
    """Run ``make(clock)`` (a coroutine factory) to the end on a fresh virtual-time loop; returns its result."""
    loop = VirtualTimeLoop()
    try:
        coroutine: Coroutine[Any, Any, Any] = make(LoopClock(loop))
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()

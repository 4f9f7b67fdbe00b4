"""Virtual time for engine tests: runs take no wall time and their timings are exact.

``run_virtual(coro)`` runs a coroutine on an asyncio loop whose clock stands still while anything can run
and, when every task waits for a timer, jumps straight to the next one. So a scripted model's 2 s latency,
a 30 s hang or a 0.1 s timeout cost nothing, and which finishes first is decided by the numbers in the test,
never by a busy machine. ``VirtualClock`` is the engine's Clock port on that same time, so budgets
(max_seconds) and span timestamps agree with the loop.

Work handed to a thread (the engine renders templates in a pool) is real: while any is in flight the loop
waits for it in real time and its clock moves by the real time waited, so no timer fires early behind it.
"""
from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")
EPOCH = 1_800_000_000.0  # what VirtualClock.now() says at virtual time 0


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Polls instead of sleeping; the loop's clock jumps by the time it would have slept."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self.loop
        if loop is None or loop.in_executor or timeout is None:
            started = time.monotonic()
            events = super().select(timeout)
            if loop is not None:
                loop.virtual_now += time.monotonic() - started
            return events
        events = super().select(0)
        if not events and timeout > 0:
            loop.virtual_now += timeout
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self.virtual_now = 0.0
        self.in_executor = 0

    def time(self) -> float:
        return self.virtual_now

    def run_in_executor(self, executor: Executor | None, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self.in_executor += 1
        future.add_done_callback(self._executor_done)
        return future

    def _executor_done(self, _: asyncio.Future[Any]) -> None:
        self.in_executor -= 1


class VirtualClock:
    """The engine's Clock port on the running loop's time (virtual under run_virtual)."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> float:
        return EPOCH + self.monotonic()


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)

"""Virtual time for engine tests: runs take no wall time and their timings are exact.

The loop is the one cost projections run on (``backend/insights/virtual_time.py``): its clock stands still
while anything can run and, when every task waits for a timer, jumps straight to the next one; work handed to
a thread (the engine renders templates in a pool) is waited for in real time, with the clock held, so no timer
fires early behind it. So a scripted model's 2 s latency, a 30 s hang or a 0.1 s timeout cost nothing, and
which finishes first is decided by the numbers in the test, never by a busy machine.

What is the tests' own: ``run_virtual(coro)`` takes a coroutine, and ``VirtualClock`` is the engine's Clock
port on the running loop's time with a fixed epoch, so budgets (max_seconds) and span timestamps agree with
the loop and with the test's numbers.
"""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from backend.insights.virtual_time import VirtualTimeLoop

T = TypeVar("T")
EPOCH = 1_800_000_000.0  # what VirtualClock.now() says at virtual time 0


class VirtualClock:
    """The engine's Clock port on the running loop's time (virtual under run_virtual)."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> float:
        return EPOCH + self.monotonic()


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)

"""The virtual clock the engine tests run on: timers fire in the order of their times, instantly, and never
ahead of real work still running in a thread."""
from __future__ import annotations

import asyncio
import time

from .virtual_time import EPOCH, VirtualClock, run_virtual


def test_timers_fire_in_order_of_their_virtual_time() -> None:
    async def main() -> tuple[list[str], float]:
        order: list[str] = []

        async def after(delay: float, name: str) -> None:
            await asyncio.sleep(delay)
            order.append(name)

        await asyncio.gather(after(30, "slow"), after(0.1, "fast"), after(2, "middle"))
        return order, asyncio.get_running_loop().time()

    order, now = run_virtual(main())
    assert order == ["fast", "middle", "slow"]
    assert now == 30  # the gathered sleeps overlapped: 30 s, not 32.1 s


def test_a_timeout_cuts_a_hang_at_its_virtual_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.sleep(3600), timeout=0.3)
        except TimeoutError:
            return loop.time()
        raise AssertionError("the hang was not cut")

    assert run_virtual(main()) == 0.3


def test_thread_work_is_awaited_before_a_timer_behind_it_fires() -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(None, lambda: time.sleep(0.05) or "done"), timeout=30)

    assert run_virtual(main()) == "done"  # a jumping clock would have timed out at once


def test_the_clock_port_reads_the_loop_time() -> None:
    async def main() -> tuple[float, float]:
        clock = VirtualClock()
        await asyncio.sleep(5)
        return clock.monotonic(), clock.now()

    assert run_virtual(main()) == (5, EPOCH + 5)

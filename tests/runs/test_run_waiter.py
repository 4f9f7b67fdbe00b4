"""One subscription per process tells every local sync caller when its run ends, and loses none.

RunWaiter on Channels' in-memory layer, with the database played by a set of
ended runs (what ``finished_among`` would read): the real Redis layer and
PostgreSQL are exercised by the live endpoint tests.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.layers import InMemoryChannelLayer

from backend.runs import run_waiter as waiter_module
from backend.runs.run_waiter import RunWaiter
from backend.runs.sinks import run_group


class Ended:
    """The database: which runs have ended, and how often it was asked."""

    def __init__(self) -> None:
        self.runs: set[str] = set()
        self.asked = 0

    def __call__(self, fn: Any) -> Any:
        async def call(run_ids: list[str]) -> list[str]:
            self.asked += 1
            return [r for r in run_ids if r in self.runs]

        return call


def completed(run_id: str) -> dict[str, Any]:
    return {"type": "run.events", "events": [{"type": "run.completed", "run_id": run_id, "seq": 9}]}


def test_every_local_waiter_of_a_run_hears_its_end_from_one_subscription() -> None:
    async def scenario() -> tuple[list[bool], float, int]:
        layer, ended = InMemoryChannelLayer(), Ended()
        waiter = RunWaiter(ended, layer)
        started = time.monotonic()
        waits = [asyncio.ensure_future(waiter.wait(run, 5)) for run in ("a", "a", "b")]
        await asyncio.sleep(0.05)
        await layer.group_send(run_group("a"), completed("a"))
        await layer.group_send(run_group("b"), completed("b"))
        results = list(await asyncio.gather(*waits))
        return results, time.monotonic() - started, len(layer.groups)

    results, took, groups_left = asyncio.run(scenario())
    assert results == [True, True, True]
    assert took < 0.5, "live, not from the once-a-second check"
    assert groups_left == 0, "the process channel left every run's group"


def test_a_lost_message_costs_at_most_the_check_interval(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(waiter_module, "CHECK_S", 0.2)

    async def scenario() -> tuple[bool, float, int]:
        layer, ended = InMemoryChannelLayer(), Ended()
        waiter = RunWaiter(ended, layer)
        waits = [asyncio.ensure_future(waiter.wait(f"r{i}", 5)) for i in range(20)]
        await asyncio.sleep(0.05)
        ended.runs.update(f"r{i}" for i in range(20))  # stored, but the message never came
        asked_before = ended.asked
        started = time.monotonic()
        results = await asyncio.gather(*waits)
        return all(results), time.monotonic() - started, ended.asked - asked_before

    every, took, asked = asyncio.run(scenario())
    assert every and took < 0.6
    assert asked <= 2, "one query for all waiters per check, not one per waiter"


def test_a_run_that_ended_before_the_wait_and_a_run_still_going() -> None:
    async def scenario() -> tuple[bool, bool, float]:
        layer, ended = InMemoryChannelLayer(), Ended()
        ended.runs.add("done")
        waiter = RunWaiter(ended, layer)
        done = await waiter.wait("done", 5)
        started = time.monotonic()
        going = await waiter.wait("going", 0.3)
        return done, going, time.monotonic() - started

    done, going, took = asyncio.run(scenario())
    assert done is True and going is False and 0.25 < took < 1.0

"""Running several branches at once, each with its own timeout.

A branch that fails or times out becomes a recorded error value and the
pattern decides what that means. A budget hit is different: it cancels every
branch still running and stops the run, keeping the spans already finished.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .aggregate import BranchOutcome
from .errors import NodeFailed
from .templates import TemplateError


async def run_branches(branches: Sequence[tuple[str, Callable[[], Awaitable[Any]]]],
                       timeout_s: float | Sequence[float | None] | None) -> list[BranchOutcome]:
    """Run (name, start) pairs concurrently; per-branch timeouts; results in the given order."""
    timeouts: list[float | None] = (list(timeout_s) if isinstance(timeout_s, Sequence)
                                    else [timeout_s] * len(branches))

    async def one(name: str, start: Callable[[], Awaitable[Any]], timeout: float | None) -> BranchOutcome:
        try:
            return BranchOutcome(name, True, await asyncio.wait_for(start(), timeout))
        except TimeoutError:
            return BranchOutcome(name, False, error=f"timed out after {timeout:g} s")
        except (NodeFailed, TemplateError) as exc:
            return BranchOutcome(name, False, error=str(exc))

    tasks = [asyncio.create_task(one(name, start, t)) for (name, start), t in zip(branches, timeouts)]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

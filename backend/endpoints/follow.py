"""Follow a run from an async view: wait for its end (sync calls) or read its events (SSE).

Events come from the one run follower (backend/runs/follow.py), ends from the
process's run waiter (backend/runs/run_waiter.py), both on the endpoints'
database pool; this module only says what each caller needs from them.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from backend.runs.follow import DELTAS_MISSED, HEARTBEAT, follow_run
from backend.runs.run_ends import RunEnd
from backend.runs.run_waiter import run_waiter

from .asyncdb import db

log = logging.getLogger(__name__)

__all__ = ["DELTAS_MISSED", "HEARTBEAT", "follow_events", "listening", "wait_finished"]


def listening() -> int | None:
    """A mark to take before starting a run that will be waited on (``wait_finished(since=...)``)."""
    try:
        return run_waiter(db).mark()
    except Exception:
        log.exception("the run waiter could not start; waits will ask the database")
        return None


async def wait_finished(run_id: Any, timeout_s: float, since: int | None = None) -> RunEnd | None:
    """The run's end once it has finished or stopped to wait for a decision; None if it is still going after
    ``timeout_s`` *or* waiting failed.

    Never raises for a failure while waiting (Redis, database): the caller answers 202 with the run's status
    URL, and the run goes on regardless. The process's one run waiter (runs/run_waiter.py) does the waiting:
    nothing sent to Redis and no database check per caller. ``since``: ``listening()``'s mark, taken before
    the run was created (never for an Idempotency-Key replay of an earlier run).
    """
    try:
        return await run_waiter(db).wait(run_id, timeout_s, since)
    except Exception:
        log.exception("waiting on run %s failed; answering with its status URL", run_id)
        return None


def follow_events(run_id: Any, after: int = 0, *, max_s: float = 3600, heartbeat_s: float = 15,
                  gaps: bool = False) -> AsyncGenerator[dict[str, Any], None]:
    """The run's events after ``after`` in order, stored then live, ending with ``run.completed``;
    ``HEARTBEAT`` after ``heartbeat_s`` of silence; with ``gaps``, ``DELTAS_MISSED`` where live deltas may
    have been lost."""
    return follow_run(run_id, after, db=db, max_s=max_s, heartbeat_s=heartbeat_s, gaps=gaps)

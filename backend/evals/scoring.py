"""When an eval item's run finishes, a scoring pass is enqueued for its eval run, at most one waiting at a time.

Scoring item by item (a Celery task each) made 200 items 200 tasks queued behind the runs still waiting, each
paying its own queries; one pass scores everything finished since the last in a few queries. A Redis flag with
``SET NX`` says a pass is waiting; the pass clears it *before* it reads the items, so a run that finishes after
the read sets it again and gets its own pass: no item is left behind.
"""
from __future__ import annotations

from typing import Any

from backend.config.redis_clients import sync_redis

FLAG_TTL_S = 60  # a flag whose pass was lost (a worker died) expires, and the next finished run re-arms it
GATHER_S = 0.2  # a pass waits this long after the first finished run, so it scores many at once


def _flag(eval_run_id: Any) -> str:
    return f"patchbay:evals:score-pending:{eval_run_id}"


def request_pass(eval_run_id: Any) -> bool:
    """Enqueue a scoring pass unless one is already waiting. Returns whether it enqueued one."""
    from .tasks import score_items

    if not sync_redis().set(_flag(eval_run_id), "1", nx=True, ex=FLAG_TTL_S):
        return False
    score_items.apply_async((str(eval_run_id),), countdown=GATHER_S)
    return True


def pass_started(eval_run_id: Any) -> None:
    sync_redis().delete(_flag(eval_run_id))

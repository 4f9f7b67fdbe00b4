"""An eval run's progress, as one snapshot message: the websocket sends it whole, so a missed one costs nothing."""
from __future__ import annotations

import logging
from typing import Any

from channels.layers import get_channel_layer

from .models import EvalRun

log = logging.getLogger(__name__)


def eval_group(eval_run_id: Any) -> str:
    return f"eval-{eval_run_id}"


def snapshot(eval_run: EvalRun) -> dict[str, Any]:
    return {"type": "eval.progress", "id": str(eval_run.pk), "status": eval_run.status, "done": eval_run.done,
            "total": eval_run.total, "summary": eval_run.summary or None}


def publish(eval_run_id: Any) -> None:
    """Send the eval run's snapshot to its group, on the worker's shared loop (called after a commit)."""
    from backend.runs.loop import run_on_loop

    eval_run = EvalRun.objects.filter(pk=eval_run_id).first()
    if eval_run is None:
        return
    try:
        run_on_loop(get_channel_layer().group_send(eval_group(eval_run_id), snapshot(eval_run)))
    except Exception as exc:  # the page polls the row too; a lost snapshot is healed by the next one
        log.warning("eval %s: progress not published (%s)", eval_run_id, exc)

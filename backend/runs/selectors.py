"""Reads: which runs a user may see."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from backend.graphs.authz import Action, can

from .models import Run, RunEvent


def runs_visible_to(user: Any) -> QuerySet[Run]:
    return Run.objects.filter(workspace__membership__user=user)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def run_get(user: Any, run_id: Any) -> Run:
    key = _uuid(run_id)
    run = runs_visible_to(user).filter(pk=key).select_related("graph_version").first() if key else None
    if run is None:
        raise Http404("No such run in your workspaces")
    return run


def run_visible(user: Any, run_id: Any) -> bool:
    """Whether the user may read the run (the websocket asks this): the authz rule, on the run's workspace."""
    key = _uuid(run_id)
    workspace_id = Run.objects.filter(pk=key).values_list("workspace_id", flat=True).first() if key else None
    return workspace_id is not None and can(user, workspace_id, Action.READ)


def events_after(run_id: Any, after: int, limit: int = 10_000) -> list[dict[str, Any]]:
    rows = RunEvent.objects.filter(run_id=run_id, seq__gt=after).order_by("seq").values_list("payload", flat=True)
    return list(rows[:limit])


def run_details_pruned(run_id: Any) -> bool:
    """Whether retention dropped this run's events and span bodies (backend/runs/retention.py marks it)."""
    from .retention import FINAL_EVENT, PRUNED_MARK

    return RunEvent.objects.filter(run_id=run_id, type=FINAL_EVENT, **{f"payload__{PRUNED_MARK}": True}).exists()

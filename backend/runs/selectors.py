"""Reads: which runs a user may see."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from backend.graphs.authz import Action, can

from .callers import request_id_contains, request_id_is, with_callers
from .models import Run, RunEvent, Span


def runs_visible_to(user: Any) -> QuerySet[Run]:
    return Run.objects.filter(workspace__membership__user=user)


@dataclass(frozen=True)
class RunSearch:
    """The runs list's filters, already checked (views.run_search_from parses the query string)."""

    request_id: str = ""
    status: str = ""
    graph: int | None = None
    version: int | None = None
    release: int | None = None  # with graph: that graph's release number; without: a release id
    source: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    cost_above: float | None = None
    latency_above: float | None = None  # engine_ms
    model: str = ""  # runs with a model call answered by this model
    error: str = ""  # part of the error text, any case
    text: str = ""  # ?q=: part of the request id or of the error text


def runs_matching(user: Any, search: RunSearch) -> QuerySet[Run]:
    """The user's runs that pass every filter given, newest first (the ``run_workspace_created`` index)."""
    runs = runs_visible_to(user)
    exact = {"status": search.status, "graph_id": search.graph,
             "graph_version__number": search.version, "source": search.source,
             "created_at__gt": search.created_after, "created_at__lt": search.created_before,
             "cost_usd__gt": search.cost_above, "latency_ms__gt": search.latency_above,
             "error__icontains": search.error}
    runs = runs.filter(**{name: value for name, value in exact.items() if value not in (None, "")})
    if search.request_id:  # kept by the caller's own record (runs/callers.py), not on Run
        runs = runs.filter(request_id_is(search.request_id))
    if search.release is not None:
        runs = runs.filter(release__number=search.release) if search.graph else runs.filter(release_id=search.release)
    if search.model:  # the partial index span_llm_model finds the runs
        runs = runs.filter(pk__in=Span.objects.filter(kind="llm", model=search.model).values("run_id"))
    if search.text:
        runs = runs.filter(request_id_contains(search.text) | Q(error__icontains=search.text))
    return with_callers(runs).order_by("-created_at", "-pk")


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def run_get(user: Any, run_id: Any) -> Run:
    key = _uuid(run_id)
    run = with_callers(runs_visible_to(user).filter(pk=key).select_related("graph_version", "release")).first() \
        if key else None
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

"""Writes: create a run (queued, enqueued on commit) and ask one to stop."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

from backend.config.errors import InvalidRequest
from backend.config.storable import NUL_PROBLEM, nul_path
from backend.engine.validation import BUDGET_SCHEMA, check_input, schema_problems
from backend.graphs.models import Graph, GraphVersion

from .models import Run
from .sinks import finish_run_outside_engine


def run_create(*, graph: Graph, user: Any, input: Any, version_number: int | None = None,
               budget: dict[str, Any] | None = None, source: str = "api", api_key: Any = None,
               request_id: str = "", then: Callable[[str], Any] | None = None) -> Run:
    """Validate and store a queued run, and enqueue it once the transaction commits.

    ``api_key`` and ``request_id`` tag runs started through a published endpoint;
    ``then(run_id)`` may build a Celery signature to run after ``execute_run`` (result callbacks).
    """
    version: GraphVersion | None
    if version_number is None:
        version = graph.latest_version
    else:
        version = graph.versions.filter(number=version_number).first()
    if version is None:
        raise InvalidRequest("No such version.", [{"path": "version", "message": f"graph {graph.pk} has no version "
                                                   f"{version_number}"}])
    size = len(json.dumps(input, default=str))
    if size > settings.PATCHBAY_MAX_INPUT_BYTES:
        raise InvalidRequest("The input is too large.", [{"path": "input", "message": f"{size} bytes; at most "
                                                          f"{settings.PATCHBAY_MAX_INPUT_BYTES}"}])
    nul = nul_path(input, "input")
    if nul is not None:
        raise InvalidRequest("The input cannot be stored.", [{"path": nul, "message": NUL_PROBLEM}])
    problems = [p.to_dict() for p in check_input(version.spec.get("inputs") or {"type": "object"}, input)]
    if budget is not None:
        problems += [p.to_dict() for p in schema_problems(budget, BUDGET_SCHEMA, "budget")]
    if problems:
        raise InvalidRequest("The run request has problems; no run was started.", problems)
    with transaction.atomic():
        run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=version, input=input,
                                 budget=budget or {}, trace_id=uuid.uuid4().hex, source=source, created_by=user,
                                 api_key=api_key, request_id=request_id)
        transaction.on_commit(lambda: _enqueue(run.pk, then))
    return run


def _enqueue(run_id: Any, then: Callable[[str], Any] | None = None) -> None:
    from .tasks import execute_run

    execute_run.apply_async((str(run_id),), link=then(str(run_id)) if then else None)


def run_cancel(*, run: Run) -> Run:
    """Ask a run to stop: a queued run stops at once, a running one at its next step."""
    Run.objects.filter(pk=run.pk, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).update(cancel_requested=True)
    # Still queued: end it here, with its event (a no-op if a worker claimed it meanwhile).
    finish_run_outside_engine(run.pk, Run.Status.CANCELLED, "the run was stopped before it started",
                              expected=Run.Status.QUEUED)
    run.refresh_from_db()
    return run

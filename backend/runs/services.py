"""Writes: create a run (queued, enqueued on commit) and ask one to stop."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Model

from backend.config.errors import InvalidRequest
from backend.config.one_statement import insert_in_one_statement
from backend.config.sizes import input_too_large, max_input_bytes
from backend.config.storable import NUL_PROBLEM, nul_path
from backend.config.unavailable import OUTAGE_ERRORS
from backend.engine.validation import BUDGET_SCHEMA, check_input, schema_problems
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, GraphVersion

from .finished import finish_run
from .models import Run
from .sinks import finish_run_outside_engine
from .spend import check_workspace_cap

log = logging.getLogger(__name__)


def run_create(*, graph: Graph, user: Any, input: Any, version_number: int | None = None,
               budget: dict[str, Any] | None = None, source: str = "api", caller_authorized: bool = False,
               then: Callable[[str], Any] | None = None, fresh: bool = False, release: Any = None,
               version: GraphVersion | None = None, stored_with: Callable[[Run], Model] | None = None) -> Run:
    """Validate and store a queued run, and enqueue it once the transaction commits.

    ``caller_authorized``: an outside caller was authorized already (an API key for its endpoint,
    endpoints/selectors.endpoint_for_call), so there is no user to check; that app records the call itself;
    ``then(run_id)`` may build a Celery signature to run after ``execute_run`` (result callbacks).
    ``fresh`` skips cache reads: every model call is made, and its answer refreshes the cache.
    ``release`` (an endpoint call's) pins the prompt versions the run resolves. ``version``: the graph's
    version, when the caller has read it already (versions never change), instead of ``version_number``.
    ``stored_with(run)``: a new row of the caller's own (an endpoint's call record) stored in the same
    statement as the run (config/one_statement.py: one round trip instead of a transaction of four).
    """
    if not caller_authorized:
        require(user, graph.workspace, Action.RUN_START)
    if version is not None:
        assert version.graph_id == graph.pk, "a version of another graph"
    elif version_number is None:
        version = graph.latest_version
    else:
        version = graph.versions.filter(number=version_number).first()
    if version is None:
        raise InvalidRequest("No such version.", [{"path": "version", "message": f"graph {graph.pk} has no version "
                                                   f"{version_number}"}])
    size = input_too_large(input)
    if size is not None:  # the same measure and limit as published endpoints (config/sizes.py)
        raise InvalidRequest("The input is too large.", [{"path": "input", "message": f"{size} bytes; at most "
                                                          f"{max_input_bytes()}"}])
    nul = nul_path(input, "input")
    if nul is not None:
        raise InvalidRequest("The input cannot be stored.", [{"path": nul, "message": NUL_PROBLEM}])
    problems = [p.to_dict() for p in check_input(version.spec.get("inputs") or {"type": "object"}, input)]
    if budget is not None:
        problems += [p.to_dict() for p in schema_problems(budget, BUDGET_SCHEMA, "budget")]
    if problems:
        raise InvalidRequest("The run request has problems; no run was started.", problems)
    check_workspace_cap(graph.workspace)  # every start passes here: canvas, API, endpoints, OpenAI routes
    run = Run(workspace=graph.workspace, graph=graph, graph_version=version, input=input, budget=budget or {},
              trace_id=uuid.uuid4().hex, source=source, created_by=user, fresh=fresh, release=release)
    if stored_with is not None:
        insert_in_one_statement(run, stored_with(run))  # one statement: atomic on its own
        transaction.on_commit(lambda: enqueue_or_fail(run.pk, then))  # at once outside a transaction
        return run
    with transaction.atomic():
        run.save(force_insert=True)
        transaction.on_commit(lambda: enqueue_or_fail(run.pk, then))
    return run


class QueueUnavailable(Exception):
    """The broker refused a run's message; the run was failed and the caller should answer 503."""

    def __init__(self, run_id: Any, cause: BaseException):
        super().__init__(f"run {run_id} could not be enqueued: {cause}")
        self.run_id = run_id


def enqueue_run(run_id: Any, then: Callable[[str], Any] | None = None) -> None:
    """Send the run to the workers, marking it enqueued first.

    The marker lives in the same Redis as the queue: if Redis restarts without
    persistence it goes together with the message, and the sweep
    (liveness.requeue_lost_runs) sees a queued run without a marker and enqueues
    it again.
    """
    from .dispatch import send_run

    send_run(run_id, then)  # one round trip for both (dispatch.py)


def enqueue_or_fail(run_id: Any, then: Callable[[str], Any] | None = None) -> None:
    """On commit: enqueue, or, with the broker down, end the run at once rather than leave it queued."""
    from .liveness import NEVER_QUEUED

    try:
        enqueue_run(run_id, then)
    except OUTAGE_ERRORS as exc:
        log.warning("run %s could not be enqueued (%s): marked failed", run_id, exc)
        try:
            finish_run_outside_engine(run_id, Run.Status.FAILED, NEVER_QUEUED, expected=Run.Status.QUEUED)
        except OUTAGE_ERRORS:  # the event cannot be published either; the row says it all
            finish_run(run_id, Run.Status.FAILED, expected=Run.Status.QUEUED, error=NEVER_QUEUED)
        raise QueueUnavailable(run_id, exc) from exc


def run_cancel(*, run: Run, user: Any) -> Run:
    """Ask a run to stop: a queued or waiting run stops at once, a running one at its next step."""
    require(user, run.workspace_id, Action.RUN_CANCEL)
    Run.objects.filter(pk=run.pk, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).update(cancel_requested=True)
    # Still queued: end it here, with its event (a no-op if a worker claimed it meanwhile).
    finish_run_outside_engine(run.pk, Run.Status.CANCELLED, "the run was stopped before it started",
                              expected=Run.Status.QUEUED)
    # Waiting for a decision: no worker holds it, so it ends here too (its pending steps are never decided).
    finish_run_outside_engine(run.pk, Run.Status.CANCELLED, "the run was stopped while it waited for a decision",
                              expected=Run.Status.WAITING)
    run.refresh_from_db()
    return run

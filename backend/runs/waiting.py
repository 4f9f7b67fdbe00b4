"""The sink's side of a person in the loop: store what an approval step asks, park the run, wake it.

Called inside the sink's transaction (sinks.persist_events), with the run row locked, so a
decision (approvals.decide, which locks the same row) comes either before the park, and the
run is woken at once, or after it, and wakes the waiting run itself.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction

from .finished import wait_run, wake_run
from .models import Approval, Run, Span


def store_requests(run_id: Any, events: list[dict[str, Any]]) -> list[Approval]:
    """One Approval per ``approval.requested`` event (a repeat of one is ignored); inside the sink's transaction."""
    created = []
    workspace_id = Run.objects.values_list("workspace_id", flat=True).get(pk=run_id)
    for event in events:
        request = dict(event.get("request") or {})
        span = event.get("span") or {}
        requested_at = dt.datetime.fromtimestamp(span.get("started_at") or event["ts"], tz=dt.UTC)
        approval, was_created = Approval.objects.get_or_create(run_id=run_id, node_id=event["node_id"], defaults={
            "workspace_id": workspace_id, "span_id": span.get("span_id") or "", "title": request.get("title") or "",
            "draft": request.get("draft"), "request": request, "requested_at": requested_at,
            "deadline_at": requested_at + dt.timedelta(seconds=int(request.get("max_wait_seconds") or 1)),
            "on_deadline": request.get("on_deadline") or "reject"})
        if was_created:
            created.append(approval)
    for approval in created:
        if approval.request.get("callback_url"):
            transaction.on_commit(_callback_later(approval.pk), robust=True)
    return created


def _callback_later(approval_id: int) -> Callable[[], None]:
    def tell() -> None:
        # Sent by name: the endpoints app delivers callbacks (endpoints/approval_notify.py); runs imports none of it.
        from backend.config.celery import app

        app.send_task("endpoints.notify_approval", args=[approval_id])

    return tell


def park(run_id: Any, totals: dict[str, Any]) -> None:
    """The run stopped at its approval steps: waiting, or woken at once if a decision came meanwhile."""
    if not wait_run(run_id, totals):
        return
    decided = Approval.objects.filter(run_id=run_id, status__in=[Approval.Status.APPROVED, Approval.Status.REJECTED])
    unapplied = Span.objects.filter(run_id=run_id, span_id__in=decided.values("span_id"), status="waiting")
    if unapplied.exists():
        wake(run_id)


def wake(run_id: Any) -> None:
    """Waiting → queued, enqueued once the decision commits (any worker may take it)."""
    from .services import enqueue_or_fail

    if wake_run(run_id):
        transaction.on_commit(lambda: enqueue_or_fail(run_id), robust=True)

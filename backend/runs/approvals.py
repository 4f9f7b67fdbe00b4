"""A person in the loop: approval requests are stored, decided once, and the run woken to go on.

- waiting.py (the sink's side): each ``approval.requested`` becomes an Approval;
  ``run.waiting`` parks the run, or wakes it at once if a decision came meanwhile.
- ``decide`` records a decision once (a filtered UPDATE: a second decision,
  a reused link, a late deadline all find it decided) and wakes a waiting run;
  the worker that claims it resumes from the stored trace (resume_plan.py).
- ``enforce_deadlines`` (celery beat) applies each late step's default action.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import status

from backend.config.errors import InvalidRequest
from backend.graphs.authz import require_decider

from .models import Approval, Run
from .sinks import finish_run_outside_engine
from .waiting import wake

log = logging.getLogger(__name__)

ACTIONS = ("approve", "reject")
MISSED_DEADLINE = "no decision before the deadline"
DEADLINE_FAILED = "the approval step '{node}' had no decision before its deadline"


class AlreadyDecided(InvalidRequest):
    """409: the step was decided already (by someone else, a link, or its deadline)."""

    status_code = status.HTTP_409_CONFLICT


@dataclass(frozen=True)
class DecisionInput:
    action: str  # approve | reject
    output: Any = None  # an edited draft (approve only); None keeps the draft as shown
    fields: dict[str, Any] | None = None  # the form's answers: "reason", and the step's own questions
    via: str = "api"  # canvas | api | link | deadline


def check_decision(approval: Approval, decision: DecisionInput) -> dict[str, Any]:
    """The decision's problems, as a 400 naming each field at fault; returns the form's answers."""
    request, fields = approval.request or {}, dict(decision.fields or {})
    problems = []
    if decision.action not in ACTIONS:
        problems.append({"path": "action", "message": "must be approve or reject"})
    if decision.output is not None and (decision.action != "approve" or not request.get("allow_edit", True)):
        problems.append({"path": "output", "message": "this step does not take an edited draft"
                         if decision.action == "approve" else "only an approval carries an edited draft"})
    if decision.action == "reject" and request.get("require_reason_on_reject", True) \
            and not str(fields.get("reason") or "").strip():
        problems.append({"path": "fields.reason", "message": "a reason is required to reject"})
    for question in request.get("fields") or []:
        if question.get("required", True) and not str(fields.get(question["name"]) or "").strip():
            problems.append({"path": f"fields.{question['name']}", "message": "this answer is required"})
    if problems:
        raise InvalidRequest("The decision has problems; nothing was decided.", problems)
    return fields


def decide(approval: Approval, decision: DecisionInput, *, user: Any = None, by: str = "") -> Approval:
    """Record a decision once and wake the run. ``user`` is checked against the step's deciders;
    without one (a signed link, the deadline) the caller vouched for the decider."""
    if user is not None:
        require_decider(user, approval.workspace_id, (approval.request or {}).get("deciders") or {})
    fields = check_decision(approval, decision) if decision.via != "deadline" else dict(decision.fields or {})
    new_status = Approval.Status.APPROVED if decision.action == "approve" else Approval.Status.REJECTED
    output = approval.draft if decision.output is None else decision.output
    with transaction.atomic():
        # The run row first, as the sink does: a park and a decision are ordered, never interleaved.
        run_status = Run.objects.select_for_update().filter(pk=approval.run_id).values_list("status", flat=True).first()
        if run_status not in (Run.Status.WAITING, Run.Status.RUNNING, Run.Status.QUEUED):
            raise AlreadyDecided("The run is over; there is nothing left to decide.",
                                 [{"path": "approval", "message": f"the run is {run_status}"}], code="conflict")
        moved = Approval.objects.filter(pk=approval.pk, status=Approval.Status.PENDING).update(
            status=new_status, output=output, fields=fields, decided_by=user, decided_via=decision.via,
            decided_by_label=by or (user.get_username() if user is not None else decision.via),
            decided_at=timezone.now(), edited=decision.output is not None and decision.output != approval.draft)
        if not moved:
            raise AlreadyDecided("This step was decided already.",
                                 [{"path": "approval", "message": "it was decided already; a decision is made once"}],
                                 code="conflict")
        if run_status == Run.Status.WAITING:
            wake(approval.run_id)
        # Running: another branch is still going; the run is woken when it parks (see ``park``).
    approval.refresh_from_db()
    return approval


def enforce_deadlines(now: dt.datetime | None = None) -> list[int]:
    """Apply each late step's default action (approve, reject or fail). Returns the approvals acted on."""
    now = now or timezone.now()
    late = list(Approval.objects.filter(status=Approval.Status.PENDING, deadline_at__lte=now,
                                        run__status__in=[Run.Status.WAITING, Run.Status.RUNNING])[:200])
    acted = []
    for approval in late:
        try:
            if approval.on_deadline == "fail":
                _expire(approval)
            else:
                decide(approval, DecisionInput(approval.on_deadline, fields={"reason": MISSED_DEADLINE},
                                               via="deadline"), by="deadline")
            acted.append(approval.pk)
        except AlreadyDecided:  # decided (or the run ended) between the read and now
            continue
    for approval in Approval.objects.filter(status=Approval.Status.EXPIRED, run__status=Run.Status.WAITING)[:200]:
        # Expired while another branch ran; the run has parked since: it fails now.
        finish_run_outside_engine(approval.run_id, Run.Status.FAILED, DEADLINE_FAILED.format(node=approval.node_id),
                                  expected=Run.Status.WAITING)
    if acted:
        log.info("applied the deadline's default action to %d approval steps", len(acted))
    return acted


def _expire(approval: Approval) -> None:
    with transaction.atomic():
        Run.objects.select_for_update().filter(pk=approval.run_id).first()
        moved = Approval.objects.filter(pk=approval.pk, status=Approval.Status.PENDING).update(
            status=Approval.Status.EXPIRED, decided_at=timezone.now(), decided_by_label="deadline",
            decided_via="deadline", fields={"reason": MISSED_DEADLINE})
        if not moved:
            raise AlreadyDecided("decided already", [])
    # Waiting: fail it now. Running (another branch goes on): the next deadline sweep fails it once it parks.
    finish_run_outside_engine(approval.run_id, Run.Status.FAILED, DEADLINE_FAILED.format(node=approval.node_id),
                              expected=Run.Status.WAITING)

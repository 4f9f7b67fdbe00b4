"""A workspace's retention policy: how long finished runs keep their details, and their rows.

Two windows, in days after a run finished:

- ``event_days``: the run's events and its spans' input/output bodies (rendered prompts, answers);
- ``run_days`` (at least ``event_days``): the run row itself with its totals (tokens, cost, latency, status).

A workspace may set either; an empty field means the deployment's default from settings. Admins change the
policy (it deletes data); every member may read it. ``backend/runs/retention.py`` applies it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from backend.audit import describe as audited
from backend.audit.services import audit_if_changed
from backend.config.errors import InvalidRequest

from .authz import Action, require
from .models import Workspace

MAX_DAYS = 36_500  # a century: anything longer is a typo, not a policy


@dataclass(frozen=True)
class RetentionPolicy:
    event_days: int
    run_days: int
    event_days_is_default: bool
    run_days_is_default: bool


def retention_policy(workspace: Workspace) -> RetentionPolicy:
    """The windows in force for a workspace: its own where set, the deployment's default otherwise."""
    event_days = workspace.retention_event_days or settings.PATCHBAY_RETENTION_EVENT_DAYS
    run_days = workspace.retention_run_days or settings.PATCHBAY_RETENTION_RUN_DAYS
    # A default run window shorter than a workspace's own event window would drop rows before their details.
    return RetentionPolicy(event_days=event_days, run_days=max(run_days, event_days),
                           event_days_is_default=workspace.retention_event_days is None,
                           run_days_is_default=workspace.retention_run_days is None)


def _check_days(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidRequest("Bad retention policy.", [
            {"path": field, "message": f"must be a whole number of days from 1 to {MAX_DAYS}, or null for the "
                                       "default"}])
    return value


@transaction.atomic
def workspace_retention_update(*, workspace: Workspace, user: Any, changes: dict[str, Any]) -> RetentionPolicy:
    """Set a workspace's windows (only the fields given; null restores the default). Admins only."""
    require(user, workspace, Action.RETENTION_CHANGE)
    unknown = sorted(set(changes) - {"event_days", "run_days"})
    if unknown:
        raise InvalidRequest("Bad retention policy.", [{"path": f, "message": "unknown field"} for f in unknown])
    event_days = (_check_days("event_days", changes["event_days"]) if "event_days" in changes
                  else workspace.retention_event_days)
    run_days = _check_days("run_days", changes["run_days"]) if "run_days" in changes else workspace.retention_run_days
    effective_events = event_days or settings.PATCHBAY_RETENTION_EVENT_DAYS
    effective_runs = run_days or settings.PATCHBAY_RETENTION_RUN_DAYS
    if effective_runs < effective_events:
        field = "run_days" if "run_days" in changes else "event_days"
        raise InvalidRequest("Bad retention policy.", [
            {"path": field, "message": f"runs must be kept at least as long as their events ({effective_runs} days "
                                       f"for runs < {effective_events} days for events)"}])
    before = audited.retention_state(workspace)
    workspace.retention_event_days, workspace.retention_run_days = event_days, run_days
    workspace.save(update_fields=["retention_event_days", "retention_run_days"])
    audit_if_changed(actor=user, workspace=workspace, action="retention.changed", target=audited.workspace_target(
        workspace), before=before, after=audited.retention_state(workspace))
    return retention_policy(workspace)

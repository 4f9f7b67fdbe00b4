"""A workspace's monthly spend cap: the one check every run start passes, and the admins' view of it.

Spend this month is the cost of the workspace's runs created since the 1st at 00:00 UTC, summed in
PostgreSQL from the ``run_workspace_created`` index (it carries ``cost_usd``), so every web process and
worker sees the same number without a counter of its own to keep in step. Once it reaches
``Workspace.monthly_cap_usd``, :func:`check_workspace_cap` refuses new runs with a 429
``workspace_spend_cap``; ``run_create`` calls it, so canvas and API runs, endpoint calls and the
OpenAI-compatible routes (``endpoints.services.flow_call_start``) all go through it. Runs already going
are not stopped: their cost may carry the month past the cap.

Refusals are counted per workspace and month in Redis (a refusal rolls its transaction back, so a row
would not survive it); admins read the count on ``GET /api/workspaces/<id>/spend/``.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException

from backend.audit import describe as audited
from backend.audit.services import audit_if_changed
from backend.config.errors import InvalidRequest
from backend.config.unavailable import OUTAGE_ERRORS
from backend.graphs.authz import Action, require
from backend.graphs.models import Workspace

from .models import Run

log = logging.getLogger(__name__)

CODE = "workspace_spend_cap"
MAX_CAP_USD = 1e9  # a billion dollars a month: anything larger is a typo
_REFUSALS_TTL = 40 * 24 * 3600  # a month's counter outlives the month by a few days, then goes


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    now = (now or timezone.now()).astimezone(dt.UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: dt.datetime | None = None) -> dt.datetime:
    start = month_start(now)
    return (start + dt.timedelta(days=32)).replace(day=1)


def spend_this_month(workspace_id: int) -> float:
    total = Run.objects.filter(workspace_id=workspace_id, created_at__gte=month_start()).aggregate(
        total=Sum("cost_usd"))["total"]
    return float(total or 0)


def usd(amount: float) -> str:
    return "$" + (f"{amount:.10f}".rstrip("0").rstrip(".") or "0")


class SpendCapReached(APIException):
    """The workspace spent its monthly cap: nothing was started (a 429 in the API's error shape)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = CODE

    def __init__(self, workspace: Workspace, spent: float, cap: float):
        self.retry_after = max(1, int((next_month_start() - timezone.now()).total_seconds()))
        self.wait = self.retry_after  # DRF's handler sends it as Retry-After
        super().__init__(
            f"Workspace '{workspace.name}' has spent {usd(spent)} this month (UTC), reaching its monthly spend "
            f"cap of {usd(cap)}; no run was started. Runs already going continue. The cap resets on the 1st "
            "at 00:00 UTC; an admin of the workspace can raise it.")


def _refusals_key(workspace: Workspace) -> str:
    # The creation time too: a workspace id reused after a database reset starts from zero.
    return (f"patchbay:spend-cap:refused:{workspace.pk}:{int(workspace.created_at.timestamp() * 1e6)}:"
            f"{month_start():%Y-%m}")


def _note_refusal(workspace: Workspace) -> None:
    from backend.config.redis_clients import sync_redis

    try:
        pipe = sync_redis().pipeline()
        pipe.incr(_refusals_key(workspace))
        pipe.expire(_refusals_key(workspace), _REFUSALS_TTL)
        pipe.execute()
    except OUTAGE_ERRORS as exc:  # the refusal stands; only its count is lost
        log.warning("workspace %s: spend-cap refusal not counted (%s)", workspace.pk, exc)


def refusals_this_month(workspace: Workspace) -> int | None:
    """How many starts the cap refused this month; None while Redis is unreachable."""
    from backend.config.redis_clients import sync_redis

    try:
        value = sync_redis().get(_refusals_key(workspace))
    except OUTAGE_ERRORS:
        return None
    return int(value or 0)


def check_workspace_cap(workspace: Workspace) -> None:
    """Refuse a new run once the workspace's month's spend has reached its cap (no cap: nothing to do)."""
    cap = workspace.monthly_cap_usd
    if cap is None:
        return
    spent = spend_this_month(workspace.pk)
    if spent >= cap:
        _note_refusal(workspace)
        log.info("workspace %s: run refused at the monthly spend cap (%s of %s)", workspace.pk, spent, cap)
        raise SpendCapReached(workspace, spent, cap)


@dataclass(frozen=True)
class SpendStatus:
    workspace: int
    monthly_cap_usd: float | None
    warn_at_fraction: float
    spend_this_month: float
    month_start: dt.datetime
    refused_this_month: int | None
    warning: bool  # spend has passed warn_at_fraction of the cap
    reached: bool  # new runs are refused


def spend_status(workspace: Workspace) -> SpendStatus:
    spent = spend_this_month(workspace.pk)
    cap = workspace.monthly_cap_usd
    return SpendStatus(workspace=workspace.pk, monthly_cap_usd=cap, warn_at_fraction=workspace.warn_at_fraction,
                       spend_this_month=spent, month_start=month_start(),
                       refused_this_month=refusals_this_month(workspace),
                       warning=cap is not None and spent >= cap * workspace.warn_at_fraction,
                       reached=cap is not None and spent >= cap)


def _number(field: str, value: Any, low: float, high: float, *, nullable: bool) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise InvalidRequest("Bad spend cap.", [{"path": field, "message": f"must be a number from {low:g} to "
                                                 f"{high:g}" + (", or null for none" if nullable else "")}])
    return float(value)


@transaction.atomic
def spend_cap_update(*, workspace: Workspace, user: Any, changes: dict[str, Any]) -> SpendStatus:
    """Set the cap and/or the warning threshold (only the fields given). Admins only; audited."""
    require(user, workspace, Action.SPEND_CAP_CHANGE)
    unknown = sorted(set(changes) - {"monthly_cap_usd", "warn_at_fraction"})
    if unknown:
        raise InvalidRequest("Bad spend cap.", [{"path": f, "message": "unknown field"} for f in unknown])
    before = audited.spend_cap_state(workspace)
    if "monthly_cap_usd" in changes:
        workspace.monthly_cap_usd = _number("monthly_cap_usd", changes["monthly_cap_usd"], 0, MAX_CAP_USD,
                                            nullable=True)
    if "warn_at_fraction" in changes:
        workspace.warn_at_fraction = _number("warn_at_fraction", changes["warn_at_fraction"], 0.01, 1,
                                             nullable=False) or 1.0
    workspace.save(update_fields=["monthly_cap_usd", "warn_at_fraction"])
    audit_if_changed(actor=user, workspace=workspace, action="spend_cap.changed",
                     target=audited.workspace_target(workspace), before=before,
                     after=audited.spend_cap_state(workspace))
    return spend_status(workspace)

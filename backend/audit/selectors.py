"""Reads of the audit log: who may read a workspace's log, and its entries filtered and paged (newest first)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from backend.config.errors import InvalidRequest
from backend.config.params import optional_int
from backend.graphs.models import Workspace

from .models import AuditEntry

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


@dataclass(frozen=True)
class AuditFilter:
    actions: tuple[str, ...] = ()
    target_type: str | None = None
    actor: str | None = None  # a username as recorded at the time
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_id: int | None = None  # the cursor: entries older than this id
    limit: int = DEFAULT_LIMIT


def _moment(name: str, raw: str, *, end: bool) -> dt.datetime:
    try:  # a bare date first: parse_datetime would read "2026-11-28" as its midnight
        day = parse_date(raw) if _DATE.match(raw) else None
        moment = None if day else parse_datetime(raw)
    except ValueError:
        moment = day = None
    if day is not None:  # a bare date covers the whole day: since=the day's start, until=the next day's start
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
    if moment is None:
        raise InvalidRequest("Bad query parameter.", [{"path": f"query.{name}", "message": "must be an ISO 8601 "
                                                       "date (2026-11-28) or date-time (2026-11-28T09:00:00Z)"}])
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


def parse_filter(query: Any) -> AuditFilter:
    """Read ``?action=&target_type=&actor=&since=&until=&before=&limit=`` totally: anything odd is a 400."""
    actions = tuple(a for raw in query.getlist("action") for a in raw.split(",") if a)
    unknown = [a for a in actions if a not in AuditEntry.Action.values]
    if unknown:
        raise InvalidRequest("Bad query parameter.", [{"path": "query.action", "message": f"unknown action "
                                                       f"'{unknown[0][:60]}'"}])
    since = _moment("since", query["since"], end=False) if query.get("since") else None
    until = _moment("until", query["until"], end=True) if query.get("until") else None
    return AuditFilter(
        actions=actions, target_type=query.get("target_type") or None, actor=query.get("actor") or None,
        since=since, until=until,
        before_id=optional_int(query.get("before"), field="query.before", minimum=1),
        limit=optional_int(query.get("limit"), field="query.limit", default=DEFAULT_LIMIT, minimum=1,
                           maximum=MAX_LIMIT) or DEFAULT_LIMIT)


def audit_entries(workspace: Workspace | None, wanted: AuditFilter) -> QuerySet[AuditEntry]:
    """A workspace's entries (None: the deployment-wide ones), filtered, newest first, not yet paged."""
    entries = AuditEntry.objects.filter(workspace=workspace) if workspace is not None else \
        AuditEntry.objects.filter(workspace__isnull=True)
    if wanted.actions:
        entries = entries.filter(action__in=wanted.actions)
    if wanted.target_type:
        entries = entries.filter(target_type=wanted.target_type)
    if wanted.actor:
        entries = entries.filter(actor_username=wanted.actor)
    if wanted.since:
        entries = entries.filter(created_at__gte=wanted.since)
    if wanted.until:
        entries = entries.filter(created_at__lt=wanted.until)
    if wanted.before_id:
        entries = entries.filter(id__lt=wanted.before_id)
    return entries.order_by("-id")


def audit_page(workspace: Workspace | None, wanted: AuditFilter) -> tuple[list[AuditEntry], int | None]:
    """One page and the cursor for the next (the last id shown), or None at the end."""
    rows = list(audit_entries(workspace, wanted)[: wanted.limit + 1])
    more = len(rows) > wanted.limit
    rows = rows[: wanted.limit]
    return rows, (rows[-1].pk if more else None)

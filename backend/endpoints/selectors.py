"""Reads: endpoints and keys a person may see, what a key may call, and a key's usage and spend."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from backend.config.params import whole_number
from backend.runs.models import Run

from .errors import CallRefused, not_found
from .models import ApiKey, Endpoint, EndpointCall, EndpointRelease


def endpoints_visible_to(user: Any, *, graph: int | None = None) -> QuerySet[Endpoint]:
    """The user's workspaces' endpoints (of one graph if asked), with their release history prefetched."""
    endpoints = Endpoint.objects.filter(workspace__membership__user=user).select_related(
        "graph", "version", "graph__latest_version").prefetch_related(
        Prefetch("releases", queryset=EndpointRelease.objects.select_related("version", "previous_version", "actor",
                                                                                  "release")))
    return endpoints if graph is None else endpoints.filter(graph_id=graph)


def endpoint_get(user: Any, slug: str) -> Endpoint:
    endpoint = endpoints_visible_to(user).filter(slug=slug).first()
    if endpoint is None:
        raise Http404(f"No endpoint '{slug}' in your workspaces")
    return endpoint


def endpoint_for_call(key: ApiKey, slug: str) -> Endpoint:
    """The live endpoint this key may call, or a refusal: 404 unknown/off/other workspace, 403 out of scope."""
    return check_endpoint(key, slug, endpoint_by_slug(slug))


def endpoint_by_slug(slug: str) -> Endpoint | None:
    return Endpoint.objects.select_related("graph", "graph__workspace", "version").filter(slug=slug).first()


def check_endpoint(key: ApiKey, slug: str, endpoint: Endpoint | None) -> Endpoint:
    """``endpoint_for_call``'s rule on a row already read. No I/O."""
    if endpoint is None or not endpoint.is_live or endpoint.workspace_id != key.workspace_id:
        raise not_found(slug)
    if not key.may_call(slug):
        raise CallRefused(403, "permission_denied", f"This API key may call only: {', '.join(key.scopes)}.")
    return endpoint


# Errors are runs that ended badly; a cancelled run was asked to stop, so it is not counted as one.
ERROR_STATUSES = (Run.Status.FAILED, Run.Status.BUDGET_EXCEEDED)
EMPTY_STATS = {"calls": 0, "errors": 0, "running": 0, "p50_ms": None, "p95_ms": None, "cost_usd": 0.0}


def endpoint_stats(endpoint_ids: list[int], *, since: dt.datetime) -> dict[int, dict[str, Any]]:
    """Calls, errors, unfinished calls, p50/p95 of what callers waited (accepted to finished) and cost since
    ``since``, per endpoint, in one aggregate query over the endpoints' call records and their runs.
    """
    if not endpoint_ids:
        return {}
    calls, runs = EndpointCall._meta.db_table, Run._meta.db_table
    waited = "EXTRACT(EPOCH FROM (r.finished_at - r.created_at)) * 1000"  # NULL until the run ends: not ranked
    sql = f"""
        SELECT c.endpoint_id, COUNT(*),
               COUNT(*) FILTER (WHERE r.status = ANY(%s)),
               COUNT(*) FILTER (WHERE r.finished_at IS NULL),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {waited}),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY {waited}),
               COALESCE(SUM(r.cost_usd), 0)
        FROM {calls} c JOIN {runs} r ON r.id = c.run_id
        WHERE c.endpoint_id = ANY(%s) AND c.created_at >= %s
        GROUP BY c.endpoint_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [[str(s) for s in ERROR_STATUSES], list(endpoint_ids), since])
        rows = cursor.fetchall()
    stats = {pk: dict(EMPTY_STATS) for pk in endpoint_ids}
    for pk, count, errors, running, p50, p95, cost in rows:
        stats[pk] = {"calls": count, "errors": errors, "running": running,
                     "p50_ms": None if p50 is None else round(float(p50), 1),
                     "p95_ms": None if p95 is None else round(float(p95), 1), "cost_usd": round(float(cost), 10)}
    return stats


def utc_day_start(now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


_TOTALS = ("calls", "input_tokens", "output_tokens", "cost_usd")


def _usage_of(since: dt.datetime | None) -> dict[str, Any]:
    """A key's calls and what their runs used, from its call records (``EndpointCall.api_key``)."""
    when = Q(calls__created_at__gte=since) if since else Q()
    return {
        "calls": Count("calls", filter=when),
        "input_tokens": Coalesce(Sum("calls__run__input_tokens", filter=when), 0),
        "output_tokens": Coalesce(Sum("calls__run__output_tokens", filter=when), 0),
        "cost_usd": Coalesce(Sum("calls__run__cost_usd", filter=when), 0.0),
    }


def api_keys_visible_to(user: Any) -> QuerySet[ApiKey]:
    """Keys of the user's workspaces, each with its usage today (UTC) and in all, from its runs' totals."""
    today = utc_day_start()
    return ApiKey.objects.filter(workspace__membership__user=user).select_related("created_by").annotate(
        **{f"today_{name}": value for name, value in _usage_of(today).items()},
        **{f"total_{name}": value for name, value in _usage_of(None).items()})


def api_key_get(user: Any, key_id: Any) -> ApiKey:
    key = api_keys_visible_to(user).filter(pk=key_id).first() if whole_number(str(key_id)) is not None else None
    if key is None:
        raise Http404("No such API key in your workspaces")
    return key


def key_usage(key: ApiKey) -> dict[str, dict[str, Any]]:
    """The usage annotations of a key from ``api_keys_visible_to``, as {"today": {...}, "total": {...}}."""
    usage = {}
    for period in ("today", "total"):
        totals = {name: getattr(key, f"{period}_{name}", 0) or 0 for name in _TOTALS}
        totals["tokens"] = totals["input_tokens"] + totals["output_tokens"]
        totals["cost_usd"] = round(float(totals["cost_usd"]), 10)
        usage[period] = totals
    return usage


def key_spent_today(key: ApiKey) -> float:
    """What the key's runs cost since 00:00 UTC (runs still going count when they finish)."""
    total = EndpointCall.objects.filter(api_key=key, created_at__gte=utc_day_start()).aggregate(
        spent=Coalesce(Sum("run__cost_usd"), 0.0))["spent"]
    return float(total)


def runs_visible_to_key(key: ApiKey) -> QuerySet[Run]:
    """Runs a key may read: its workspace's endpoint calls; a key scoped to some endpoints, only its own."""
    runs = Run.objects.filter(workspace_id=key.workspace_id, endpoint_call__api_key__isnull=False)
    return runs.filter(endpoint_call__api_key=key) if key.scopes else runs


def run_for_key(key: ApiKey, run_id: Any) -> Run:
    try:
        pk = uuid.UUID(str(run_id))
    except ValueError:
        pk = None
    run = runs_visible_to_key(key).select_related("graph_version", "endpoint_call").filter(pk=pk).first() if pk else None
    if run is None:
        raise CallRefused(404, "not_found", "No such run for this API key.")
    return run


def run_with_version(run_id: Any) -> Run:
    return Run.objects.select_related("graph_version", "endpoint_call").get(pk=run_id)

"""Each alias's health from its model-call spans over the last 24 h, its breaker, and its recent trips.

One aggregate query per page load (grouped by alias in PostgreSQL, not a query
per alias), one pipelined Redis read for the breakers, one query for events.
A span belongs to the alias the node asked for (``patchbay.model_alias``): a
call the fallback answered counts for the alias that was asked, and is counted
as a fallback. Cache hits made no call and are left out.

Who sees what: staff (who run the registry) see every workspace's calls; anyone
else sees the calls of the workspaces they belong to, so no error text or spend
leaks across workspaces.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from backend.config.redis_clients import sync_redis

from .breaker import read_states
from .models import ModelEvent
from .registry import alias_catalogue

WINDOW = timedelta(hours=24)
EVENTS_PER_ALIAS = 5

_HEALTH_SQL = """
SELECT s.attributes->>'patchbay.model_alias' AS alias,
       count(*) AS calls,
       count(*) FILTER (WHERE s.status = 'failed') AS failed,
       count(*) FILTER (WHERE s.attributes ? 'patchbay.fallback_from') AS fallbacks,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) AS p95_ms,
       coalesce(sum(s.cost_usd) FILTER (WHERE s.started_at >= %(today)s), 0) AS spend_today_usd,
       (array_agg(s.error ORDER BY s.started_at DESC) FILTER (WHERE s.status = 'failed'))[1] AS last_error,
       max(s.started_at) FILTER (WHERE s.status = 'failed') AS last_error_at
FROM runs_span s JOIN runs_run r ON r.id = s.run_id
WHERE s.kind = 'llm' AND NOT s.cache_hit AND s.status IN ('succeeded', 'failed') AND s.started_at >= %(since)s
  AND (%(all)s OR r.workspace_id IN (SELECT m.workspace_id FROM graphs_membership m WHERE m.user_id = %(user)s))
GROUP BY 1
"""

EMPTY = {"calls": 0, "failed": 0, "fallbacks": 0, "error_rate": None, "p50_ms": None, "p95_ms": None,
         "spend_today_usd": 0.0, "last_error": "", "last_error_at": None}


def health_by_alias(user: Any) -> dict[str, dict[str, Any]]:
    now = timezone.now()
    params = {"since": now - WINDOW, "today": now.replace(hour=0, minute=0, second=0, microsecond=0),
              "all": bool(getattr(user, "is_staff", False)), "user": getattr(user, "pk", None)}
    with connection.cursor() as cursor:
        cursor.execute(_HEALTH_SQL, params)
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    result = {}
    for row in rows:
        alias = row.pop("alias")
        if alias is None:
            continue
        row["error_rate"] = row["failed"] / row["calls"] if row["calls"] else None
        row["spend_today_usd"] = float(row["spend_today_usd"])
        row["last_error"] = row["last_error"] or ""
        row["last_error_at"] = row["last_error_at"].isoformat() if row["last_error_at"] else None
        result[alias] = row
    return result


def recent_events(aliases: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The last few trips and recoveries of each alias (one query; a window function keeps the few per alias)."""
    events: dict[str, list[dict[str, Any]]] = {a: [] for a in aliases}
    rows = ModelEvent.objects.raw(
        "SELECT * FROM (SELECT e.*, row_number() OVER (PARTITION BY alias ORDER BY at DESC, id DESC) AS n "
        "FROM providers_modelevent e WHERE alias = ANY(%s)) t WHERE n <= %s ORDER BY at DESC, id DESC",
        [aliases, EVENTS_PER_ALIAS])
    for e in rows:
        events[e.alias].append({"kind": e.kind, "detail": e.detail, "at": e.at.isoformat()})
    return events


def models_overview(user: Any) -> list[dict[str, Any]]:
    """What the Models page shows: every alias's settings, health, breaker and recent breaker events."""
    catalogue = alias_catalogue()
    aliases = [e["alias"] for e in catalogue]
    health = health_by_alias(user)
    breakers = read_states(sync_redis(), aliases)
    events = recent_events(aliases)
    return [{**entry, "health": health.get(entry["alias"], dict(EMPTY)), "breaker_state": breakers[entry["alias"]],
             "events": events[entry["alias"]]} for entry in catalogue]

"""``GET /api/health/``: is Patchbay ready to run flows? 200 when it is, 503 (and why) when it is not.

Ready means every part a run needs answers: this web process (it is answering), PostgreSQL (``SELECT 1``),
Redis, and at least one Celery worker that has said it takes tasks within the last three heartbeats
(backend/runs/worker_presence.py). A load balancer, ``docker compose``'s healthcheck, ``manage.py serve`` and the
start benchmark all wait on this one answer. Public and cheap: counts, never hostnames or URLs.

``models`` counts the ready workers by the state of their model gateway (``loaded``, ``loading``, ``on first
use``, ``failed``): a worker still loading takes runs, which wait for the load (backend/runs/worker_start.py).
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import redis
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from backend.config.unavailable import RETRY_AFTER_S
from backend.runs.worker_presence import fresh_for_s, ready_workers

log = logging.getLogger(__name__)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ready"
    except DatabaseError as exc:
        log.warning("health: the database does not answer (%s)", exc)
        return "unavailable"


def health_report() -> dict[str, Any]:
    """What ``GET /api/health/`` answers, with ``problems`` (the parts not ready) empty when all are."""
    report: dict[str, Any] = {"web": "ready", "database": _database(), "redis": "ready", "workers": 0,
                              "models": {}}
    problems = []
    if report["database"] != "ready":
        problems.append({"path": "database", "message": "PostgreSQL does not answer"})
    try:
        workers = ready_workers()
        report["workers"] = len(workers)
        report["models"] = dict(Counter(str(w.get("models", "unknown")) for w in workers))
        if not workers:
            problems.append({"path": "workers", "message": f"no worker has reported ready in the last "
                                                           f"{fresh_for_s()} s"})
    except redis.RedisError as exc:
        log.warning("health: Redis does not answer (%s)", exc)
        report["redis"] = "unavailable"
        problems.append({"path": "redis", "message": "Redis does not answer"})
    report["status"] = "ready" if not problems else "not_ready"
    report["problems"] = problems
    return report


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    report = health_report()
    if report["problems"]:
        body = {"error": "not_ready", "message": "Patchbay is not ready: " + "; ".join(
            p["message"] for p in report["problems"]) + ".", **report}
        response = JsonResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
    else:
        response = JsonResponse(report)
    response["Cache-Control"] = "no-store"
    return response

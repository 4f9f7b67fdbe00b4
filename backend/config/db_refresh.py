"""Before each ORM call of a long-lived thread: what Django's request cycle does, minus most health checks.

``close_old_connections`` marks every connection for a health check, so with
``CONN_HEALTH_CHECKS`` the next query first sends ``SELECT 1``: one extra round
trip per ORM call, which the endpoints' and the worker's database threads make
many times per run (a fifth of the web process's database time at 8 clients,
bench/published_path.py). A connection this thread used less than
``HEALTH_CHECK_IDLE_S`` ago is not checked again: it was fine a moment ago, and
if the database dropped it since, the call fails like any other query does
during an outage (the worker's ``recovering`` reconnects and retries once; a
flow call answers 503), and Django then checks it before the next use
(``errors_occurred``). Idle connections, and any that had an error, are checked
as before; ``CONN_MAX_AGE`` still closes old ones.
"""
from __future__ import annotations

import time

from django.db import connections

HEALTH_CHECK_IDLE_S = 1.0


def refresh_connections() -> None:
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        recent = conn.connection is not None and now - getattr(conn, "patchbay_used_at", -1e9) < HEALTH_CHECK_IDLE_S
        conn.close_if_unusable_or_obsolete()  # errors, autocommit left off, past CONN_MAX_AGE: closed
        if recent and conn.connection is not None and not conn.errors_occurred:
            conn.health_check_done = True  # type: ignore[attr-defined]  # Django's, not in the stubs
        setattr(conn, "patchbay_used_at", now)  # noqa: B010  # ours, on Django's wrapper

"""A cursor for the run path's few hot statements that PostgreSQL parses and plans once per connection.

Measured (bench/postgres_per_run.py with perf on the backends, issue 16): of PostgreSQL's CPU per published
run, parsing, analysing and planning statements took ~45 %, writing rows and their index entries under 10 %.
Django's cursors bind parameters client-side (the simple query protocol: each statement arrives as new text),
so PostgreSQL parses and plans the sink's batch statement, the cancel check and the run row's updates afresh
every time. This cursor binds server-side and asks psycopg to prepare each statement: the first execution on a
connection prepares it, later ones run the prepared statement. Django turns psycopg's preparing off for the
whole connection (``prepare_threshold=None``, for transaction-mode poolers: there is none here, and PgBouncer
1.21+ keeps protocol-level prepared statements with ``max_prepared_statements``); it is turned back on for the
connection, which changes nothing for Django's own cursors: they bind client-side and psycopg never prepares
those. Same SQL and parameters, same results and
errors, without the parse and the plan. psycopg keeps at most ``prepared_max`` (100) per connection, evicting
the least recently used, and a new connection starts afresh.

Only statements written for it use it (``trace_writes``): their parameters all have a type PostgreSQL can infer
from the statement, which server-side binding needs. The cursor is still Django's (``make_cursor``): errors are
translated to ``django.db`` errors, the statements are logged where Django logs them, and they run in the
connection's current transaction.
"""
from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper

PREPARE_THRESHOLD = 5  # psycopg's default; only server-binding cursors (this module's) are ever prepared
_ServerBinding: Any = ServerBindingCursor  # psycopg.Cursor with Django's mixin (the stubs know neither)


class _PreparingCursor(_ServerBinding):
    """Binds server-side and prepares every statement it runs (unless told ``prepare=False``)."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)


def prepared_cursor() -> CursorWrapper:
    """Django's cursor on the default connection, binding parameters server-side (see the module docstring)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            connection.connection.prepare_threshold = PREPARE_THRESHOLD
        raw = _PreparingCursor(connection.connection)
        return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)

"""A cursor for the run path's few hot statements that PostgreSQL parses and plans once per connection.

Measured (bench/postgres_per_run.py with perf on the backends, issue 16): of PostgreSQL's CPU per published
run, parsing, analysing and planning statements took ~45 %, writing rows and their index entries under 10 %.
Django's cursors bind parameters client-side (the simple query protocol: each statement arrives as new text),
so PostgreSQL parses and plans the sink's batch statement, the cancel check and the run row's updates afresh
every time. A cursor that binds server-side lets psycopg prepare a statement once it has run a few times on a
connection (its ``prepare_threshold``, 5) and execute the prepared one afterwards: the same SQL and parameters,
the same results and errors, without the parse and the plan.

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


def prepared_cursor() -> CursorWrapper:
    """Django's cursor on the default connection, binding parameters server-side (see the module docstring)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # (the stubs know neither this psycopg 3 cursor class's arguments nor that Django wraps it)
        raw: Any = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
        return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)

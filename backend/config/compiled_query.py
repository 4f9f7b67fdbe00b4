"""A query compiled to SQL once per process and run many times with one value changed.

The ORM compiles a queryset on every evaluation. For a small query that runs once per run in the worker (the
claim's locked SELECT with its annotation, the run-finished hook's lookups) compiling cost more CPU than the
database spent answering, and the SQL is the same every time but for the run's id. Here the queryset is built
and compiled once with a placeholder value no row has, and each call swaps the real value in at the
placeholder's parameter positions: the ORM still writes the SQL (joins, quoting, locks), only not every time.

Only for querysets whose SQL does not depend on the value itself (an equality on a key, not ``__in`` of a
list, not ``None``), and that are built after the apps are ready.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import RawQuerySet


class CompiledQuery:
    """``build(value)`` → a queryset; ``rows(value)`` / ``models(value)`` run its SQL compiled once, ``statement(value)``
    gives it to a caller that runs it inside its own (runs/run_finished_claim.py)."""

    def __init__(self, build: Callable[[Any], QuerySet[Any]], placeholder: Any, using: str = "default"):
        self._build, self._placeholder, self._using = build, placeholder, using
        self._compiled: tuple[type[Model], str, tuple[Any, ...], tuple[int, ...]] | None = None
        self._lock = threading.Lock()

    def _sql(self) -> tuple[type[Model], str, tuple[Any, ...], tuple[int, ...]]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    queryset = self._build(self._placeholder)
                    sql, params = queryset.query.get_compiler(using=self._using).as_sql()
                    at = tuple(i for i, p in enumerate(params) if str(p) == str(self._placeholder))
                    assert at, "the placeholder is one of the query's parameters"
                    self._compiled = queryset.model, sql, tuple(params), at
        return self._compiled

    def statement(self, value: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters for ``value``, to run or to embed in a larger statement (a CTE's SELECT)."""
        _, sql, params, at = self._sql()
        values = list(params)
        for i in at:
            values[i] = value
        return sql, values

    def rows(self, value: Any) -> list[tuple[Any, ...]]:
        """The rows as the database driver answers them (no field conversion: for plain columns)."""
        sql, params = self.statement(value)
        with connections[self._using].cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def models(self, value: Any) -> RawQuerySet[Any]:
        """Model instances with converted fields; an annotation becomes an attribute of the same name."""
        sql, params = self.statement(value)
        model = self._sql()[0]
        return model._default_manager.db_manager(self._using).raw(sql, params)

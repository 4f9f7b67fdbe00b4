"""A batch of a run's trace written in three plain statements: lock the run, insert the events, upsert the spans;
and the run row's own guarded updates (claim, end, hook flag) as one plain statement each.

The sink writes a batch every few milliseconds of every run, and the ORM's ``bulk_create`` spent ~1.5 ms of CPU
per batch compiling SQL for a handful of rows (2.3 ms against 0.8 ms for the same rows here, measured on a
batch of three events and two spans). The statements are built once from the models' own fields, and every
value still goes through its field's ``get_db_prep_save`` (JSON, dates, defaults, ``auto_now_add``), so the
models remain the one description of these tables. Must run inside a transaction (the caller's).

Errors are the ORM's: the cursor is Django's, so a value PostgreSQL refuses raises ``DataError`` /
``IntegrityError`` and a dropped connection ``OperationalError``, as ``bulk_create`` did.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

from .models import Run, RunEvent, Span

# Rows per INSERT: far under PostgreSQL's 65,535 parameters per statement (a span has 20 columns), large enough
# that a batch the sink gathered while the database was away still takes a few statements, not thousands.
ROWS_PER_STATEMENT = 500


def _quoted(name: str | None) -> str:
    assert name, "a concrete field has a column"
    return connection.ops.quote_name(name)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return _quoted(field.column)


@functools.cache
def _columns(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The columns an insert writes: every concrete field but an automatic primary key."""
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField)))


@functools.cache
def _insert_head(model: type[models.Model]) -> str:
    names = ", ".join(_quoted(f.column) for f in _columns(model))
    return f"INSERT INTO {_quoted(model._meta.db_table)} ({names}) VALUES "


@functools.cache
def _span_conflict(update: tuple[str, ...]) -> str:
    key = ", ".join(_column(Span, name) for name in ("run", "span_id"))
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in (_column(Span, name) for name in update))
    return f" ON CONFLICT ({key}) DO UPDATE SET {sets}"


def _values(rows: Sequence[models.Model]) -> list[Any]:
    fields = _columns(type(rows[0]))
    return [f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows for f in fields]


def _insert(rows: Sequence[models.Model], suffix: str = "") -> None:
    if not rows:
        return
    model = type(rows[0])
    one = "(" + ", ".join(["%s"] * len(_columns(model))) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            cursor.execute(_insert_head(model) + ", ".join([one] * len(chunk)) + suffix, _values(chunk))


def lock_run_status(run_id: Any) -> str | None:
    """The run's status, with its row locked until the transaction ends (None: no such run)."""
    pk = Run._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_column(Run, 'status')} FROM {_quoted(Run._meta.db_table)} "
                       f"WHERE {_quoted(pk.column)} = %s FOR UPDATE", [pk.get_db_prep_value(run_id, connection)])
        row = cursor.fetchone()
    return None if row is None else row[0]


@functools.cache
def _cancel_sql() -> str:
    pk = Run._meta.pk
    assert pk is not None
    return (f"SELECT {_column(Run, 'cancel_requested')} FROM {_quoted(Run._meta.db_table)} "
            f"WHERE {_quoted(pk.column)} = %s")


def run_cancel_requested(run_id: Any) -> bool:
    """Whether someone asked the run to stop (a running run asks this while its steps wait, several times a
    second: a plain statement, not an ORM query compiled each time)."""
    pk = Run._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(_cancel_sql(), [pk.get_db_prep_value(run_id, connection)])
        row = cursor.fetchone()
    return bool(row and row[0])


@functools.cache
def _update_sql(names: tuple[str, ...], equal: tuple[str, ...], statuses: int) -> str:
    pk = Run._meta.pk
    assert pk is not None
    sets = ", ".join(f"{_column(Run, name)} = %s" for name in names)
    where = " AND ".join([f"{_quoted(pk.column)} = %s", *(f"{_column(Run, name)} = %s" for name in equal)])
    if statuses:
        where += f" AND {_column(Run, 'status')} IN ({', '.join(['%s'] * statuses)})"
    return f"UPDATE {_quoted(Run._meta.db_table)} SET {sets} WHERE {where}"


def _prepared(values: dict[str, Any]) -> list[Any]:
    prepared = []
    for name, value in values.items():
        field = Run._meta.get_field(name)
        assert isinstance(field, models.Field)
        prepared.append(field.get_db_prep_save(value, connection))
    return prepared


def update_run(run_id: Any, fields: dict[str, Any], *, statuses: Sequence[str] = (),
               where: dict[str, Any] | None = None) -> int:
    """``Run.objects.filter(pk=run_id, status__in=statuses, **where).update(**fields)``, not compiled each time.

    The run row is updated a few times per run (claimed, ended, its hook claimed), and the ORM spent about a
    millisecond of CPU compiling each of these one-row UPDATEs. Values still go through their fields'
    ``get_db_prep_save`` (``None`` is SQL NULL, as ``update`` writes it). Returns the rows updated (0 or 1).
    """
    pk = Run._meta.pk
    assert pk is not None
    where = where or {}
    sql = _update_sql(tuple(fields), tuple(where), len(statuses))
    params = [*_prepared(fields), pk.get_db_prep_value(run_id, connection), *_prepared(where), *map(str, statuses)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def insert_events(events: Iterable[RunEvent]) -> None:
    _insert(list(events))


def upsert_spans(spans: Iterable[Span], update: Sequence[str]) -> None:
    """Insert the spans; one already stored (same run and span id) gets ``update``'s fields overwritten."""
    _insert(list(spans), _span_conflict(tuple(update)))

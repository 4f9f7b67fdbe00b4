"""A batch of a run's trace written in one statement (lock the run, insert the events, upsert the spans), and
the run row's own guarded updates (claim, end, hook flag) as one plain statement each.

The sink writes a batch every few milliseconds of every run. The ORM's ``bulk_create`` spent ~1.5 ms of CPU per
batch compiling SQL; plain statements with a parameter per column per row then spent most of a batch's CPU in
psycopg binding (and quoting) each JSON value client-side, and three statements plus BEGIN/COMMIT cost five
round trips. Here a batch is one statement with data-modifying CTEs, and its rows travel as ONE JSON document
per table that PostgreSQL expands with ``jsonb_populate_recordset`` over the table's own row type: one round
trip, one parse, one bound value per table. Every value still goes through its field's ``pre_save`` and
``get_prep_value`` (defaults, ``auto_now_add``, ``int()`` of a count), and the row type is the table's, so the
models remain the one description of these tables (a value too long for a column is refused as before).

Errors are the ORM's: the cursor is Django's, so a value PostgreSQL refuses raises ``DataError`` /
``IntegrityError`` and a dropped connection ``OperationalError``, as ``bulk_create`` did.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from .models import Run, RunEvent, Span
from .prepared import prepared_cursor


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


def _plain(value: Any) -> Any:
    """A prepared value as JSON can carry it to PostgreSQL (which reads it back with the column's input)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()  # exact to the microsecond; timestamptz reads the offset
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _json_rows(rows: Sequence[models.Model]) -> str:
    """The rows as one JSON array of objects keyed by column, each value as its field prepares it for saving."""
    fields = _columns(type(rows[0])) if rows else ()
    return json.dumps([{f.column: _plain(f.get_prep_value(f.pre_save(row, True))) for f in fields}
                       for row in rows])


def _rows_of(model: type[models.Model]) -> str:
    """SELECT the JSON rows (parameter 1) in their order, only while the locked run has status parameter 2."""
    table = _quoted(model._meta.db_table)
    names = ", ".join(_quoted(f.column) for f in _columns(model))
    picked = ", ".join(f"r.{_quoted(f.column)}" for f in _columns(model))
    return (f"INSERT INTO {table} ({names}) SELECT {picked} FROM locked, "
            f"ROWS FROM (jsonb_populate_recordset(NULL::{table}, %s::jsonb)) WITH ORDINALITY AS r "
            f"WHERE locked.status = %s ORDER BY r.ordinality")


@functools.cache
def _batch_sql(update: tuple[str, ...], end: tuple[str, ...] = ()) -> str:
    pk = Run._meta.pk
    assert pk is not None
    table = _quoted(Run._meta.db_table)
    key = ", ".join(_column(Span, name) for name in ("run", "span_id"))
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in (_column(Span, name) for name in update))
    # The lock is taken first (both inserts read ``locked``) and held to the end of the transaction: it orders
    # the batch against the sweep's finish_run_outside_engine, which locks the row too. Under READ COMMITTED a
    # lock that waited reads the row as the other writer left it, so a run ended meanwhile gets nothing.
    sql = (f"WITH locked AS (SELECT {_column(Run, 'status')} AS status FROM {table} "
           f"WHERE {_quoted(pk.column)} = %s FOR UPDATE), "
           f"events AS ({_rows_of(RunEvent)}), "
           f"spans AS ({_rows_of(Span)} ON CONFLICT ({key}) DO UPDATE SET {sets})")
    if not end:
        return f"{sql} SELECT status FROM locked"
    # The run's end in the same statement, from the status the lock read (finished.finish_run's guard, under
    # the same lock): the run's last events and its end commit together, with no BEGIN, UPDATE and COMMIT
    # round trips of their own.
    status = _column(Run, "status")
    ends = ", ".join(f"{_column(Run, name)} = %s" for name in end)
    return (f"{sql}, ended AS (UPDATE {table} SET {ends} FROM locked WHERE {table}.{_quoted(pk.column)} = %s "
            f"AND locked.status = %s AND {table}.{status} = %s RETURNING 1) "
            f"SELECT status, EXISTS (SELECT 1 FROM ended) FROM locked")


def _batch_params(run_id: Any, events: Sequence[RunEvent], spans: Sequence[Span]) -> list[Any]:
    pk = Run._meta.pk
    assert pk is not None
    running = str(Run.Status.RUNNING)
    return [pk.get_db_prep_value(run_id, connection), _json_rows(events), running, _json_rows(spans), running]


def store_batch(run_id: Any, events: Sequence[RunEvent], spans: Sequence[Span], update: Sequence[str]) -> str | None:
    """Lock the run; if it is running, insert ``events`` and upsert ``spans`` (a span already stored, same run
    and span id, gets ``update``'s fields overwritten). One statement: atomic on its own, or part of the
    caller's transaction. Returns the run's status as locked (None: no such run); nothing is written unless
    it is ``running``. Spans must have distinct ids (one upsert cannot touch a row twice)."""
    with prepared_cursor() as cursor:
        cursor.execute(_batch_sql(tuple(update)), _batch_params(run_id, events, spans))
        row = cursor.fetchone()
    return None if row is None else row[0]


def store_batch_and_end(run_id: Any, events: Sequence[RunEvent], spans: Sequence[Span], update: Sequence[str],
                        end: dict[str, Any]) -> tuple[str | None, bool]:
    """``store_batch``, and in the same statement the run's end: ``end``'s columns (finished.end_fields)
    written only if the locked run is running. Returns (the status as locked, whether the end was written)."""
    pk = Run._meta.pk
    assert pk is not None
    running = str(Run.Status.RUNNING)
    params = [*_batch_params(run_id, events, spans), *_prepared(end), pk.get_db_prep_value(run_id, connection),
              running, running]
    with prepared_cursor() as cursor:
        cursor.execute(_batch_sql(tuple(update), tuple(end)), params)
        row = cursor.fetchone()
    return (None, False) if row is None else (row[0], bool(row[1]))


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
    with prepared_cursor() as cursor:
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
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)

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

The rows themselves are not model instances: ``Model.__init__`` (its pre_init/post_init signals, its walk over
every field) ran for every event and span only for its values to be read straight back out. A row is a ``Row``
(the field values by attname) and ``json_rows`` prepares it column by column from a plan made once per model
from ``_meta.concrete_fields`` (see ``_Column``): a chain3 run's rows took 535 µs of CPU that way and take 223 µs
now (bench/sink_rows.py), and the worker's database threads spend ~0.8 ms less per run in the sink
(bench/results.md, sink_rows).

Errors are the ORM's: the cursor is Django's, so a value PostgreSQL refuses raises ``DataError`` /
``IntegrityError`` and a dropped connection ``OperationalError``, as ``bulk_create`` did.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

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


def _plain(value: Any) -> Any:
    """A prepared value as JSON can carry it to PostgreSQL (which reads it back with the column's input)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()  # exact to the microsecond; timestamptz reads the offset
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class Row(dict[str, Any]):
    """A row to store: its fields' values keyed by attname (``run_id``, ``seq``...), as keyword arguments to the
    model would give them. Also readable and settable as attributes, as a field's ``pre_save`` reads (and, for
    ``auto_now_add``, sets) them on an instance. A field left out gets its default, as ``Model.__init__`` gives."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


_NONE = type(None)
_JSON_TYPES: frozenset[type] = frozenset({dict, list, str, int, float, bool, _NONE})
# Django's own get_prep_value implementations, and the exact types of value each returns as it is (and that
# _plain leaves alone): a value of one of these types is stored without the call. The key is the function
# itself, so a field class that prepares values its own way (a subclass overriding get_prep_value) is not
# in here and is always called; so is the foreign key's (a UUID string is parsed), once per value in a batch.
# DateTimeField's is skipped for an aware datetime only (_preparer). tests/runs/test_trace_rows.py holds each
# entry to the call it skips.
_UNCHANGED: dict[Any, frozenset[type]] = {
    models.Field.get_prep_value: _JSON_TYPES,  # JSONField: only a lazy translation string is cast
    models.CharField.get_prep_value: frozenset({str, _NONE}),  # str(value) unless a str or None
    models.TextField.get_prep_value: frozenset({str, _NONE}),
    models.IntegerField.get_prep_value: frozenset({int, _NONE}),  # int(value): a bool becomes 0 or 1
    models.FloatField.get_prep_value: frozenset({float, _NONE}),  # float(value): an int becomes a float
    models.BooleanField.get_prep_value: frozenset({bool, _NONE}),
}


def _skips_get_prep_value(field: models.Field[Any, Any]) -> frozenset[type]:
    """The exact types of value the field's ``get_prep_value`` returns as it is (and ``_plain`` leaves alone)."""
    return _UNCHANGED.get(type(field).get_prep_value, frozenset())


def _preparer(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """The value as stored: the field's ``get_prep_value``, then ``_plain``."""
    get_prep_value = field.get_prep_value
    if type(field).get_prep_value is models.DateTimeField.get_prep_value:
        def prepare_datetime(value: Any) -> Any:
            if type(value) is dt.datetime and value.utcoffset() is not None:
                return value.isoformat()  # get_prep_value returns an aware datetime as it is
            return _plain(get_prep_value(value))  # a naive one is warned about and made aware; a string parsed

        return prepare_datetime
    return lambda value: _plain(get_prep_value(value))


def _own_pre_save(field: models.Field[Any, Any]) -> bool:
    """Whether the field's ``pre_save`` does more than read the value (``auto_now_add`` stamps the time)."""
    if isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add):
        return False  # DateField.pre_save only stamps when asked to
    return type(field).pre_save is not models.Field.pre_save


class _Column(NamedTuple):
    """How one column's value is made from a row: the field's default when the row leaves it out, its
    ``pre_save`` when it does more than read the value, then its ``get_prep_value`` (skipped for a value it
    would return as it is) and ``_plain``."""

    name: str
    attname: str
    default: Callable[[], Any]
    pre_save: Callable[[Any, bool], Any] | None
    unchanged: frozenset[type]
    prepare: Callable[[Any], Any]
    # A foreign key's rows in one batch mostly name one parent (the run): its value is prepared once.
    same_value: bool


def _column_of(field: models.Field[Any, Any]) -> _Column:
    assert field.column, "a concrete field has a column"
    return _Column(field.column, field.attname, field.get_default, field.pre_save if _own_pre_save(field) else None,
                   _skips_get_prep_value(field), _preparer(field), field.is_relation)


@functools.cache
def _columns(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The columns an insert writes: every concrete field but an automatic primary key."""
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField)))


@functools.cache
def _plan(model: type[models.Model]) -> tuple[tuple[_Column, ...], frozenset[str]]:
    """The columns' preparations, and every attname a row may give (the automatic primary key's too)."""
    return tuple(_column_of(f) for f in _columns(model)), frozenset(f.attname for f in model._meta.concrete_fields)


_MISSING = object()


def json_rows(model: type[models.Model], rows: Sequence[Row]) -> str:
    """The rows as one JSON array of objects keyed by column, each value as its field prepares it for saving:
    what ``f.get_prep_value(f.pre_save(model(**row), True))`` gives for each column, without a model instance.
    A row that leaves a field out gets its default, written into it (as an instance would hold it)."""
    columns, names = _plan(model)
    seen: dict[str, tuple[Any, Any]] = {}  # a foreign key's last value and its preparation
    out = []
    for row in rows:
        document = {}
        for name, attname, default, pre_save, unchanged, prepare, same_value in columns:
            value = row.get(attname, _MISSING)
            if value is _MISSING:  # Model.__init__: a field not given gets its default
                value = row[attname] = default()
            if pre_save is not None:
                value = pre_save(row, True)
            if type(value) not in unchanged:
                if same_value:
                    last = seen.get(name)
                    if last is None or last[0] is not value:
                        last = seen[name] = (value, prepare(value))
                    value = last[1]
                else:
                    value = prepare(value)
            document[name] = value
        if len(row) > len(columns) and not names.issuperset(row):  # as Model.__init__ refuses an unknown name
            raise TypeError(f"{model.__name__} has no field named {sorted(set(row) - names)[0]!r}")
        out.append(document)
    return json.dumps(out)


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


def _batch_params(run_id: Any, events: str, spans: str) -> list[Any]:
    pk = Run._meta.pk
    assert pk is not None
    running = str(Run.Status.RUNNING)
    return [pk.get_db_prep_value(run_id, connection), events, running, spans, running]


def store_batch(run_id: Any, events: str, spans: str, update: Sequence[str]) -> str | None:
    """Lock the run; if it is running, insert the ``events`` and upsert the ``spans`` (each a JSON document of
    ``json_rows``; a span already stored, same run and span id, gets ``update``'s fields overwritten). One
    statement: atomic on its own, or part of the caller's transaction. Returns the run's status as locked (None:
    no such run); nothing is written unless it is ``running``. Spans must have distinct ids (one upsert cannot
    touch a row twice)."""
    with prepared_cursor() as cursor:
        cursor.execute(_batch_sql(tuple(update)), _batch_params(run_id, events, spans))
        row = cursor.fetchone()
    return None if row is None else row[0]


def store_batch_and_end(run_id: Any, events: str, spans: str, update: Sequence[str],
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

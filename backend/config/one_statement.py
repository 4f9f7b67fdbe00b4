"""Insert rows of several models in one SQL statement: one round trip, atomic on its own.

A flow call stores its run and the endpoint's record of the call. Through the
ORM that was a transaction of four round trips (BEGIN, two INSERTs, COMMIT) and
the save machinery twice; here Django's own insert compiler writes each INSERT
(defaults, ``auto_now_add``, JSON adaptation as ``Model.save`` does) and
PostgreSQL runs them as one statement with data-modifying CTEs. Rows may refer
to each other: foreign keys are checked at the end of the statement (Django's
are deferrable). No ``pre_save``/``post_save`` signal is sent, so only models
nothing listens to belong here.

The SQL of a row's INSERT depends only on its model, which columns it writes
and whether it returns its key, so it is compiled once per process and kept;
each call computes the values as the compiler would (``pre_save``, then
``get_db_prep_save``). A row whose values include an expression (a database
default, ``Now()``), or a model with a field that writes its own placeholder,
is compiled every time, as before.
"""
from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import Model
from django.db.models.sql import InsertQuery

# (model, database alias, columns written, returns its key) -> the INSERT's SQL
_compiled: dict[tuple[type[Model], str, tuple[str, ...], bool], str] = {}


def _plain_values(row: Model, fields: list[Any], alias: str) -> list[Any] | None:
    """The row's values as the insert compiler prepares them, or None where the compiler must see them."""
    connection = connections[alias]
    values = []
    for field in fields:
        if hasattr(field, "get_placeholder"):
            return None
        value = field.pre_save(row, add=True)
        if hasattr(value, "resolve_expression") or hasattr(value, "as_sql"):
            return None
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def _insert(row: Model, alias: str, returning: bool) -> tuple[str, tuple[Any, ...]]:
    meta = row._meta
    fields = [f for f in meta.local_concrete_fields if not (f is meta.auto_field and row.pk is None)]
    key = (type(row), alias, tuple(f.attname for f in fields), returning)
    values = _plain_values(row, fields, alias)
    if values is not None and key in _compiled:
        return _compiled[key], tuple(values)
    query = InsertQuery(type(row))
    query.insert_values(fields, [row])
    compiler = query.get_compiler(using=alias)
    compiler.returning_fields = list(meta.db_returning_fields) if returning else None
    [(sql, params)] = compiler.as_sql()
    if values is not None:
        _compiled[key] = sql
    return sql, tuple(params)


def insert_in_one_statement(*rows: Model, using: str = "default") -> None:
    """Store new ``rows`` in one statement, in order. Only the last may leave its primary key to the database."""
    assert rows and all(row.pk is not None for row in rows[:-1]), "only the last row may get its key from the database"
    last = rows[-1]
    returning = last.pk is None and bool(last._meta.db_returning_fields)
    parts = [_insert(row, using, returning=row is last and returning) for row in rows]
    ctes = ", ".join(f"r{i} AS ({sql})" for i, (sql, _) in enumerate(parts[:-1]))
    sql = (f"WITH {ctes} " if ctes else "") + parts[-1][0]
    params = tuple(p for _, ps in parts for p in ps)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            for field, value in zip(last._meta.db_returning_fields, cursor.fetchone(), strict=True):
                setattr(last, field.attname, value)
    for row in rows:
        row._state.adding = False
        row._state.db = using

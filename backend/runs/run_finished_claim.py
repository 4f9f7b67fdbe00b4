"""The run-finished hook's one statement: claim the run's ``finish_notified`` flag and read its subscribers' facts.

Before, the hook cost three statements and three transactions per run (the flag's UPDATE, the evals
subscriber's lookup, the callbacks subscriber's ``exists()``), each subscriber asking on its own after the
flag was taken. Here the flag's filtered UPDATE is a data-modifying CTE and the facts are a SELECT of the run
row joined to it: a row comes back only to the caller whose UPDATE moved the flag, so "at most once" is the
UPDATE's as before, and the facts are read in the same snapshot, right after the run's end committed.

The statement is compiled once per process for each set of subscribers with facts: the ORM writes the facts'
SELECT once (``config.compiled_query.CompiledQuery``, as for the claim's read of the run); only the run id
changes between runs.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection

from backend.config.compiled_query import CompiledQuery

FactsOf = Callable[[], dict[str, Any]]  # key → an expression over the Run row (``OuterRef("pk")`` is the run)

_PLACEHOLDER = uuid.UUID(int=0)  # no run has it: marks where the run id goes in the facts' parameters


class _Compiled:
    def __init__(self, claim: str, statuses: list[Any], facts: CompiledQuery | None, keys: list[tuple[str, str]]):
        self.claim, self.statuses, self.facts, self.keys = claim, statuses, facts, keys

    def statement(self, run: Any) -> tuple[str, list[Any]]:
        """The claim's UPDATE as a CTE, and the facts' SELECT (if any) of the run joined to it."""
        params = [run, *self.statuses]
        if self.facts is None:
            return f"WITH claimed AS ({self.claim}) SELECT 1 FROM claimed", params
        select, select_params = self.facts.statement(run)
        return (f"WITH claimed AS ({self.claim}) SELECT facts.* FROM claimed CROSS JOIN ({select}) AS facts",
                [*params, *select_params])


_compiled: dict[tuple[tuple[str, FactsOf], ...], _Compiled] = {}  # by the subscribers' names and facts
_lock = threading.Lock()


def _q(name: str | None) -> str:
    assert name is not None
    return connection.ops.quote_name(name)


def _compile(facts: Mapping[str, FactsOf]) -> _Compiled:
    from .models import Run

    pk = Run._meta.pk
    assert pk is not None
    flag, status = Run._meta.get_field("finish_notified"), Run._meta.get_field("status")
    statuses = sorted(Run.FINISHED)
    claim = (f"UPDATE {_q(Run._meta.db_table)} SET {_q(flag.column)} = true "
             f"WHERE {_q(pk.column)} = %s AND {_q(flag.column)} = false "
             f"AND {_q(status.column)} IN ({', '.join(['%s'] * len(statuses))}) RETURNING 1")
    keys: list[tuple[str, str]] = []
    columns: dict[str, Any] = {}
    for name, of in sorted(facts.items()):
        for key, expression in of().items():
            columns[f"fact_{len(keys)}"] = expression
            keys.append((name, key))
    if not columns:
        return _Compiled(claim, statuses, None, keys)
    facts_query = CompiledQuery(lambda pk: Run.objects.filter(pk=pk).annotate(**columns).values_list(*columns),
                                _PLACEHOLDER)
    return _Compiled(claim, statuses, facts_query, keys)


def claim_notification(run_id: Any, facts: Mapping[str, FactsOf]) -> dict[str, dict[str, Any]] | None:
    """Take a finished run's ``finish_notified`` flag; None if it was taken already (or the run is not finished).

    Otherwise each subscriber's facts, ``{name: {key: value}}`` (values as the driver reads them), with an
    empty dict for a subscriber registered with facts that named none.
    """
    from .models import Run

    names = tuple(sorted(facts))
    cache_key = tuple((name, facts[name]) for name in names)  # a name registered again with other facts: compiled anew
    compiled = _compiled.get(cache_key)
    if compiled is None:
        with _lock:
            compiled = _compiled.get(cache_key) or _compiled.setdefault(cache_key, _compile(facts))
    pk = Run._meta.pk
    assert pk is not None
    run = pk.get_db_prep_value(run_id, connection)
    sql, params = compiled.statement(run)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    found: dict[str, dict[str, Any]] = {name: {} for name in names}
    for (name, key), value in zip(compiled.keys, row if compiled.keys else (), strict=False):
        found[name][key] = value
    return found

"""The run tables keep only the indexes a query needs (runs 0012, issue 16): the dropped ones are gone, the
lookups they served still have an index, the constraints stay, and the migration runs backwards and forwards."""
from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from backend.runs.models import RunEvent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("runs", "0011_approvals_and_waiting")]
DROPPED = {"runs_runevent_run_id_8bd13aa7", "runs_span_run_id_d74572e2", "runs_run_workspace_id_c1222b68",
           "runs_run_trace_id_536130f8", "runs_run_trace_id_536130f8_like", "runs_run_status_7f93e232_like",
           "runs_run_created_by_id_f5dec0c1", "runs_run_replay_of_id_7b879e88", "runs_run_release_id_23c1cd45"}
ADDED = {"run_created_by", "run_replay_of", "run_release"}


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('runs_run', 'runs_span', "
                       "'runs_runevent')")
        return {row[0] for row in cursor.fetchall()}


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_migration_drops_the_unused_indexes_and_puts_them_back_backwards() -> None:
    now = _indexes()
    assert not now & DROPPED
    assert ADDED <= now
    try:
        _migrate(BEFORE)
        back = _indexes()
        assert DROPPED <= back
        assert not back & ADDED
    finally:
        _migrate(_latest())
    assert _indexes() == now


def _plan(sql: str, params: list[Any]) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # empty tables: ask whether an index CAN serve it
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


RUN = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize(("sql", "param", "index"), [
    ("SELECT * FROM runs_runevent WHERE run_id = %s ORDER BY seq", RUN, "one_seq_per_run"),
    ("SELECT * FROM runs_runevent WHERE run_id = %s AND seq > 3 ORDER BY seq", RUN, "one_seq_per_run"),
    ("SELECT * FROM runs_span WHERE run_id = %s", RUN, "one_span_id_per_run"),
    ("SELECT id FROM runs_run WHERE workspace_id = %s", 1, "run_workspace_created"),
    ("SELECT id FROM runs_run WHERE replay_of_id IN (%s)", RUN, "run_replay_of"),  # a deleted run's SET NULL
    ("SELECT id FROM runs_run WHERE created_by_id = %s", 1, "run_created_by"),
    ("SELECT id FROM runs_run WHERE release_id = %s", 1, "run_release"),
    ("SELECT id FROM runs_run WHERE status = %s", "running", "runs_run_status_7f93e232"),
])
def test_the_lookups_the_dropped_indexes_served_still_use_an_index(sql: str, param: Any, index: str) -> None:
    assert index in _plan(sql, [param])


def test_an_event_of_no_run_is_still_refused() -> None:
    """The foreign keys stay (only their redundant single-column indexes went)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        RunEvent.objects.create(run_id="00000000-0000-0000-0000-000000000009", seq=1, type="run.started", payload={})

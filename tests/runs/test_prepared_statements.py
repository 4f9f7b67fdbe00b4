"""The run path's hot statements are prepared once per connection (runs/prepared.py); Django's own are not."""
from __future__ import annotations

import uuid

import pytest
from django.db import connection

from backend.runs.models import Run
from backend.runs.trace_writes import run_cancel_requested, update_run

pytestmark = pytest.mark.django_db


def _prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_cancel_check_and_the_run_updates_are_prepared_once_and_still_answer() -> None:
    before = _prepared()
    missing = uuid.uuid4()
    for _ in range(3):
        assert run_cancel_requested(missing) is False
        assert update_run(missing, {"cancel_requested": True}, statuses=[Run.Status.RUNNING]) == 0
    added = _prepared() - before
    assert len(added) == 2  # one each, however often they ran
    assert any("cancel_requested" in s and s.lstrip().upper().startswith("SELECT") for s in added)
    for _ in range(10):
        Run.objects.filter(pk=missing).exists()  # Django's cursors bind client-side: never prepared
    assert _prepared() - before == added

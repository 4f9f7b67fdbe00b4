"""A run's cancel check while the database is away: "not cancelled", asked again later, then the real answer."""
from __future__ import annotations

import asyncio

import pytest
from django.db import OperationalError

from backend.runs import execution


def test_a_cancel_check_that_cannot_read_the_database_answers_not_cancelled_and_asks_again_later(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[object] = [OperationalError("connection refused")] * 2 + [True]  # db_call retries once itself
    asked: list[str] = []

    def cancel_requested(run_id: str) -> bool:
        asked.append(run_id)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return bool(answer)

    monkeypatch.setattr(execution, "cancel_requested", cancel_requested)
    monkeypatch.setattr(execution, "CANCEL_RECHECK_S", 0.2)

    async def checks() -> tuple[bool, bool, bool]:
        is_cancelled = execution._cancel_check("r1")
        during = await is_cancelled()
        soon_after = await is_cancelled()  # within CANCEL_RECHECK_S: the database is not asked again
        await asyncio.sleep(0.25)
        return during, soon_after, await is_cancelled()

    assert asyncio.run(checks()) == (False, False, True)
    assert asked == ["r1"] * 3

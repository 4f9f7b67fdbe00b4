"""A sync call whose wait goes wrong answers 202 with its status URL, never a 500."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from backend.endpoints import flow_views
from backend.endpoints import follow as endpoint_follow
from backend.runs.run_waiter import RunWaiter


def absolute(path: str) -> str:
    return f"http://testserver{path}"


def accepted_run() -> Any:
    return SimpleNamespace(pk="0d6f5b8e-7c3a-4c39-9a55-111111111111", status="queued",
                           endpoint_call=SimpleNamespace(request_id="req-1"))


def test_a_redis_or_database_failure_while_waiting_ends_the_wait_without_raising(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Unreachable:
        def pubsub(self) -> Any:
            raise ConnectionError("Redis went away")

    def unreachable(fn: Any) -> Any:
        async def call(*args: Any) -> Any:
            raise OSError("the database is restarting")

        return call

    monkeypatch.setattr(endpoint_follow, "run_waiter", lambda db: RunWaiter(unreachable, Unreachable))
    assert asyncio.run(endpoint_follow.wait_finished("any", 5)) is None


def test_a_database_failure_after_waiting_answers_202_with_the_status_url(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def gave_up(run_id: Any, timeout_s: float, since: int | None = None) -> None:
        return None

    def unreachable(fn: Any) -> Any:
        async def call(*args: Any) -> Any:
            raise OSError("the database is restarting")

        return call

    monkeypatch.setattr(flow_views, "wait_finished", gave_up)
    monkeypatch.setattr(flow_views, "db", unreachable)
    response = asyncio.run(flow_views._wait_for_result(accepted_run(), 30, absolute))
    body = json.loads(response.content)
    assert response.status_code == 202 and response["Location"] == body["status_url"]
    assert body["status_url"].startswith("http://testserver/") and body["run_id"] == accepted_run().pk

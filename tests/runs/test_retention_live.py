"""Retention on the live stack: the real Celery worker runs the scheduled prune task, and a client that comes
late to a pruned run (websocket, HTTP) still gets its final state, told that the details were pruned."""
from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from django.conf import settings
from django.utils import timezone

from backend.config.celery import app
from backend.runs.models import Run, RunEvent, Span
from backend.runs.selectors import run_details_pruned

from ..conftest import token_for
from .live import create_graph, read_events, start_run, wait_finished
from .test_live_runs import CHAIN, NOTE

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def wait_until(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_the_worker_prunes_an_old_run_and_late_clients_see_its_final_state(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, CHAIN)
    old = wait_finished(start_run(alice_api, graph_id, NOTE))
    recent = wait_finished(start_run(alice_api, graph_id, {"text": NOTE["text"] + " Thanks."}))
    assert old.status == recent.status == "succeeded"
    stored = RunEvent.objects.filter(run=old).count()
    aged = timezone.now() - dt.timedelta(days=settings.PATCHBAY_RETENTION_EVENT_DAYS + 1)
    Run.objects.filter(pk=old.pk).update(created_at=aged, finished_at=aged)

    # What beat sends on its schedule, sent now, to the test's queue: the real worker runs it.
    app.send_task(settings.CELERY_BEAT_SCHEDULE["runs-prune"]["task"], queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    # The mark on the kept event is the last step of pruning a run's details (events, then span bodies, then the
    # mark: backend/runs/retention.py); waiting for the events alone read the run half-pruned on a loaded machine.
    wait_until(lambda: run_details_pruned(old.pk))
    assert RunEvent.objects.filter(run=old).count() == 1

    detail = alice_api.get(f"/api/runs/{old.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["details_pruned"] is True and body["status"] == "succeeded"
    assert body["output"] == old.output and body["totals"]["cost_usd"] == pytest.approx(old.cost_usd)
    assert body["spans"] and all(s["input"] is None and s["output"] is None for s in body["spans"])
    assert {s["model"] for s in body["spans"] if s["kind"] == "llm"} and all(
        s["duration_ms"] is not None for s in body["spans"])

    events = asyncio.run(read_events(live_stack.ws_url, str(old.pk), token_for(alice)))
    assert [(e["type"], e["seq"], e["status"], e["details_pruned"]) for e in events] == [
        ("run.completed", stored, "succeeded", True)]

    # The recent run is untouched: a late client replays its whole story.
    replay = asyncio.run(read_events(live_stack.ws_url, str(recent.pk), token_for(alice)))
    assert len(replay) == RunEvent.objects.filter(run=recent).count() > 1
    assert alice_api.get(f"/api/runs/{recent.pk}/").json()["details_pruned"] is False
    assert Span.objects.filter(run=recent, output__isnull=False).exists()

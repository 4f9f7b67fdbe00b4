"""One name per latency: engine_ms (inside the engine) and total_ms (accepted to finished, queue included).

A run is written through the sink's own path with 210 ms of engine time, then given 2.5 s in the queue; both
APIs must report each latency under its own name, with the same value.
"""
from __future__ import annotations

import datetime as dt

import pytest

from backend.endpoints.results import run_result
from backend.runs.models import Run

from .test_retention import graph_of, make_run

pytestmark = pytest.mark.django_db


def queued_run(api) -> Run:  # type: ignore[no-untyped-def]
    run = make_run(graph_of(api), days_ago=0)
    Run.objects.filter(pk=run.pk).update(created_at=run.finished_at - dt.timedelta(seconds=2.5))
    run.refresh_from_db()
    return run


def test_the_canvas_api_names_engine_and_total_time(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    run = queued_run(alice_api)
    body = alice_api.get(f"/api/runs/{run.pk}/").json()
    assert body["engine_ms"] == 210.0 == body["totals"]["duration_ms"]
    assert body["total_ms"] == 2500.0
    listed = next(r for r in alice_api.get("/api/runs/").json() if r["id"] == str(run.pk))
    assert (listed["engine_ms"], listed["total_ms"]) == (210.0, 2500.0)


def test_the_flow_api_names_them_the_same_and_keeps_latency_ms_as_an_alias(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    run = queued_run(alice_api)
    result = run_result(run)
    assert (result["engine_ms"], result["total_ms"], result["latency_ms"]) == (210.0, 2500.0, 2500.0)


def test_an_unfinished_run_has_no_total_yet(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    run = make_run(graph_of(alice_api), days_ago=0, status="running")
    body = alice_api.get(f"/api/runs/{run.pk}/").json()
    assert body["engine_ms"] is None and body["total_ms"] is None

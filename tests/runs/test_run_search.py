"""GET /api/runs/ filters: each one narrows real rows to the right ones; bad values are 400s naming the parameter."""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from backend.runs.models import Run, Span

from ..endpoint_calls import record_endpoint_call

pytestmark = pytest.mark.django_db

SPEC = {"schema": "patchbay.graph/v1", "name": "one",
        "nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output", "config": {"value": "done"}}],
        "edges": [{"from": "in", "to": "out"}]}


def _graph(api: Any) -> int:
    response = api.post("/api/graphs/", {"spec": SPEC}, format="json")
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def _run(api: Any, graph: int, request_id: str = "", **fields: Any) -> str:
    response = api.post("/api/runs/", {"graph": graph, "input": {}}, format="json")
    assert response.status_code == 201, response.json()
    run_id = str(response.json()["id"])
    Run.objects.filter(pk=run_id).update(**fields)
    if request_id:  # the caller's request id is its endpoint call's, not the run's
        record_endpoint_call(run_id, request_id=request_id)
    return run_id


def _llm_span(run_id: str, model: str) -> None:
    Span.objects.create(run_id=run_id, span_id=f"s{model[:10]}", kind="llm", name="ask", node_id="ask",
                        status="succeeded", started_at=timezone.now(), model=model)


def _ids(api: Any, query: str) -> set[str]:
    response = api.get(f"/api/runs/?{query}")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()}


@pytest.fixture
def rows(alice_api) -> dict[str, str]:  # type: ignore[no-untyped-def]
    graph, other = _graph(alice_api), _graph(alice_api)
    alice_api.put(f"/api/graphs/{graph}/", {"spec": {**SPEC, "name": "two"}}, format="json")  # version 2
    now = timezone.now()
    found = {
        "old_cheap": _run(alice_api, graph, created_at=now - dt.timedelta(days=40), cost_usd=0.001, latency_ms=50,
                          status="succeeded", source="canvas"),
        "failed": _run(alice_api, graph, status="failed", error="Model 'fast' TIMED OUT after 30 s", cost_usd=0.2,
                       latency_ms=30_000, source="api"),
        "endpoint": _run(alice_api, other, status="succeeded", source="endpoint", request_id="req-abc-123",
                         cost_usd=0.05, latency_ms=900),
        "openai": _run(alice_api, other, status="succeeded", source="openai", request_id="req-xyz-9",
                       cost_usd=0.5, latency_ms=1200),
    }
    Run.objects.filter(pk=found["old_cheap"]).update(graph_version=Run.objects.get(pk=found["old_cheap"]).graph
                                                     .versions.get(number=1))
    _llm_span(found["failed"], "gpt-4o-mini")
    _llm_span(found["openai"], "claude-3-haiku")
    found["graph"], found["other"] = str(graph), str(other)
    return found


def test_each_filter_narrows_to_the_matching_runs(alice_api, rows) -> None:  # type: ignore[no-untyped-def]
    everything = {rows[k] for k in ("old_cheap", "failed", "endpoint", "openai")}
    assert _ids(alice_api, "") == everything
    day = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    expect = {
        "request_id=req-abc-123": {rows["endpoint"]},
        "request_id=req-abc": set(),  # exact
        "status=failed": {rows["failed"]},
        f"graph={rows['other']}": {rows["endpoint"], rows["openai"]},
        f"graph={rows['graph']}&version=1": {rows["old_cheap"]},
        "source=openai": {rows["openai"]},
        f"created_after={day}": {rows["failed"], rows["endpoint"], rows["openai"]},
        f"created_before={day}": {rows["old_cheap"]},
        "cost_above=0.05": {rows["failed"], rows["openai"]},
        "latency_above=1000": {rows["failed"], rows["openai"]},
        "model=gpt-4o-mini": {rows["failed"]},
        "error=timed out": {rows["failed"]},
        "q=XYZ": {rows["openai"]},
        "q=timed": {rows["failed"]},
        "source=endpoint&cost_above=0.1": set(),
        "status=succeeded&cost_above=0.01": {rows["endpoint"], rows["openai"]},
    }
    for query, wanted in expect.items():
        assert _ids(alice_api, query) == wanted, query


def test_the_callers_request_id_shows_on_its_run_in_the_list_and_the_detail(alice_api, rows) -> None:  # type: ignore[no-untyped-def]
    """Kept on the endpoint's call record, not on the run (runs/callers.py reads it for the runs API)."""
    listed = {row["id"]: row["request_id"] for row in alice_api.get("/api/runs/").json()}
    assert listed == {rows["endpoint"]: "req-abc-123", rows["openai"]: "req-xyz-9", rows["failed"]: None,
                      rows["old_cheap"]: None}
    assert alice_api.get(f"/api/runs/{rows['openai']}/").json()["request_id"] == "req-xyz-9"
    assert alice_api.get(f"/api/runs/{rows['failed']}/").json()["request_id"] is None


def test_pages_follow_the_link_header_newest_first(alice_api, rows) -> None:  # type: ignore[no-untyped-def]
    first = alice_api.get("/api/runs/?limit=3")
    assert len(first.json()) == 3 and 'rel="next"' in first["Link"]
    created = [row["created_at"] for row in first.json()]
    assert created == sorted(created, reverse=True)
    next_query = urlsplit(first["Link"].split(">")[0].lstrip("<")).query
    assert parse_qs(next_query) == {"limit": ["3"], "offset": ["3"]}
    second = alice_api.get(f"/api/runs/?{next_query}")
    assert len(second.json()) == 1 and "Link" not in second
    seen = {row["id"] for row in first.json()} | {row["id"] for row in second.json()}
    assert seen == {rows[k] for k in ("old_cheap", "failed", "endpoint", "openai")}


def test_another_workspaces_runs_never_match(alice_api, bob_api, rows) -> None:  # type: ignore[no-untyped-def]
    assert _ids(bob_api, "request_id=req-abc-123") == set() and _ids(bob_api, "") == set()


@pytest.mark.parametrize(("query", "field"), [
    ("status=done", "status"), ("source=web", "source"), ("graph=x", "graph"), ("version=0", "version"),
    ("created_after=yesterday", "created_after"), ("created_before=2026-02-30", "created_before"),
    ("created_after=9999-12-31T23:59:59-14:00", "created_after"), ("cost_above=-1", "cost_above"),
    ("cost_above=nan", "cost_above"), ("latency_above=1e9", "latency_above"), ("cost_above=%C2%B2", "cost_above"),
    ("error=a%00b", "error"), ("q=" + "x" * 501, "q"), ("model=%00", "model"), ("limit=0", "limit"),
    ("limit=201", "limit"), ("offset=-3", "offset")])
def test_bad_values_are_400_naming_the_parameter(alice_api, query: str, field: str) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.get(f"/api/runs/?{query}")
    assert response.status_code == 400, response.json()
    assert [p["path"] for p in response.json()["problems"]] == [field]

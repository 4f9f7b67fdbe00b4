"""Today's numbers per endpoint (the Endpoints page): calls, errors, p50/p95 of what callers waited, cost.

Runs are real rows in PostgreSQL, linked to their endpoint as a flow call links them; the expected
percentiles are computed here the way percentile_cont defines them (linear between ranks).
"""
from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest

from backend.endpoints.calls import parse_call
from backend.endpoints.models import ApiKey, Endpoint, EndpointCall
from backend.endpoints.selectors import utc_day_start
from backend.endpoints.services import flow_call_start
from backend.runs.models import Run

from .conftest import create_graph, make_key, publish, tagged_spec

pytestmark = pytest.mark.django_db


def endpoint_run(endpoint: Endpoint, key: ApiKey, *, status: str, waited_ms: float | None, cost: float,
                 created: dt.datetime) -> Run:
    """A run started through ``endpoint``, accepted at ``created`` and finished ``waited_ms`` later (None: going)."""
    run = Run.objects.create(workspace=endpoint.workspace, graph=endpoint.graph, graph_version=endpoint.version,
                             input={"text": "hi"}, trace_id="t" * 32, source="endpoint",
                             status=status, cost_usd=cost)
    finished = None if waited_ms is None else created + dt.timedelta(milliseconds=waited_ms)
    Run.objects.filter(pk=run.pk).update(created_at=created, finished_at=finished)
    EndpointCall.objects.filter(pk=EndpointCall.objects.create(endpoint=endpoint, run=run, api_key=key).pk).update(
        created_at=created)
    return run


@pytest.fixture
def two_endpoints(alice_api) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One graph published twice (so its runs alone cannot say which endpoint was called), and a key."""
    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "main")
    publish(alice_api, graph_id, "beta")
    key = ApiKey.objects.get(pk=make_key(alice_api)["id"])
    return {"graph": graph_id, "main": Endpoint.objects.get(slug="main"), "beta": Endpoint.objects.get(slug="beta"),
            "key": key}


def test_the_list_reports_each_endpoints_calls_errors_latency_and_cost_today(alice_api, two_endpoints) -> None:  # type: ignore[no-untyped-def]
    main, beta, key = two_endpoints["main"], two_endpoints["beta"], two_endpoints["key"]
    morning = utc_day_start() + dt.timedelta(minutes=1)
    finished = [("succeeded", 120.0, 0.002), ("succeeded", 80.0, 0.001), ("failed", 900.0, 0.0005),
                ("budget_exceeded", 450.0, 0.004), ("cancelled", 60.0, 0.0)]
    for status, waited, cost in finished:
        endpoint_run(main, key, status=status, waited_ms=waited, cost=cost, created=morning)
    endpoint_run(main, key, status="running", waited_ms=None, cost=0.0, created=morning)
    # Yesterday's call, the other endpoint's call and a canvas run of the same graph are not main's today.
    endpoint_run(main, key, status="failed", waited_ms=5000.0, cost=1.0, created=morning - dt.timedelta(days=1))
    endpoint_run(beta, key, status="succeeded", waited_ms=30.0, cost=0.25, created=morning)
    Run.objects.create(workspace=main.workspace, graph=main.graph, graph_version=main.version, input={},
                       trace_id="c" * 32, source="canvas", status="succeeded", cost_usd=3.0)

    listed = {e["slug"]: e["today"] for e in alice_api.get(f"/api/endpoints/?graph={main.graph_id}").json()}
    waits = sorted(w for _, w, _ in finished)
    quantiles = statistics.quantiles(waits, n=20, method="inclusive")  # the same interpolation as percentile_cont
    assert listed["main"] == {"calls": 6, "errors": 2, "running": 1, "p50_ms": statistics.median(waits),
                              "p95_ms": pytest.approx(quantiles[18], abs=0.1),
                              "cost_usd": pytest.approx(sum(c for _, _, c in finished))}
    assert listed["beta"] == {"calls": 1, "errors": 0, "running": 0, "p50_ms": 30.0, "p95_ms": 30.0,
                              "cost_usd": pytest.approx(0.25)}
    detail = alice_api.get("/api/endpoints/beta/").json()
    assert detail["today"]["calls"] == 1 and detail["releases"][0]["action"] == "published"


def test_an_endpoint_without_calls_today_reports_zeros_and_no_latency(alice_api, two_endpoints) -> None:  # type: ignore[no-untyped-def]
    today = alice_api.get("/api/endpoints/main/").json()["today"]
    assert today == {"calls": 0, "errors": 0, "running": 0, "p50_ms": None, "p95_ms": None, "cost_usd": 0.0}


def test_a_flow_call_records_which_endpoint_started_its_run(two_endpoints) -> None:  # type: ignore[no-untyped-def]
    beta, key = two_endpoints["beta"], two_endpoints["key"]
    call = parse_call(b'{"input": {"text": "hello"}}', slug="beta", max_input_bytes=10_000, max_timeout_s=30)
    started = flow_call_start(key=key, endpoint=Endpoint.objects.select_related("version", "graph").get(pk=beta.pk),
                              call=call, request_id="req_test", idempotency_key=None)
    assert EndpointCall.objects.get(run=started.run).endpoint_id == beta.pk


def test_the_graph_filter_is_checked_and_scoped(alice_api, bob_api, two_endpoints) -> None:  # type: ignore[no-untyped-def]
    assert alice_api.get("/api/endpoints/?graph=abc").status_code == 400
    assert {e["slug"] for e in alice_api.get(f"/api/endpoints/?graph={two_endpoints['graph']}").json()} == {
        "main", "beta"}
    assert alice_api.get(f"/api/endpoints/?graph={two_endpoints['graph'] + 1000}").json() == []
    assert bob_api.get(f"/api/endpoints/?graph={two_endpoints['graph']}").json() == []

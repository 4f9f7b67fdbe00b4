"""Runs made by the real engine (a Celery worker, demo models) feed the dashboard: the metrics read the
attribute and call names the engine really records. And a projection runs on the worker."""
from __future__ import annotations

import json
import time
from typing import Any

from backend.graphs.models import Graph
from backend.graphs.selectors import dependencies
from backend.insights.projection import dry_run, summarize
from backend.insights.selectors import Period, period_runs
from tests.runs.live import create_graph, start_run, wait_finished

from .graphs import PATTERNS

BILLING = "I was charged twice, please refund the second payment."
TECHNICAL = "The app crashes with an error when I log in."
NEUTRAL = "Hello there."


def test_dashboard_reads_what_the_engine_records(live_stack: Any, alice_api: Any) -> None:
    graph_id = create_graph(alice_api, PATTERNS)
    runs = {}
    for name, message in (("billing", BILLING), ("technical", TECHNICAL), ("neutral", NEUTRAL), ("empty", "")):
        runs[name] = wait_finished(start_run(alice_api, graph_id, {"message": message}), timeout=60)
    runs["again"] = wait_finished(start_run(alice_api, graph_id, {"message": BILLING}), timeout=60)
    assert {r.status for r in runs.values()} == {"succeeded"}, [(r.status, r.error) for r in runs.values()]

    label = alice_api.post(f"/api/runs/{runs['billing'].pk}/labels/", {"node_id": "triage", "route": "technical"},
                           format="json")
    assert label.status_code == 201, label.json()
    found = alice_api.get(f"/api/graphs/{graph_id}/insights/?days=1").json()

    triage = found["patterns"]["routers"][0]
    assert {r["route"]: r["chosen"] for r in triage["per_route"]} == {"billing": 2, "technical": 1, "default": 1}
    assert triage["default_share"] == 0.25 and triage["labelled"] == 1
    assert {r["true"]: r["counts"] for r in triage["matrix"]}["technical"]["billing"] == 1
    agree = found["patterns"]["votes"][0]
    assert agree["runs"] == 2 and 0 < agree["mean_agreement"] <= 1
    polish = found["patterns"]["loops"][0]
    assert polish["runs"] == 1 and sum(h["runs"] for h in polish["histogram"]) == 1
    plan = found["patterns"]["orchestrators"][0]
    assert plan["runs"] == 1 and 1 <= plan["mean_workers"] <= 2
    check = found["patterns"]["gates"][0]
    assert check["runs"] == 5 and check["exits"] == 1 and check["saved_usd"] > 0
    assert found["calls"]["cache_hits"] >= 1  # the repeated classifier call (temperature 0) came from the cache
    steps = {s["node_id"]: s for s in found["steps"]}
    assert steps["triage"]["p50_ms"] > 0 and steps["agree"]["cost_usd"] > 0

    # The call names the advisor prices (the loop's "evaluate", a vote's "vote 1") are the engine's.
    records = period_runs(Graph.objects.get(pk=graph_id), Period(runs["billing"].created_at, runs["again"]
                                                                 .finished_at))
    loop_calls = {name for r in records if (s := r.step("polish")) for name in s.call_costs}
    vote_calls = {name for r in records if (s := r.step("agree")) for name in s.call_costs}
    assert {"draft", "evaluate"} <= loop_calls and {"vote 1", "vote 2", "vote 3"} <= vote_calls


def test_projection_runs_on_the_worker(live_stack: Any, alice_api: Any) -> None:
    graph_id = create_graph(alice_api, PATTERNS)
    inputs = [{"message": BILLING}, {"message": TECHNICAL}, {"message": NEUTRAL}]
    started = alice_api.post(f"/api/graphs/{graph_id}/projections/", {"inputs": inputs}, format="json")
    assert started.status_code == 202, started.json()
    deadline = time.monotonic() + 60
    while (projection := alice_api.get(f"/api/projections/{started.json()['id']}/").json())["status"] in (
            "queued", "running"):
        assert time.monotonic() < deadline, projection
        time.sleep(0.1)
    assert projection["status"] == "succeeded", projection
    result = projection["result"]
    assert result["runs"] == 3 and result["failed"] == 0 and result["cost_per_1000_runs_usd"] > 0
    # Deterministic: the same dry run here gives the same numbers the worker found.
    graph = Graph.objects.get(pk=graph_id)
    spec = graph.latest_version.spec
    assert result == json.loads(json.dumps(summarize(dry_run(spec, inputs, dependencies(graph.workspace, spec)))))
    listed = alice_api.get(f"/api/graphs/{graph_id}/projections/").json()
    assert [p["id"] for p in listed] == [projection["id"]]

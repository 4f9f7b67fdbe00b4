"""Cost projection: the real engine on demo answers priced as the aliases, on virtual time (no provider call).

Latency is the aliases' pace along the critical path: the built-in 'frontier' answers in 60 ms (all at once),
so three calls in a chain take 180 ms and three side by side take 60 ms, exactly.
"""
from __future__ import annotations

from typing import Any

import pytest

from backend.engine import execute_graph, parse_graph
from backend.engine.ports import Ports
from backend.graphs.selectors import dependencies
from backend.insights.projection import dry_run, priced_routes, summarize
from backend.insights.projection_port import ProjectionLLM
from backend.insights.virtual_time import run_virtual
from backend.providers.gateway import priced_answer
from backend.runs.models import Run

pytestmark = pytest.mark.django_db

FRONTIER_IN, FRONTIER_OUT = 2.5e-6, 10e-6  # backend/providers/defaults.py


def three_calls(chained: bool) -> dict[str, Any]:
    ids = ["a", "b", "c"]
    edges = ([{"from": x, "to": y} for x, y in zip(["input", *ids], ids)] if chained
             else [{"from": "input", "to": i} for i in ids])
    return {"schema": "patchbay.graph/v1", "name": "three", "inputs": {"type": "object"},
            "nodes": [{"id": "input", "type": "input"},
                      *({"id": i, "type": "llm", "config": {"model": "frontier", "prompt": f"Say {i}: {{{{ input }}}}"}}
                        for i in ids),
                      {"id": "output", "type": "output", "config": {"value": "done"}}],
            "edges": [*edges, *({"from": i, "to": "output"} for i in (ids[-1:] if chained else ids))]}


@pytest.mark.parametrize(("chained", "latency_ms"), [(True, 180.0), (False, 60.0)])
def test_latency_is_the_paced_critical_path(chained: bool, latency_ms: float) -> None:
    spec = three_calls(chained)
    (outcome,) = dry_run(spec, [{"note": "hello"}], dependencies(None, spec))
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["latency_ms"] == pytest.approx(latency_ms, abs=0.01)
    assert outcome["llm_calls"] == 3 and set(outcome["steps"]) == {"a", "b", "c"}


def test_cost_is_the_alias_price_of_the_demo_answers() -> None:
    spec = three_calls(True)
    routes, paces = priced_routes()
    result = run_virtual(lambda clock: execute_graph(parse_graph(spec), {"note": "hello"}, ports=Ports(
        llm=ProjectionLLM(routes, priced_answer, paces), clock=clock)))
    calls = [s for s in result.spans if s.kind == "llm"]
    by_tokens = sum(s.input_tokens * FRONTIER_IN + s.output_tokens * FRONTIER_OUT for s in calls)
    assert all(s.input_tokens > 0 and s.output_tokens > 0 for s in calls)
    assert result.totals["cost_usd"] == pytest.approx(by_tokens)
    assert Run.objects.count() == 0  # a dry run records no run


def test_summary_per_1000_runs() -> None:
    outcomes = [{"status": "succeeded", "error": None, "cost_usd": c, "latency_ms": ms, "llm_calls": 2,
                 "steps": {"a": c * 0.25, "b": c * 0.75}} for c, ms in ((0.001, 100.0), (0.003, 300.0))]
    outcomes.append({"status": "budget_exceeded", "error": "max_cost_usd", "cost_usd": 0.002, "latency_ms": 200.0,
                     "llm_calls": 1, "steps": {"b": 0.002}})
    found = summarize(outcomes)
    assert found["mean_cost_usd"] == pytest.approx(0.002) and found["cost_per_1000_runs_usd"] == pytest.approx(2.0)
    assert found["p50_latency_ms"] == 200.0 and found["p95_latency_ms"] == pytest.approx(290.0)
    assert found["failed"] == 1 and found["first_error"] == "max_cost_usd"
    assert found["run_hours_per_1000_runs"] == pytest.approx(200.0 * 1000 / 3_600_000)
    shares = {s["node_id"]: s["cost_share"] for s in found["steps"]}
    assert shares["a"] == pytest.approx(0.001 / 0.006) and shares["b"] == pytest.approx(0.005 / 0.006)


def test_bad_projection_requests_are_400(alice_api: Any) -> None:
    graph = alice_api.post("/api/graphs/", {"spec": three_calls(True)}, format="json").json()["id"]
    url = f"/api/graphs/{graph}/projections/"
    for body, path in (({"inputs": []}, "inputs"), ({"inputs": "x"}, "inputs"), ({"recent": 0}, "recent"),
                       ({"recent": True}, "recent"), ({}, "inputs")):  # {}: the inputs of recent runs, and none yet
        response = alice_api.post(url, body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert response.json()["problems"][0]["path"] == path


def test_virtual_clock_waits_for_threads_before_jumping() -> None:
    """A thread that takes real time is not overtaken by a virtual timer (the engine renders in threads)."""
    import asyncio
    import time as real_time

    async def race(clock: Any) -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        slow = loop.run_in_executor(None, real_time.sleep, 0.2)
        try:
            await asyncio.wait_for(slow, timeout=5)
            return "thread first", clock.monotonic()
        except TimeoutError:
            return "timer first", clock.monotonic()

    outcome, elapsed = run_virtual(race)
    assert outcome == "thread first" and elapsed < 5


def test_a_real_provider_alias_is_priced_but_never_called(fake_openai: Any) -> None:
    from backend.providers.models import ModelAlias

    ModelAlias.objects.create(alias="real", model="openai/gpt-4o-mini", api_base=fake_openai.url, api_key_env="PATH",
                              input_cost_per_mtok=3.0, output_cost_per_mtok=15.0, demo_latency_ms=400,
                              description="a provider model, reached over HTTP")
    spec = three_calls(True)
    for node in spec["nodes"][1:4]:
        node["config"]["model"] = "real"
    fake_openai.reset_stats()
    routes, paces = priced_routes()
    result = run_virtual(lambda clock: execute_graph(parse_graph(spec), {"note": "hello"}, ports=Ports(
        llm=ProjectionLLM(routes, priced_answer, paces), clock=clock)))
    assert result.status == "succeeded", result.error
    assert fake_openai.stats()["requests"] == 0
    calls = [s for s in result.spans if s.kind == "llm"]
    assert result.totals["cost_usd"] == pytest.approx(sum(s.input_tokens * 3e-6 + s.output_tokens * 15e-6
                                                          for s in calls))
    assert result.totals["duration_ms"] == pytest.approx(3 * 400, abs=0.01)  # its own pace, three in a row


def test_a_projection_takes_its_inputs_from_a_dataset(alice_api: Any, bob_api: Any) -> None:
    from backend.insights.models import Projection

    graph = alice_api.post("/api/graphs/", {"spec": three_calls(True)}, format="json").json()["id"]
    url = f"/api/graphs/{graph}/projections/"
    dataset = alice_api.post("/api/datasets/", {"name": "questions"}, format="json").json()["id"]
    for question in ("refund?", "login broken", "hello"):
        assert alice_api.post(f"/api/datasets/{dataset}/items/", {"input": {"q": question}},
                              format="json").status_code == 201
    started = alice_api.post(url, {"dataset": dataset}, format="json")
    assert started.status_code == 202, started.json()
    assert (started.json()["source"], started.json()["inputs"]) == ("dataset", 3)
    assert Projection.objects.get(pk=started.json()["id"]).inputs == [{"q": "refund?"}, {"q": "login broken"},
                                                                      {"q": "hello"}]

    empty = alice_api.post("/api/datasets/", {"name": "empty"}, format="json").json()["id"]
    theirs = bob_api.post("/api/datasets/", {"name": "bob's"}, format="json").json()["id"]
    assert bob_api.post(f"/api/datasets/{theirs}/items/", {"input": {"q": "x"}}, format="json").status_code == 201
    for body, words in (({"dataset": theirs}, "no such dataset"), ({"dataset": 10**9}, "no such dataset"),
                        ({"dataset": empty}, "no items"), ({"dataset": "questions"}, "dataset id"),
                        ({"dataset": True}, "dataset id")):
        refused = alice_api.post(url, body, format="json")
        assert refused.status_code == 400, (body, refused.json())
        assert refused.json()["problems"][0]["path"] == "dataset" and words in refused.json()["problems"][0]["message"]
    # Bob cannot project alice's graph at all, dataset or not.
    assert bob_api.post(url, {"dataset": theirs}, format="json").status_code == 404

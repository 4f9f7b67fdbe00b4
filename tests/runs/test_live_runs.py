"""The spine, end to end on real parts: API → Celery worker → engine → PostgreSQL → channel layer → websocket."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from backend.providers.models import ModelAlias
from backend.runs.models import Run, Span

from ..conftest import token_for
from .live import close_code, create_graph, numbered, read_events, start_run, wait_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())
NOTE = {"text": "I was charged twice for my subscription, please refund the second payment."}


def spec(nodes: list[dict], edges: list[dict], **extra: object) -> dict:
    return {"schema": "patchbay.graph/v1", "name": "live", "inputs": {"type": "object"}, "nodes": nodes,
            "edges": edges, **extra}


def llm(node_id: str, model: str = "fast", prompt: str = "Say something about {{ input }}") -> dict:
    return {"id": node_id, "type": "llm", "config": {"model": model, "prompt": prompt}}


def test_a_run_streams_every_event_in_order_and_stores_its_spans(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, CHAIN)
    run_id = start_run(alice_api, graph_id, NOTE)
    events = asyncio.run(read_events(live_stack.ws_url, run_id, token_for(alice)))

    seqs = [e["seq"] for e in numbered(events)]
    assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers must be contiguous from 1"
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.completed"
    assert events[-1]["status"] == "succeeded"
    order = {(e["type"], e.get("node_id")): e["seq"] for e in numbered(events)}
    executed = {n["id"] for n in CHAIN["nodes"]}
    for node_id in executed:
        assert order[("node.started", node_id)] < order[("node.completed", node_id)]
    for edge in CHAIN["edges"]:  # dependency order: a node starts after all its inputs completed
        assert order[("node.completed", edge["from"])] < order[("node.started", edge["to"])]
    assert any(e["type"] == "node.delta" and e["node_id"] == "summarize" for e in events), "streamed tokens"

    run = Run.objects.get(pk=run_id)
    assert run.status == "succeeded" and run.output["category"] == "billing"
    assert run.input_tokens > 0 and run.cost_usd > 0 and run.finished_at is not None
    llm_spans = Span.objects.filter(run=run, kind="llm")
    assert llm_spans.count() == 3
    for span in llm_spans:
        assert span.input_tokens > 0 and span.output_tokens > 0 and span.cost_usd > 0
        assert span.model.startswith("demo/") and span.output
        assert span.attributes["gen_ai.usage.input_tokens"] == span.input_tokens
    assert set(Span.objects.filter(run=run, kind="node").values_list("node_id", flat=True)) == executed

    detail = alice_api.get(f"/api/runs/{run_id}/").json()
    assert detail["status"] == "succeeded" and len(detail["spans"]) == Span.objects.filter(run=run).count()

    # The same input again: deterministic steps (temperature 0) come from the cache and cost nothing.
    again = wait_finished(start_run(alice_api, graph_id, NOTE))
    cached = {s.node_id: s for s in Span.objects.filter(run=again, kind="llm")}
    assert cached["extract"].cache_hit and cached["classify"].cache_hit and not cached["summarize"].cache_hit
    assert cached["classify"].cost_usd == 0 and again.output == run.output and again.cost_usd < run.cost_usd


def test_a_client_that_reconnects_gets_exactly_the_missing_events(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="slow", model="demo/slow", demo_latency_ms=150, input_cost_per_mtok=1,
                              output_cost_per_mtok=1)
    graph_id = create_graph(alice_api, spec([{"id": "in", "type": "input"}, llm("a", "slow"), llm("b", "slow"),
                                             llm("c", "slow"), {"id": "out", "type": "output",
                                                                "config": {"value": "{{ nodes.c.output }}"}}],
                                            [{"from": "in", "to": "a"}, {"from": "a", "to": "b"},
                                             {"from": "b", "to": "c"}, {"from": "c", "to": "out"}]))
    run_id = start_run(alice_api, graph_id, {"x": 1})
    token = token_for(alice)
    first = asyncio.run(read_events(live_stack.ws_url, run_id, token, stop_at_seq=4))
    assert Run.objects.get(pk=run_id).status in ("queued", "running"), "the run must still be going"
    rest = asyncio.run(read_events(live_stack.ws_url, run_id, token, after=4))
    combined = [e["seq"] for e in numbered(first) + numbered(rest)]
    assert combined == list(range(1, len(combined) + 1)), "no gap and no duplicate across the reconnect"
    assert numbered(rest)[0]["seq"] == 5 and rest[-1]["type"] == "run.completed"
    replay = asyncio.run(read_events(live_stack.ws_url, run_id, token))  # after the end: the full story
    assert [e["seq"] for e in replay] == combined


def test_two_independent_nodes_overlap_in_time(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="steady", model="demo/steady", demo_latency_ms=200)
    graph_id = create_graph(alice_api, spec(
        [{"id": "in", "type": "input"}, llm("left", "steady"), llm("right", "steady"),
         {"id": "out", "type": "output", "config": {"value": ["{{ nodes.left.output }}", "{{ nodes.right.output }}"]}}],
        [{"from": "in", "to": "left"}, {"from": "in", "to": "right"}, {"from": "left", "to": "out"},
         {"from": "right", "to": "out"}]))
    run = wait_finished(start_run(alice_api, graph_id, {"x": 1}))
    assert run.status == "succeeded"
    left, right = (Span.objects.get(run=run, kind="llm", node_id=n) for n in ("left", "right"))
    assert left.started_at < right.ended_at and right.started_at < left.ended_at


def test_a_budget_of_two_calls_stops_a_four_call_graph(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    nodes = [{"id": "in", "type": "input"}, *[llm(n) for n in "abcd"],
             {"id": "out", "type": "output", "config": {"value": "{{ nodes.d.output }}"}}]
    edges = [{"from": a, "to": b} for a, b in zip(["in", *"abcd"], [*"abcd", "out"])]
    graph_id = create_graph(alice_api, spec(nodes, edges, budget={"max_llm_calls": 2}))
    run = wait_finished(start_run(alice_api, graph_id, {"x": 1}))
    assert run.status == "budget_exceeded" and "max_llm_calls=2" in run.error
    kept = Span.objects.filter(run=run, kind="llm")
    assert sorted(kept.values_list("node_id", flat=True)) == ["a", "b"]
    assert all(s.status == "succeeded" and s.output_tokens > 0 for s in kept)


def test_a_caller_budget_may_tighten_the_graph_budget(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, spec([{"id": "in", "type": "input"}, llm("a"), llm("b"),
                                             {"id": "out", "type": "output", "config": {"value": 1}}],
                                            [{"from": "in", "to": "a"}, {"from": "a", "to": "b"},
                                             {"from": "b", "to": "out"}], budget={"max_llm_calls": 5}))
    run = wait_finished(start_run(alice_api, graph_id, {"x": 1}, budget={"max_llm_calls": 1}))
    assert run.status == "budget_exceeded"
    bad = alice_api.post("/api/runs/", {"graph": graph_id, "input": {}, "budget": {"max_llm_calls": -1}},
                         format="json")
    assert bad.status_code == 400 and bad.json()["problems"][0]["path"] == "budget.max_llm_calls"


def test_a_run_through_litellm_to_the_fake_provider_over_http(live_stack, fake_openai, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="remote", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=2, timeout_s=5)
    graph_id = create_graph(alice_api, spec([{"id": "in", "type": "input"}, llm("ask", "remote"),
                                             {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}],
                                            [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]))
    fake_openai.configure(fail_first_n=0, latency_ms=0)
    fake_openai.reset_stats()
    run = wait_finished(start_run(alice_api, graph_id, {"q": "hello"}))
    assert run.status == "succeeded" and run.output.startswith("fake answer:")
    span = Span.objects.get(run=run, kind="llm")
    assert span.input_tokens > 0 and span.cost_usd > 0  # priced from litellm's own price map
    assert fake_openai.stats()["by_status"].get("200") == 1

    fake_openai.configure(fail_first_n=1000)
    fake_openai.reset_stats()
    failed = wait_finished(start_run(alice_api, graph_id, {"q": "hello"}))
    assert failed.status == "failed"
    assert "provider error 500 after 3 attempts" in failed.error
    assert fake_openai.stats()["by_status"].get("500") == 3  # 1 try + the 2 configured retries
    span = Span.objects.get(run=failed, kind="llm")
    assert span.status == "failed" and span.attributes["patchbay.attempts"] == 3
    fake_openai.configure(fail_first_n=0)


def test_a_switched_off_model_falls_back_or_fails_fast(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="primary", model="demo/primary", enabled=False, fallbacks=["fast"])
    ModelAlias.objects.create(alias="lonely", model="demo/lonely", enabled=False)
    for alias, expected in (("primary", "succeeded"), ("lonely", "failed")):
        graph_id = create_graph(alice_api, spec([{"id": "in", "type": "input"}, llm("a", alias),
                                                 {"id": "out", "type": "output", "config": {"value": 1}}],
                                                [{"from": "in", "to": "a"}, {"from": "a", "to": "out"}]))
        run = wait_finished(start_run(alice_api, graph_id, {"x": 1}))
        assert run.status == expected
        if expected == "succeeded":
            span = Span.objects.get(run=run, kind="llm")
            assert span.model == "demo/fast" and span.attributes["patchbay.fallback_from"] == ["primary"]
        else:
            assert "switched off" in run.error


def test_another_workspace_cannot_see_a_run(live_stack, alice, bob, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, CHAIN)
    run_id = start_run(alice_api, graph_id, NOTE)
    wait_finished(run_id)
    assert bob_api.get(f"/api/runs/{run_id}/").status_code == 404
    assert bob_api.get(f"/api/runs/{run_id}/events/").status_code == 404
    assert bob_api.get("/api/runs/").json() == []
    assert asyncio.run(close_code(live_stack.ws_url, run_id, token_for(bob))) == 4403
    assert asyncio.run(close_code(live_stack.ws_url, run_id, None)) == 4401
    assert asyncio.run(close_code(live_stack.ws_url, run_id, token_for(alice), "?after=-1")) == 4400
    assert asyncio.run(close_code(live_stack.ws_url, "not-a-uuid", token_for(alice))) == 4403


def test_a_run_request_with_bad_input_starts_nothing(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, CHAIN)
    response = alice_api.post("/api/runs/", {"graph": graph_id, "input": {"text": 42}}, format="json")
    assert response.status_code == 400 and response.json()["problems"][0]["path"] == "input.text"
    assert alice_api.post("/api/runs/", {"graph": graph_id, "input": {}, "version": 9}, format="json").status_code == 400
    assert alice_api.post("/api/runs/", {"graph": 424242, "input": {}}, format="json").status_code == 404
    assert Run.objects.count() == 0


def test_a_queued_run_can_be_cancelled(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="glacial", model="demo/glacial", demo_latency_ms=3000)
    graph_id = create_graph(alice_api, spec([{"id": "in", "type": "input"}, llm("a", "glacial"), llm("b", "glacial"),
                                             {"id": "out", "type": "output", "config": {"value": 1}}],
                                            [{"from": "in", "to": "a"}, {"from": "a", "to": "b"},
                                             {"from": "b", "to": "out"}]))
    run_id = start_run(alice_api, graph_id, {"x": 1})
    assert alice_api.post(f"/api/runs/{run_id}/cancel/").status_code == 202
    run = wait_finished(run_id, timeout=15)
    assert run.status == "cancelled"
    events = asyncio.run(read_events(live_stack.ws_url, run_id, token_for(alice)))
    assert events[-1]["type"] == "run.completed" and events[-1]["status"] == "cancelled"


def test_a_running_run_stops_at_its_next_step_when_cancelled(live_stack, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    ModelAlias.objects.create(alias="glacial", model="demo/glacial", demo_latency_ms=20000)
    graph_id = create_graph(alice_api, spec([{"id": "in", "type": "input"}, llm("quick"), llm("stuck", "glacial"),
                                             {"id": "out", "type": "output", "config": {"value": 1}}],
                                            [{"from": "in", "to": "quick"}, {"from": "quick", "to": "stuck"},
                                             {"from": "stuck", "to": "out"}]))
    run_id = start_run(alice_api, graph_id, {"x": 1})
    deadline = time.monotonic() + 30
    while not Span.objects.filter(run_id=run_id, node_id="quick", kind="llm").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert alice_api.post(f"/api/runs/{run_id}/cancel/").status_code == 202
    run = wait_finished(run_id, timeout=10)  # far less than the 20 s model call it interrupts
    assert run.status == "cancelled" and run.error == "the run was stopped"
    assert Span.objects.get(run=run, node_id="quick", kind="llm").status == "succeeded"
    assert Span.objects.get(run=run, node_id="stuck", kind="node").status == "cancelled"

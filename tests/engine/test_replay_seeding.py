"""Replay from a node: seeded steps do not run, templates read their stored outputs, stored decisions hold."""
from __future__ import annotations

from backend.engine import RunResult, SeededStep, execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, Ports

from .scripted import ScriptedLLM, chain, graph, llm
from .test_runner import INPUT, out, run
from .virtual_time import VirtualClock, run_virtual


def run_seeded(doc: dict, seeds: dict[str, SeededStep], model: ScriptedLLM) -> RunResult:
    ports = Ports(llm=model, events=CollectingEvents(), clock=VirtualClock())
    return run_virtual(execute_graph(parse_graph(doc), {"text": "x"}, seeded=seeds, ports=ports))


def four_step_chain() -> dict:
    return graph([INPUT, llm("a", "a {{ input.text }}"), llm("b", "b {{ nodes.a.output }}"),
                  llm("c", "c {{ nodes.b.output }}"), llm("d", "d {{ nodes.c.output }}"), out("{{ nodes.d.output }}")],
                 chain("in", "a", "b", "c", "d", "out"))


def test_seeded_steps_make_no_call_and_later_steps_read_their_stored_outputs() -> None:
    model = ScriptedLLM(answer=lambda r: r.messages[-1]["content"].upper())
    seeds = {"in": SeededStep({"text": "x"}), "a": SeededStep("STORED-A"), "b": SeededStep("STORED-B")}
    run(four_step_chain(), {"text": "x"}, model)  # the original
    assert len(model.calls) == 4
    model.calls.clear()
    replay = run_seeded(four_step_chain(), seeds, model)
    assert replay.status == "succeeded"
    # Only c and d called the model, and c's prompt was rendered from b's stored output.
    assert [c.messages[-1]["content"] for c in model.calls] == ["c STORED-B", "d C STORED-B"]
    assert replay.output == "D C STORED-B"
    assert replay.totals["llm_calls"] == 2
    nodes = {s.node_id: s for s in replay.spans if s.kind == "node"}
    assert nodes["b"].attributes.get("patchbay.seeded") is True and nodes["b"].output == "STORED-B"
    assert "patchbay.seeded" not in nodes["c"].attributes
    assert {s.parent_id for s in replay.spans if s.kind == "llm"} == {nodes["c"].span_id, nodes["d"].span_id}


def router_then_replies() -> dict:
    router = {"id": "r", "type": "router", "config": {
        "classifier": {"model": "fast"}, "routes": [{"label": "billing"}, {"label": "technical"}]}}
    return graph([INPUT, router, llm("b", "billing {{ nodes.r.output.route }}"), llm("t", "tech"),
                  out("{{ nodes.b.output | default('') }}{{ nodes.t.output | default('') }}")],
                 [{"from": "in", "to": "r"}, {"from": "r", "port": "billing", "to": "b"},
                  {"from": "r", "port": "technical", "to": "t"}, {"from": "r", "port": "default", "to": "t"},
                  {"from": "b", "to": "out"}, {"from": "t", "to": "out"}])


def test_a_routers_stored_decision_is_reproduced_without_asking_the_classifier() -> None:
    # The classifier would now answer "technical"; the stored decision was "billing".
    model = ScriptedLLM(answer=lambda r: "technical" if "billing" not in r.messages[-1]["content"] else "paid")
    seeds = {"in": SeededStep({"text": "x"}), "r": SeededStep({"route": "billing"}, port="billing")}
    replay = run_seeded(router_then_replies(), seeds, model)
    assert replay.status == "succeeded", replay.error
    statuses = {s.node_id: s.status for s in replay.spans if s.kind == "node"}
    assert statuses["b"] == "succeeded" and statuses["t"] == "skipped"
    assert [c.messages[-1]["content"] for c in model.calls] == ["billing billing"]
    assert replay.output == "paid"
    # Without seeds the same model takes the other branch: the seed is what kept it on "billing".
    fresh, _ = run(router_then_replies(), {"text": "x"}, ScriptedLLM(answer=lambda r: "technical"))
    assert {s.node_id: s.status for s in fresh.spans if s.kind == "node"}["b"] == "skipped"

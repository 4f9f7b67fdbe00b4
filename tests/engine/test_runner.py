"""The scheduler, budgets, gates and events, with a scripted model (no I/O, virtual time: milliseconds)."""
from __future__ import annotations

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, MemoryCache, Ports

from .scripted import ScriptedLLM, chain, graph, llm
from .virtual_time import VirtualClock, run_virtual

INPUT = {"id": "in", "type": "input"}


def run(doc: dict, input: object, model: ScriptedLLM, **kw: object):  # type: ignore[no-untyped-def]
    assert validate_graph(doc) == []
    events = CollectingEvents()
    ports = Ports(llm=model, events=events, clock=VirtualClock(), **kw)  # type: ignore[arg-type]
    result = run_virtual(execute_graph(parse_graph(doc), input, ports=ports))
    return result, events.events


def out(value: str) -> dict:
    return {"id": "out", "type": "output", "config": {"value": value}}


def test_a_chain_passes_outputs_along_and_numbers_its_events() -> None:
    model = ScriptedLLM(answer=lambda r: r.messages[-1]["content"].upper())
    doc = graph([INPUT, llm("a", "{{ input.text }}"), llm("b", "{{ nodes.a.output }}!"), out("{{ nodes.b.output }}")],
                chain("in", "a", "b", "out"))
    result, events = run(doc, {"text": "hey"}, model)
    assert result.status == "succeeded"
    assert result.output == "HEY!"
    numbered = [e["seq"] for e in events if e["seq"] is not None]
    assert numbered == list(range(1, len(numbered) + 1))
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.completed"
    assert result.totals["llm_calls"] == 2 and result.totals["input_tokens"] == 20
    llm_spans = [s for s in result.spans if s.kind == "llm"]
    node_ids = {s.span_id: s.node_id for s in result.spans if s.kind == "node"}
    assert [node_ids[s.parent_id] for s in llm_spans] == ["a", "b"]
    assert llm_spans[0].attributes["gen_ai.usage.input_tokens"] == 10


def test_independent_nodes_run_concurrently() -> None:
    model = ScriptedLLM(latency_s=0.2)
    doc = graph([INPUT, llm("a"), llm("b"), out("{{ nodes.a.output }}{{ nodes.b.output }}")],
                [{"from": "in", "to": "a"}, {"from": "in", "to": "b"}, {"from": "a", "to": "out"},
                 {"from": "b", "to": "out"}])
    result, _ = run(doc, {"text": "x"}, model)
    a, b = [s for s in result.spans if s.kind == "llm"]
    assert a.started_at < b.ended_at and b.started_at < a.ended_at  # overlap in time
    assert result.totals["duration_ms"] < 400  # two 200 ms calls one after the other would take 400 ms
    assert result.output == "okok"


def test_a_budget_of_two_calls_stops_a_four_call_chain_and_keeps_finished_spans() -> None:
    doc = graph([INPUT, llm("a"), llm("b"), llm("c"), llm("d"), out("{{ nodes.d.output }}")],
                chain("in", "a", "b", "c", "d", "out"), budget={"max_llm_calls": 2})
    result, events = run(doc, {"text": "x"}, ScriptedLLM())
    assert result.status == "budget_exceeded"
    assert "max_llm_calls=2" in result.error
    finished = [s for s in result.spans if s.kind == "llm" and s.status == "succeeded"]
    assert [s.node_id for s in finished] == ["a", "b"]
    assert {s.node_id: s.status for s in result.spans if s.kind == "node"}["d"] == "skipped"
    assert events[-1]["status"] == "budget_exceeded"


def test_a_cost_budget_is_checked_on_the_estimate_before_the_call() -> None:
    model = ScriptedLLM(cost_per_call=0.02)
    doc = graph([INPUT, llm("a"), llm("b"), out("{{ nodes.b.output }}")], chain("in", "a", "b", "out"),
                budget={"max_cost_usd": 0.03})
    result, _ = run(doc, {"text": "x"}, model)
    assert result.status == "budget_exceeded" and "max_cost_usd" in result.error
    assert len(model.calls) == 1  # the second call was refused before it was made


def test_the_time_budget_stops_a_slow_run() -> None:
    doc = graph([INPUT, llm("a"), out("{{ nodes.a.output }}")], chain("in", "a", "out"), budget={"max_seconds": 0.2})
    result, _ = run(doc, {"text": "x"}, ScriptedLLM(latency_s=2))
    assert result.status == "budget_exceeded" and "max_seconds" in result.error
    assert 200 <= result.totals["duration_ms"] < 2000  # stopped at the budget, not when the call came back


def test_a_gate_exits_early_with_its_message_and_skips_the_rest() -> None:
    gate = {"id": "g", "type": "gate", "config": {
        "check": {"kind": "regex", "value": "{{ nodes.a.output }}", "pattern": "^yes"},
        "message": "stopped: {{ nodes.a.output }}"}}
    doc = graph([INPUT, llm("a"), gate, llm("b"), out("{{ nodes.b.output }}")],
                [*chain("in", "a", "g"), {"from": "g", "port": "pass", "to": "b"}, {"from": "b", "to": "out"}])
    result, _ = run(doc, {"text": "x"}, ScriptedLLM(answer=lambda r: "no"))
    assert result.status == "succeeded"
    assert result.output == {"exited_early": True, "node": "g", "message": "stopped: no"}
    statuses = {s.node_id: s.status for s in result.spans if s.kind == "node"}
    assert statuses["b"] == "skipped" and statuses["out"] == "skipped"
    gate_span = next(s for s in result.spans if s.node_id == "g" and s.kind == "node")
    assert gate_span.attributes["patchbay.gate.passed"] is False


def test_a_gate_with_a_fail_path_routes_instead_of_exiting() -> None:
    gate = {"id": "g", "type": "gate", "config": {
        "check": {"kind": "compare", "value": "{{ input.amount }}", "op": ">=", "operand": 100}}}
    doc = graph([INPUT, gate, {"id": "big", "type": "transform", "config": {"value": "big"}},
                 {"id": "small", "type": "transform", "config": {"value": "small"}},
                 out("{{ nodes.big.output if 'big' in nodes else nodes.small.output }}")],
                [{"from": "in", "to": "g"}, {"from": "g", "port": "pass", "to": "big"},
                 {"from": "g", "port": "fail", "to": "small"}, {"from": "big", "to": "out"},
                 {"from": "small", "to": "out"}])
    assert run(doc, {"amount": 250}, ScriptedLLM())[0].output == "big"
    assert run(doc, {"amount": 3}, ScriptedLLM())[0].output == "small"


def test_a_failing_model_fails_the_run_with_a_clear_error() -> None:
    doc = graph([INPUT, llm("a"), out("{{ nodes.a.output }}")], chain("in", "a", "out"))
    result, events = run(doc, {"text": "x"}, ScriptedLLM(fail_aliases={"fast"}))
    assert result.status == "failed"
    assert "node 'a' failed" in result.error and "after 3 attempts" in result.error
    assert any(e["type"] == "node.failed" and e["node_id"] == "a" for e in events)


def test_structured_output_is_parsed_and_held_to_its_schema() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    doc = graph([INPUT, llm("a", output_schema=schema), out("{{ nodes.a.output.n + 1 }}")], chain("in", "a", "out"))
    assert run(doc, {"text": ""}, ScriptedLLM(answer=lambda r: '{"n": 41}'))[0].output == 42
    bad, _ = run(doc, {"text": ""}, ScriptedLLM(answer=lambda r: '{"n": "many"}'))
    assert bad.status == "failed" and "does not match output_schema" in bad.error


def test_deterministic_calls_are_cached_and_cost_nothing_the_second_time() -> None:
    cache = MemoryCache()
    model = ScriptedLLM()
    doc = graph([INPUT, llm("a", params={"temperature": 0}), out("{{ nodes.a.output }}")], chain("in", "a", "out"))
    first, _ = run(doc, {"text": "x"}, model, cache=cache)
    second, _ = run(doc, {"text": "x"}, model, cache=cache)
    assert len(model.calls) == 1
    span = next(s for s in second.spans if s.kind == "llm")
    assert span.cache_hit and span.cost_usd == 0 and second.output == first.output


def test_streamed_tokens_are_live_only_events() -> None:
    doc = graph([INPUT, llm("a", stream=True), out("{{ nodes.a.output }}")], chain("in", "a", "out"))
    _, events = run(doc, {"text": ""}, ScriptedLLM(answer=lambda r: "one two three"))
    deltas = [e for e in events if e["type"] == "node.delta"]
    assert [d["text"] for d in deltas] == ["one", "two", "three"]
    assert all(d["seq"] is None and d["after_seq"] >= 1 for d in deltas)


def test_bad_input_fails_the_run_before_any_node() -> None:
    doc = graph([INPUT, llm("a"), out("{{ nodes.a.output }}")], chain("in", "a", "out"),
                inputs={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
    model = ScriptedLLM()
    result, _ = run(doc, {"txt": 1}, model)
    assert result.status == "failed" and "'text' is required" in result.error
    assert model.calls == []


def test_the_sandbox_refuses_unsafe_templates_at_run_time_too() -> None:
    from backend.engine.templates import TemplateError, render_text

    try:
        render_text("{{ input.__class__ }}", {"input": {}})
    except TemplateError as exc:
        assert "sandbox" in str(exc) or "undefined" in str(exc)
    else:
        raise AssertionError("the sandbox let a private attribute through")

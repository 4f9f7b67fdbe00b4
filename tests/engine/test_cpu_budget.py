"""CPU bombs: templates and patterns cannot outrun max_seconds or stall other runs on the shared loop."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from backend.engine import execute_graph, parse_graph, validate_graph
from backend.engine.ports import Ports
from backend.engine.template_limits import MAX_TEXT_CHARS, RenderCancelled, RenderGuard
from backend.engine.templates import TemplateError, render_text, render_value

from .scripted import ScriptedLLM, chain, graph, llm

INPUT = {"id": "in", "type": "input"}
BIG = {"xs": list(range(5000)), "text": "a" * 1000}

# Many moderate steps: none is over a limit, so only the clock can stop it (seconds of work).
SLOW_TEMPLATE = "{% for a in input.xs %}{{ input.text|replace('a', 'bb')|length }}{% endfor %}"
SLOW_INPUT = {"xs": list(range(20000)), "text": "a" * 20000}


def transform(node_id: str, value: str) -> dict:
    return {"id": node_id, "type": "transform", "config": {"value": value}}


def out(value: str) -> dict:
    return {"id": "out", "type": "output", "config": {"value": value}}


def hostile(template: str, max_seconds: float = 5) -> dict:
    return graph([INPUT, transform("bomb", template), out("{{ nodes.bomb.output }}")], chain("in", "bomb", "out"),
                 budget={"max_seconds": max_seconds})


def trivial() -> dict:
    return graph([INPUT, llm("a", "{{ input.text }}"), out("{{ nodes.a.output }}")], chain("in", "a", "out"))


def gate_graph(pattern: str) -> dict:
    gate = {"id": "check", "type": "gate", "config": {"check": {"kind": "regex", "value": "{{ input.text }}",
                                                                  "pattern": pattern}}}
    return graph([INPUT, gate, out("{{ nodes.check.output }}")], chain("in", "check", "out"),
                 budget={"max_seconds": 1})


async def _run(doc: dict, input: object, model: ScriptedLLM | None = None):  # type: ignore[no-untyped-def]
    assert validate_graph(doc) == []
    return await execute_graph(parse_graph(doc), input, ports=Ports(llm=model or ScriptedLLM()))


async def _beside(doc: dict, input: object) -> tuple[object, bool, float]:
    """Run ``doc`` and, once it is under way, a trivial run on the same loop (real time: the point is real
    concurrency with a computing thread).

    Returns the hostile result, whether the trivial run finished while the hostile one was still going,
    and the longest the loop went without a turn.
    """
    longest_stall = 0.0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal longest_stall
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            longest_stall, last = max(longest_stall, now - last), now

    beat = asyncio.create_task(heartbeat())
    bomb = asyncio.create_task(_run(doc, input))
    await asyncio.sleep(0.1)  # the hostile node is computing now
    ok = await _run(trivial(), {"text": "hi"})
    overtook = not bomb.done()
    assert ok.status == "succeeded" and ok.output == "ok"
    result = await bomb
    stop.set()
    await beat
    return result, overtook, longest_stall


@pytest.mark.parametrize("template, limit", [
    ("{{ 'a' * 10**9 }}", "repeating a str"),
    ("{{ 'x'|center(10**9) }}", "center's width"),
    ("{{ 'x'.ljust(10**9) }}", "ljust()"),
    ("{{ 10 ** 100000 }}", "bits"),
    ("{{ '%0999999999d' % 1 }}", "format width"),
    ("{{ '{:>999999999}'.format(1) }}", "format width"),
    ("{{ input.text|replace('', input.text * 100) }}", "replace()'s output"),
    ("{{ input.xs|batch(10**9, 0)|list|length }}", "batch's count"),
    ("{% for a in input.xs %}{% for b in input.xs %}{% endfor %}{% endfor %}", "loop steps"),
    ("{% set a = input.text * 1000 %}{% set b = a ~ a %}{{ b }}", "'~'"),
    ("{% set a = [input.text] * 100 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}{{ [b, b, b, b, b, b, b, b, b, b] }}",
     "printed value"),
])
def test_a_template_bomb_ends_the_run_failed_with_the_limit_it_hit(template: str, limit: str) -> None:
    started = time.monotonic()
    result = asyncio.run(_run(hostile(template), BIG))
    assert result.status == "failed"
    assert "node 'bomb' failed: template limit:" in result.error and limit in result.error
    assert time.monotonic() - started < 5  # refused by a limit, not by max_seconds


def test_a_computing_template_stops_at_max_seconds_while_a_concurrent_run_finishes() -> None:
    result, overtook, stall = asyncio.run(_beside(hostile(SLOW_TEMPLATE, max_seconds=1), SLOW_INPUT))
    assert result.status == "budget_exceeded"
    assert "max_seconds=1" in result.error and "'bomb'" in result.error
    assert result.totals["duration_ms"] < 3000
    bomb = next(s for s in result.spans if s.node_id == "bomb")
    assert bomb.status in ("cancelled", "failed")
    assert overtook  # the trivial run finished while the bomb was still computing
    assert stall < 1  # the loop kept turning (generous: the machine is shared)


def test_a_catastrophic_pattern_answers_at_once_on_re2() -> None:
    result, _, stall = asyncio.run(_beside(gate_graph("^(a+)+$"), {"text": "a" * 40 + "!"}))
    assert result.status == "succeeded"
    assert result.output["exited_early"] is True and result.output["node"] == "check"
    assert result.totals["duration_ms"] < 1000  # max_seconds=1 did not have to stop it (Python's re would run for minutes)
    assert stall < 1  # generous: the machine is shared


def test_patterns_that_need_backtracking_are_refused_at_validation_with_their_path() -> None:
    problems = validate_graph(gate_graph(r"(a)\1"))
    assert [p.path for p in problems] == ["nodes[1].config.check.pattern"]
    assert "backreferences" in problems[0].message
    router = {"id": "route", "type": "router", "config": {"mode": "rules", "routes": [
        {"label": "yes", "pattern": "(?<=x)y"}]}}
    doc = graph([INPUT, router, out("{{ input }}"), {"id": "other", "type": "output", "config": {"value": "x"}}],
                [{"from": "in", "to": "route"}, {"from": "route", "to": "out", "port": "yes"},
                 {"from": "route", "to": "other", "port": "default"}])
    problems = validate_graph(doc)
    assert any(p.path == "nodes[1].config.routes[0].pattern" and "lookaround" in p.message for p in problems)


def test_a_gate_pattern_still_matches_as_before() -> None:
    passed = asyncio.run(_run(gate_graph(r"^\d{3}-\w+$"), {"text": "123-abc"}))
    assert passed.status == "succeeded" and passed.output == "123-abc"
    doc = gate_graph("HELLO")
    doc["nodes"][1]["config"]["check"]["ignore_case"] = True
    assert asyncio.run(_run(doc, {"text": "say hello"})).output == "say hello"


def test_a_stopped_run_stops_its_render_thread() -> None:
    guard = RenderGuard()
    outcome: list[BaseException] = []

    def render() -> None:
        try:
            render_text(SLOW_TEMPLATE, {"input": SLOW_INPUT}, guard)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=render)
    thread.start()
    time.sleep(0.05)
    guard.cancelled.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert isinstance(outcome[0], RenderCancelled)


def test_a_render_without_a_budget_still_has_a_ceiling() -> None:
    guard = RenderGuard(0.2)
    with pytest.raises(TemplateError, match="longer than 0.2 s"):
        render_text(SLOW_TEMPLATE, {"input": SLOW_INPUT}, guard)


def test_the_output_size_is_checked_as_it_streams() -> None:
    with pytest.raises(TemplateError, match="rendered text is longer"):
        render_text("{% for x in input %}{{ x }}{% endfor %}", {"input": ["y" * 1000] * 2000})
    assert len(render_text("{{ input }}", {"input": "z" * MAX_TEXT_CHARS})) == MAX_TEXT_CHARS


@pytest.mark.parametrize("template, expected", [
    ("{% for i in input.xs[:3] %}{{ loop.index }}/{{ loop.length }}{% if loop.last %}!{% endif %}{% endfor %}",
     "1/32/33/3!"),
    ("{{ input.name ~ '!' }}", "Ada!"),
    ("{{ '%05d'|format(3) }} {{ '{:>4}'.format('x') }} {{ input.name|center(7) }}", "00003    x   Ada  "),
    ("{{ input.tags|join(', ') }}|{{ input.tags|map('upper')|list }}", "a, b|['A', 'B']"),
    ("{{ input.name * 2 }}{{ 2 ** 10 }}{{ (input.xs[:2] + [9]) }}", "AdaAda1024[0, 1, 9]"),
    ("{% for k, v in input.meta|dictsort %}{{ k }}={{ v }};{% endfor %}{{ input.meta|tojson }}",
     'a=1;b=2;{"b": 2, "a": 1}'),
    ("{{ input.text|wordwrap(4)|indent(2) }}", "a b\n  c d"),
])
def test_normal_templates_render_as_before(template: str, expected: str) -> None:
    ctx = {"input": {"xs": [0, 1, 2, 3], "name": "Ada", "tags": ["a", "b"], "meta": {"b": 2, "a": 1},
                     "text": "a b c d"}}
    assert render_text(template, ctx) == expected


def test_a_single_expression_keeps_its_native_value() -> None:
    ctx = {"input": {"xs": [1, 2]}, "nodes": {"a": {"output": {"k": [1]}}}}
    assert render_value("{{ nodes.a.output }}", ctx) == {"k": [1]}
    assert render_value({"n": "{{ input.xs|length }}", "l": ["{{ input.xs * 2 }}"]}, ctx) == {"n": 2,
                                                                                            "l": [[1, 2, 1, 2]]}

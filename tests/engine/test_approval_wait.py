"""An approval step: the run stops ``waiting`` with every finished step kept; a resume goes on from there."""
from __future__ import annotations

from typing import Any

from backend.engine import ApprovalWait, Decision, Resume, RunResult, SeededStep, execute_graph, parse_graph
from backend.engine.ports import CollectingEvents, Ports

from .scripted import ScriptedLLM, graph, llm
from .test_runner import INPUT, out
from .virtual_time import VirtualClock, run_virtual


def approval(node_id: str, show: str = "{{ nodes.draft.output }}") -> dict[str, Any]:
    return {"id": node_id, "type": "approval", "config": {"show": show}}


def draft_then_approval() -> dict[str, Any]:
    return graph([INPUT, llm("draft", "draft {{ input.text }}"), approval("ok"),
                  {"id": "sent", "type": "transform", "config": {"value": "SENT {{ nodes.ok.output }}"}},
                  {"id": "why", "type": "transform", "config": {"value": "NO {{ nodes.ok.output }}"}},
                  out("{{ nodes.sent.output | default('') }}{{ nodes.why.output | default('') }}")],
                 [{"from": "in", "to": "draft"}, {"from": "draft", "to": "ok"},
                  {"from": "ok", "port": "approved", "to": "sent"}, {"from": "ok", "port": "rejected", "to": "why"},
                  {"from": "sent", "to": "out"}, {"from": "why", "to": "out"}])


def execute(doc: dict[str, Any], model: ScriptedLLM, resume: Resume | None = None) -> tuple[RunResult, list[dict]]:
    events = CollectingEvents()
    ports = Ports(llm=model, events=events, clock=VirtualClock())
    return run_virtual(execute_graph(parse_graph(doc), {"text": "x"}, ports=ports, resume=resume)), events.events


def resume_from(first: RunResult, events: list[dict], decisions: dict[str, Decision]) -> Resume:
    """What the host builds from the stored trace (runs/resume_plan.py does this from the database)."""
    nodes = {s.node_id: s for s in first.spans if s.kind == "node"}
    seeded = {n: SeededStep(s.output, s.attributes.get("patchbay.port")) for n, s in nodes.items()
              if s.status == "succeeded"}
    waits = {n: ApprovalWait(s.span_id, s.started_at, decisions.get(n)) for n, s in nodes.items()
             if s.status == "waiting"}
    recorded = frozenset(n for n, s in nodes.items() if s.status in ("succeeded", "skipped"))
    return Resume(seeded=seeded, recorded=recorded, approvals=waits, totals=first.totals,
                  last_seq=max(e["seq"] for e in events if e.get("seq")))


def test_a_run_waits_at_an_approval_and_asks_once() -> None:
    model = ScriptedLLM(answer=lambda r: "Dear customer")
    result, events = execute(draft_then_approval(), model)
    assert result.status == "waiting" and len(model.calls) == 1
    types = [e["type"] for e in events if e.get("seq")]
    assert types[-1] == "run.waiting" and "run.completed" not in types
    asked = next(e for e in events if e["type"] == "approval.requested")
    assert asked["node_id"] == "ok" and asked["request"]["draft"] == "Dear customer"
    statuses = {s.node_id: s.status for s in result.spans if s.kind == "node"}
    assert statuses == {"in": "succeeded", "draft": "succeeded", "ok": "waiting"}  # nothing after it is skipped


def test_approve_with_an_edit_goes_on_without_calling_the_model_again() -> None:
    model = ScriptedLLM(answer=lambda r: "Dear customer")
    first, events = execute(draft_then_approval(), model)
    edited = Decision("approve", "Dear valued customer", by="bob", at=1.0, via="api", edited=True)
    second, later = execute(draft_then_approval(), model, resume_from(first, events, {"ok": edited}))
    assert second.status == "succeeded" and second.output == "SENT Dear valued customer"
    assert len(model.calls) == 1  # the draft was not written again
    assert second.totals["llm_calls"] == 1  # the totals go on from the first pass
    assert [e["seq"] for e in later if e.get("seq")][0] == max(e["seq"] for e in events if e.get("seq")) + 1
    wait = next(s for s in second.spans if s.node_id == "ok")
    first_wait = next(s for s in first.spans if s.node_id == "ok")
    assert wait.span_id == first_wait.span_id and wait.status == "succeeded"
    assert wait.attributes["patchbay.approval.by"] == "bob" and wait.attributes["patchbay.approval.edited"]
    assert {s.node_id for s in second.spans if s.kind == "node"} == {"ok", "sent", "why", "out"}


def test_reject_takes_the_rejected_port() -> None:
    model = ScriptedLLM(answer=lambda r: "Dear customer")
    first, events = execute(draft_then_approval(), model)
    no = Decision("reject", "Dear customer", by="bob", at=1.0, fields={"reason": "tone"})
    second, _ = execute(draft_then_approval(), model, resume_from(first, events, {"ok": no}))
    assert second.status == "succeeded" and second.output == "NO Dear customer"
    statuses = {s.node_id: s.status for s in second.spans if s.kind == "node"}
    assert statuses["sent"] == "skipped" and statuses["why"] == "succeeded"


def test_two_parallel_approvals_both_wait_and_one_decision_leaves_the_other_waiting() -> None:
    doc = graph([INPUT, llm("draft", "draft"), approval("a"), approval("b"),
                 out("{{ nodes.a.output }}+{{ nodes.b.output }}")],
                [{"from": "in", "to": "draft"}, {"from": "draft", "to": "a"}, {"from": "draft", "to": "b"},
                 {"from": "a", "port": "approved", "to": "out"}, {"from": "b", "port": "approved", "to": "out"}])
    model = ScriptedLLM(answer=lambda r: "D")
    first, events = execute(doc, model)
    assert first.status == "waiting"
    assert sorted(e["node_id"] for e in events if e["type"] == "approval.requested") == ["a", "b"]
    yes = Decision("approve", "A", by="bob", at=1.0)
    second, later = execute(doc, model, resume_from(first, events, {"a": yes}))
    assert second.status == "waiting" and not [e for e in later if e["type"] == "approval.requested"]
    merged = resume_from(first, events, {"a": yes, "b": Decision("approve", "B", by="al", at=2.0)})
    third, _ = execute(doc, model, merged)
    assert third.status == "succeeded" and third.output == "A+B" and len(model.calls) == 1

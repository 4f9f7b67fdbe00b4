"""A call's cost estimate (a token count of its prompt) is asked for only when a cost cap will read it."""
from __future__ import annotations

from dataclasses import dataclass

from backend.engine import execute_graph, parse_graph
from backend.engine.budget import BudgetTracker
from backend.engine.ports import CollectingEvents, LLMRequest, Ports, SystemClock
from backend.engine.spec import Budget

from .scripted import ScriptedLLM, chain, graph, llm
from .virtual_time import VirtualClock, run_virtual

INPUT = {"id": "in", "type": "input"}
OUT = {"id": "out", "type": "output", "config": {"value": "{{ nodes.b.output }}"}}


@dataclass
class CountingLLM(ScriptedLLM):
    estimates: int = 0

    async def estimate_cost(self, request: LLMRequest) -> float:
        self.estimates += 1
        return await super().estimate_cost(request)


def run(budget: dict[str, float] | None, model: CountingLLM):  # type: ignore[no-untyped-def]
    doc = graph([INPUT, llm("a"), llm("b"), OUT], chain("in", "a", "b", "out"), **({"budget": budget} if budget else {}))
    ports = Ports(llm=model, events=CollectingEvents(), clock=VirtualClock())
    return run_virtual(execute_graph(parse_graph(doc), {"text": "x"}, ports=ports))


def test_a_run_without_a_cost_cap_counts_no_prompt() -> None:
    model = CountingLLM()
    result = run(None, model)
    assert result.status == "succeeded" and len(model.calls) == 2
    assert model.estimates == 0
    assert result.totals["cost_usd"] > 0  # the answers' real cost is still counted


def test_call_and_time_caps_hold_without_an_estimate() -> None:
    model = CountingLLM()
    result = run({"max_llm_calls": 1, "max_seconds": 60}, model)
    assert result.status == "budget_exceeded" and "max_llm_calls=1" in result.error
    assert len(model.calls) == 1 and model.estimates == 0


def test_a_cost_cap_still_refuses_a_call_on_its_estimate_before_it_is_made() -> None:
    model = CountingLLM(cost_per_call=0.02)
    result = run({"max_cost_usd": 0.03}, model)
    assert result.status == "budget_exceeded" and "est." in result.error
    assert model.estimates == 2 and len(model.calls) == 1


def test_a_host_runs_cost_cap_counts_for_the_graphs_it_runs() -> None:
    clock = SystemClock()
    host = BudgetTracker(Budget(max_cost_usd=1.0), clock)
    assert BudgetTracker(Budget(), clock, parent=host).caps_cost()
    assert not BudgetTracker(Budget(max_llm_calls=3), clock, parent=BudgetTracker(Budget(), clock)).caps_cost()

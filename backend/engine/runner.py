"""The scheduler: runs each node as soon as its inputs are ready.

Independent nodes run concurrently on one asyncio loop. A node's out-edges
are *taken* or *not taken* (a gate that fails, a router's other labels); a
node whose incoming edges are all resolved runs if at least one was taken and
is marked ``skipped`` otherwise, so the trace shows every node.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import schedule
from .budget import BudgetExceeded, BudgetTracker
from .errors import NodeFailed
from .limits import MAX_SUBGRAPH_DEPTH  # validation refuses deeper inline nesting; this is the backstop
from .nodes import get_node_type
from .ports import Ports
from .runtime import NodeContext, RunState, roll_up
from .spec import Budget, GraphSpec, Node, parse_graph
from .step_views import SkippedStep, StepView
from .templates import TemplateError
from .trace import Recorder, Span, new_id
from .types import NodeOutcome, PromptTemplate
from .validation import check_input

# How often a long wait wakes up to look at the host's cancel flag.
CANCEL_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class SeededStep:
    """A step a replay does not run: its output and the port it fired, as the original run stored them.

    The scheduler settles it like a step that just succeeded, so what it decided
    (a router's route, a gate's pass or fail) is decided again and the branches
    the original skipped stay skipped.
    """

    output: Any
    port: str | None = None


@dataclass
class RunResult:
    status: str  # succeeded | failed | budget_exceeded | cancelled
    output: Any = None
    error: str | None = None
    spans: list[Span] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    trace_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "trace_id": self.trace_id,
            "totals": self.totals,
            "spans": [s.to_dict() for s in self.spans],
        }


class _Stop(Exception):
    def __init__(self, status: str, error: str | None = None, output: Any = None):
        self.status, self.error, self.output = status, error, output


async def execute_graph(
    spec: GraphSpec,
    input: Any,
    *,
    ports: Ports,
    run_id: str | None = None,
    trace_id: str | None = None,
    prompts: Mapping[str, PromptTemplate] | None = None,
    budget: Budget | None = None,
    subgraphs: Mapping[str, Mapping[str, Any]] | None = None,
    seeded: Mapping[str, SeededStep] | None = None,
) -> RunResult:
    """Run a validated graph to the end and return its status, output and spans.

    Never raises for anything a graph or a model can do: failures become the
    run's status and error, and every span finished so far is kept. ``seeded``
    (a replay from a node) names top-level steps that do not run: their stored
    outputs stand in, and only the others make calls (and count against the budget).
    """
    trace_id = trace_id or new_id() + new_id()
    recorder = Recorder(ports.events, ports.clock, run_id or trace_id, trace_id)
    effective_budget = spec.budget.tightened(budget) if budget else spec.budget
    tracker = BudgetTracker(effective_budget, ports.clock)
    state = RunState(spec=spec, input=input, ports=ports, recorder=recorder, budget=tracker, prompts=prompts or {},
                     subgraphs=subgraphs, run_child=run_child_graph)
    recorder.emit("run.started", graph=spec.name, input=input, budget=effective_budget.to_dict(),
                  trace_id=trace_id)

    scheduler = _Scheduler(spec, state, seeded=seeded)
    try:
        input_problem = input_problems(spec, input)
        if input_problem:
            raise _Stop("failed", input_problem)
        output = await scheduler.run()
        result = RunResult("succeeded", output=output)
    except _Stop as stop:
        result = RunResult(stop.status, output=stop.output, error=stop.error)
    finally:
        await scheduler.cancel_all()

    result.trace_id = trace_id
    result.spans = recorder.spans
    result.totals = _totals(recorder.spans, tracker.elapsed())
    recorder.emit("run.completed", status=result.status, output=result.output, error=result.error,
                  totals=result.totals)
    return result


def input_problems(spec: GraphSpec, value: Any) -> str | None:
    """The run input's problems against the graph's input schema, as one line (None when fine)."""
    problems = check_input(spec.inputs, value)
    return "; ".join(str(p) for p in problems) or None


def _totals(spans: list[Span], elapsed_s: float) -> dict[str, Any]:
    llm = [s for s in spans if s.kind == "llm"]
    return {
        "input_tokens": sum(s.input_tokens for s in llm),
        "output_tokens": sum(s.output_tokens for s in llm),
        "cost_usd": round(sum(s.cost_usd for s in llm), 10),
        "llm_calls": sum(1 for s in llm if not s.cache_hit),
        "cache_hits": sum(1 for s in llm if s.cache_hit),
        # What the cache saved: the cost and model time of the original calls its hits stand in for.
        "saved_usd": round(sum(float(s.attributes.get("patchbay.cache.saved_cost_usd") or 0) for s in llm
                               if s.cache_hit), 10),
        "saved_ms": round(sum(float(s.attributes.get("patchbay.cache.saved_ms") or 0) for s in llm
                              if s.cache_hit), 3),
        "duration_ms": round(elapsed_s * 1000, 3),
    }




async def run_child_graph(parent: RunState, doc: Mapping[str, Any], input: Any, *, parent_span: Span,
                          budget: Budget | None = None) -> Any:
    """Run a subgraph inside a node: same recorder and ports, its own budget under the caller's."""
    if parent.depth >= MAX_SUBGRAPH_DEPTH:
        raise NodeFailed(f"subgraphs nest deeper than {MAX_SUBGRAPH_DEPTH} levels")
    spec = parse_graph(doc)
    problem = input_problems(spec, input)
    if problem:
        raise NodeFailed(f"the subgraph's input does not fit its schema: {problem}")
    own = spec.budget.tightened(budget) if budget else spec.budget
    tracker = BudgetTracker(own, parent.ports.clock, parent=parent.budget)
    state = RunState(spec=spec, input=input, ports=parent.ports, recorder=parent.recorder, budget=tracker,
                     prompts=parent.prompts, subgraphs=parent.subgraphs, run_child=run_child_graph, depth=parent.depth + 1)
    scheduler = _Scheduler(spec, state, parent_span=parent_span)
    try:
        return await scheduler.run()
    except _Stop as stop:
        if stop.status == "succeeded":  # a gate inside the subgraph exited early: that is its answer
            return stop.output
        if stop.status == "budget_exceeded":
            raise BudgetExceeded(stop.error or "budget exceeded", "subgraph") from None
        raise NodeFailed(f"the subgraph {stop.status}: {stop.error}") from None
    finally:
        await scheduler.cancel_all()


class _Scheduler:
    def __init__(self, spec: GraphSpec, state: RunState, parent_span: Span | None = None,
                 seeded: Mapping[str, SeededStep] | None = None):
        self.spec = spec
        self.seeded = seeded or {}
        self.state = state
        # Inside a subgraph, spans nest under the subgraph node and ids carry its path ("qa/answer").
        self.parent_span_id = parent_span.span_id if parent_span else None
        self.prefix = f"{parent_span.node_id}/" if parent_span else ""
        self.defaults = schedule.default_ports(spec, lambda n: get_node_type(n.type).out_ports(n.config))
        self.frontier, self.ready = schedule.start(spec)
        self.tasks: dict[asyncio.Task[NodeOutcome], Node] = {}
        self.spans: dict[str, Span] = {}
        self.finished: set[str] = set()
        self.output: Any = None

    async def run(self) -> Any:
        tracker, ports = self.state.budget, self.state.ports
        while True:
            for node_id in self.ready:
                node = self.spec.by_id[node_id]
                self.tasks[asyncio.create_task(self._run_node(node))] = node
            self.ready = []
            if schedule.is_done(self.ready, len(self.tasks)):
                return self.output
            timeout = tracker.remaining_seconds()
            if ports.is_cancelled is not None:
                timeout = CANCEL_POLL_SECONDS if timeout is None else min(timeout, CANCEL_POLL_SECONDS)
            done, _ = await asyncio.wait(self.tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                if ports.is_cancelled is not None and await ports.is_cancelled():
                    raise _Stop("cancelled", "the run was stopped")
                try:
                    tracker.check_time()
                except BudgetExceeded as exc:
                    # Name what was still computing: that is what the user has to look at.
                    running = ", ".join(f"'{self.prefix}{n.id}'" for n in self.tasks.values())
                    raise _Stop("budget_exceeded", f"{exc.reason} (still running: {running})") from exc
                continue
            for task in done:
                node = self.tasks.pop(task)
                self._settle(node, task)

    def _settle(self, node: Node, task: asyncio.Task[NodeOutcome]) -> None:
        exc = task.exception()
        if isinstance(exc, BudgetExceeded):
            raise _Stop("budget_exceeded", exc.reason)
        if exc is not None:
            raise _Stop("failed", f"node '{node.id}' failed: {exc}")
        outcome = task.result()
        self.finished.add(node.id)
        if outcome.exit_message is not None:
            raise _Stop("succeeded", output={"exited_early": True, "node": node.id, "message": outcome.exit_message})
        if node.type == "output":
            self.output = outcome.output
        port = outcome.port or self.defaults[node.id]
        decided = schedule.after_finished(self.spec, self.frontier, node.id, outcome.port, self.defaults)
        self.ready.extend(decided.ready)
        for node_id in decided.skipped:
            # Joins read skipped steps by name: say which decision left them off this path.
            self.state.node_views.skipped[node_id] = SkippedStep(node_id, f"{node.type} '{node.id}' chose '{port}'")
            self._record_skipped(self.spec.by_id[node_id], schedule.SKIPPED_NO_PATH)

    def _open_node_span(self, node: Node) -> Span:
        return self.state.recorder.open_span(kind="node", name=node.id, node_id=self.prefix + node.id,
                                             node_type=node.type, parent_id=self.parent_span_id)

    def _record_skipped(self, node: Node, reason: str) -> None:
        recorder = self.state.recorder
        span = self._open_node_span(node)
        recorder.close_span(span, "skipped")
        span.attributes["patchbay.skip_reason"] = reason
        recorder.emit("node.skipped", node_id=span.node_id, span=span.to_dict(), reason=reason)
        self.finished.add(node.id)

    async def _run_node(self, node: Node) -> NodeOutcome:
        recorder = self.state.recorder
        span = self._open_node_span(node)
        self.spans[node.id] = span
        recorder.emit("node.started", node_id=span.node_id, node_type=node.type, span_id=span.span_id,
                      parent_id=span.parent_id)
        seed = self.seeded.get(node.id)
        if seed is not None:
            return self._settle_seeded(node, span, seed)
        try:
            outcome = await get_node_type(node.type).run(
                node, NodeContext(run=self.state, span=span, node_id=node.id))
        except asyncio.CancelledError:
            recorder.close_span(span, "cancelled")
            recorder.emit("node.cancelled", node_id=span.node_id, span=span.to_dict())
            raise
        except BudgetExceeded as exc:
            self._fail(node, span, f"budget exceeded: {exc.reason}")
            raise
        except (NodeFailed, TemplateError) as exc:
            self._fail(node, span, str(exc))
            raise NodeFailed(str(exc)) from exc
        except Exception as exc:  # a bug in a node type must still end the run cleanly
            message = f"internal error: {type(exc).__name__}: {exc}"
            self._fail(node, span, message)
            raise NodeFailed(message) from exc
        self.state.node_views[node.id] = StepView(output=outcome.output)
        span.attributes.update(outcome.attributes)
        if outcome.port:
            span.attributes["patchbay.port"] = outcome.port
        recorder.close_span(span, "succeeded", output=outcome.output)
        roll_up(span, recorder.children.get(span.span_id, []))
        recorder.emit("node.completed", node_id=span.node_id, span=span.to_dict())
        return outcome

    def _settle_seeded(self, node: Node, span: Span, seed: SeededStep) -> NodeOutcome:
        """A replayed run's upstream step: no call, the stored output and decision (the span says so)."""
        self.state.node_views[node.id] = StepView(output=seed.output)
        span.attributes["patchbay.seeded"] = True
        if seed.port:
            span.attributes["patchbay.port"] = seed.port
        self.state.recorder.close_span(span, "succeeded", output=seed.output)
        self.state.recorder.emit("node.completed", node_id=span.node_id, span=span.to_dict())
        return NodeOutcome(output=seed.output, port=seed.port)

    def _fail(self, node: Node, span: Span, message: str) -> None:
        recorder = self.state.recorder
        recorder.close_span(span, "failed", error=message)
        roll_up(span, recorder.children.get(span.span_id, []))
        recorder.emit("node.failed", node_id=span.node_id, span=span.to_dict(), error=message)

    async def cancel_all(self) -> None:
        """Stop whatever still runs, and mark every node that never started as skipped."""
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        for node_id in schedule.never_started(self.spec, self.spans, self.finished):
            self._record_skipped(self.spec.by_id[node_id], schedule.SKIPPED_RUN_STOPPED)


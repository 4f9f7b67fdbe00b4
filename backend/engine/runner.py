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
from .approvals import AwaitingDecision, Resume
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
from .types import NodeOutcome, PromptTemplate, SeededStep
from .validation import check_input

# How often a long wait wakes up to look at the host's cancel flag.
CANCEL_POLL_SECONDS = 0.25


@dataclass
class RunResult:
    status: str  # succeeded | failed | budget_exceeded | cancelled | waiting (for a person's decision)
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
    resume: Resume | None = None,
) -> RunResult:
    """Run a validated graph to the end and return its status, output and spans.

    Never raises for anything a graph or a model can do: failures become the
    run's status and error, and every span finished so far is kept. ``seeded``
    (a replay from a node) names top-level steps that do not run: their stored
    outputs stand in, and only the others make calls (and count against the budget).

    ``resume`` goes on with a run that stopped to wait for a person: its finished steps are
    settled from their stored outputs without new spans, its approval steps get their decisions,
    its budget and totals continue from where they stopped, and its events keep numbering.
    A run that reaches an approval step with no decision ends this pass ``waiting``
    (``run.waiting``, not ``run.completed``: the run is not over).
    """
    trace_id = trace_id or new_id() + new_id()
    recorder = Recorder(ports.events, ports.clock, run_id or trace_id, trace_id)
    effective_budget = spec.budget.tightened(budget) if budget else spec.budget
    tracker = BudgetTracker(effective_budget, ports.clock)
    state = RunState(spec=spec, input=input, ports=ports, recorder=recorder, budget=tracker, prompts=prompts or {},
                     subgraphs=subgraphs, run_child=run_child_graph)
    carried: Mapping[str, Any] = {}
    if resume is None:
        recorder.emit("run.started", graph=spec.name, input=input, budget=effective_budget.to_dict(),
                      trace_id=trace_id)
    else:
        recorder.seq, carried, state.approvals, seeded = resume.last_seq, resume.totals, resume.approvals, resume.seeded
        tracker.carry(carried)
        recorder.emit("run.resumed", decided=[n for n, w in resume.approvals.items() if w.decision is not None])

    scheduler = _Scheduler(spec, state, seeded=seeded, recorded=resume.recorded if resume else frozenset())
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
    result.totals = _totals(recorder.spans, tracker.elapsed(), carried)
    if result.status == "waiting":
        recorder.emit("run.waiting", waiting=list(scheduler.waiting), totals=result.totals)
    else:
        recorder.emit("run.completed", status=result.status, output=result.output, error=result.error,
                      totals=result.totals)
    return result


def input_problems(spec: GraphSpec, value: Any) -> str | None:
    """The run input's problems against the graph's input schema, as one line (None when fine)."""
    problems = check_input(spec.inputs, value)
    return "; ".join(str(p) for p in problems) or None


def _totals(spans: list[Span], elapsed_s: float, carried: Mapping[str, Any]) -> dict[str, Any]:
    """The run's totals from its spans, plus what a resumed run had spent before it waited."""
    llm = [s for s in spans if s.kind == "llm"]
    own = {
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
    }
    totals = {key: value + (carried.get(key) or 0) for key, value in own.items()}
    totals["cost_usd"], totals["saved_usd"] = round(totals["cost_usd"], 10), round(totals["saved_usd"], 10)
    totals["duration_ms"] = round(elapsed_s * 1000, 3)  # the tracker's elapsed already carries the time before
    return totals




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
        if stop.status == "waiting":
            raise NodeFailed("an approval step cannot wait inside a subgraph; put it in the calling graph") from None
        if stop.status == "budget_exceeded":
            raise BudgetExceeded(stop.error or "budget exceeded", "subgraph") from None
        raise NodeFailed(f"the subgraph {stop.status}: {stop.error}") from None
    finally:
        await scheduler.cancel_all()


class _Scheduler:
    def __init__(self, spec: GraphSpec, state: RunState, parent_span: Span | None = None,
                 seeded: Mapping[str, SeededStep] | None = None, recorded: frozenset[str] = frozenset()):
        self.spec = spec
        self.seeded = seeded or {}
        self.recorded = recorded  # a resumed run's steps whose spans are stored: settled without a new span
        self.waiting: list[str] = []  # approval steps waiting for a decision
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
                if self.waiting:  # every branch that could go on went on: the rest waits for a person
                    raise _Stop("waiting")
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
        if isinstance(exc, AwaitingDecision):
            self.waiting.append(node.id)  # its out-edges stay unresolved: what follows it waits too
            return
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
        if node.id in self.recorded:  # skipped before the run waited: its span is stored already
            self.finished.add(node.id)
            return
        recorder = self.state.recorder
        span = self._open_node_span(node)
        recorder.close_span(span, "skipped")
        span.attributes["patchbay.skip_reason"] = reason
        recorder.emit("node.skipped", node_id=span.node_id, span=span.to_dict(), reason=reason)
        self.finished.add(node.id)

    async def _run_node(self, node: Node) -> NodeOutcome:
        recorder = self.state.recorder
        seed = self.seeded.get(node.id)
        if seed is not None and node.id in self.recorded:  # a resumed run's finished step: stored, not re-recorded
            self.state.node_views[node.id] = StepView(output=seed.output)
            return NodeOutcome(output=seed.output, port=seed.port)
        span = self._open_node_span(node)
        self.spans[node.id] = span
        wait = self.state.approvals.get(node.id) if not self.prefix else None
        if wait is not None:  # the same wait span goes on: one span per wait, from the request to the decision
            span.span_id, span.started_at = wait.span_id, wait.requested_at
        else:
            recorder.emit("node.started", node_id=span.node_id, node_type=node.type, span_id=span.span_id,
                          parent_id=span.parent_id)
        if seed is not None:
            return self._settle_seeded(node, span, seed)
        try:
            outcome = await get_node_type(node.type).run(
                node, NodeContext(run=self.state, span=span, node_id=node.id))
        except AwaitingDecision as asking:
            self._wait(span, asking, first=wait is None)
            raise
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

    def _wait(self, span: Span, asking: AwaitingDecision, *, first: bool) -> None:
        """An approval step with no decision: its span stays open as ``waiting``; the first time, the request
        goes out as ``approval.requested`` (the host stores it and tells the people who may decide)."""
        span.status = "waiting"
        span.input = asking.request.get("draft")
        span.attributes["patchbay.approval.title"] = asking.request.get("title")
        if first:
            self.state.recorder.emit("approval.requested", node_id=span.node_id, span=span.to_dict(),
                                     request=asking.request)

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
        if self.waiting:  # not the end: what has not started yet runs after the decision
            return
        for node_id in schedule.never_started(self.spec, self.spans, self.finished):
            self._record_skipped(self.spec.by_id[node_id], schedule.SKIPPED_RUN_STOPPED)


"""What a running node may use: its template context, and model calls that
respect the budget, the cache, and are traced as spans."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from .approvals import ApprovalWait
from .budget import BudgetExceeded, BudgetTracker
from .canonical import canonical_hash
from .errors import NodeFailed
from .limits import MAX_JSON_DEPTH
from .ports import DEFAULT_CACHE_TTL_S, LLMError, LLMRequest, LLMResult, Ports
from .problems import depth_problem
from .schemas import SchemaUnusable, schema_errors
from .spec import Budget, GraphSpec
from .step_views import NodeViews
from .template_limits import RenderTimeout
from .templates import render_text_async, render_value_async
from .trace import Recorder, Span
from .types import PromptTemplate


class RunChildGraph(Protocol):
    """How a node runs a subgraph: ``runner.run_child_graph``."""

    def __call__(self, parent: RunState, doc: Mapping[str, Any], input: Any, *, parent_span: Span,
                 budget: Budget | None = None) -> Awaitable[Any]: ...


class NodeContext:
    """A running node's view of the run: its variables, its span, and model calls traced under it."""

    def __init__(self, *, run: RunState, span: Span, node_id: str, extra: Mapping[str, Any] | None = None):
        self._run = run
        self.span = span
        self.node_id = node_id  # the id within its own graph (spans carry the nested path)
        self._extra = dict(extra or {})

    @property
    def template_context(self) -> dict[str, Any]:
        return {"input": self._run.input, "nodes": self._run.node_views, **self._extra}

    def with_vars(self, **extra: Any) -> NodeContext:
        """The same node, with more template variables (a worker's ``task``, a generator's ``feedback``)."""
        return NodeContext(run=self._run, span=self.span, node_id=self.node_id, extra={**self._extra, **extra})

    async def render_text(self, source: str) -> str:
        """Render a template with this node's variables, off the shared loop and within the run's time."""
        return await self._render(render_text_async, source)

    async def render_value(self, source: Any) -> Any:
        """Render a value (``"{{ expr }}"`` keeps its type; dicts and lists recurse); see ``render_text``."""
        return await self._render(render_value_async, source)

    async def _render(self, render: Any, source: Any) -> Any:
        # A snapshot of the node outputs: the render may run in a thread while other nodes finish.
        variables = {**self.template_context, "nodes": self._run.node_views.snapshot()}
        try:
            return await render(source, variables, seconds=self._run.budget.remaining_seconds())
        except RenderTimeout as exc:  # only the run's budget gets here; a render's own ceiling is a TemplateError
            reason = "the run ran out of max_seconds"
            try:
                self._run.budget.check_time()
            except BudgetExceeded as over:
                reason = over.reason
            raise BudgetExceeded(f"{reason}: node '{self.span.node_id}' was still rendering a template",
                                 "max_seconds") from exc

    @property
    def outgoing_edges(self) -> list[Any]:
        return self._run.spec.outgoing[self.node_id]

    @property
    def approval_wait(self) -> ApprovalWait | None:
        """The wait this approval step already asked for (a resumed run), with its decision once made."""
        return self._run.approvals.get(self.node_id) if self._run.depth == 0 else None

    @property
    def prompts(self) -> Mapping[str, PromptTemplate]:
        return self._run.prompts

    async def call_llm(self, request: LLMRequest, *, name: str = "llm") -> LLMResult:
        return await self._run.call_llm(request, parent=self.span, name=name)

    @asynccontextmanager
    async def child(self, name: str, kind: str, input: Any = None) -> AsyncIterator[NodeContext]:
        """A child span (a plan, a worker, a branch, a vote sample, an iteration) with its own calls under it.

        Set ``child.span.output`` before leaving; failures close the span as failed and propagate.
        """
        recorder = self._run.recorder
        span = recorder.open_span(kind=kind, name=name, node_id=self.span.node_id, parent_id=self.span.span_id,
                                  node_type=self.span.node_type, input=input)
        ctx = NodeContext(run=self._run, span=span, node_id=self.node_id, extra=self._extra)
        try:
            yield ctx
        except asyncio.CancelledError:
            recorder.close_span(span, "cancelled", error="cancelled")
            recorder.emit("span.completed", span=span.to_dict())
            raise
        except Exception as exc:
            recorder.close_span(span, "failed", error=str(exc) or type(exc).__name__)
            recorder.emit("span.completed", span=span.to_dict())
            raise
        roll_up(span, recorder.children.get(span.span_id, []))
        recorder.close_span(span, "succeeded")
        recorder.emit("span.completed", span=span.to_dict())

    async def run_subgraph(self, doc: Mapping[str, Any], input: Any, budget: Budget | None = None) -> Any:
        """Run another graph as part of this node: its spans nest under this one, its calls count here."""
        return await self._run.run_child(self._run, doc, input, parent_span=self.span, budget=budget)

    def resolve_subgraph(self, config: Mapping[str, Any]) -> Mapping[str, Any]:
        if "spec" in config:
            return config["spec"]
        doc = self._run.subgraphs.get(config.get("graph", ""))
        if doc is None:
            raise NodeFailed(f"graph '{config.get('graph')}' could not be found")
        return doc


def roll_up(span: Span, children: list[Span]) -> None:
    """A parent span carries the tokens and cost of its direct children (each child was
    rolled up in turn when it closed, so the totals include everything beneath)."""
    if not children:
        return
    span.input_tokens = sum(s.input_tokens for s in children)
    span.output_tokens = sum(s.output_tokens for s in children)
    span.cost_usd = sum(s.cost_usd for s in children)
    llm = [s for s in children if s.kind == "llm"]
    if llm:
        span.cache_hit = all(s.cache_hit for s in llm)
        span.model = llm[-1].model


class RunState:
    """The mutable state of one run, shared by its nodes (one event loop: no locks)."""

    def __init__(self, *, spec: GraphSpec, input: Any, ports: Ports, recorder: Recorder, budget: BudgetTracker,
                 prompts: Mapping[str, PromptTemplate], subgraphs: Mapping[str, Mapping[str, Any]] | None = None,
                 run_child: RunChildGraph, depth: int = 0):
        self.spec = spec
        self.input = input
        self.ports = ports
        self.recorder = recorder
        self.budget = budget
        self.prompts = prompts
        self.subgraphs = subgraphs or {}
        # The scheduler's own entry for subgraphs, handed in so this module need not import the scheduler.
        self.run_child = run_child
        self.depth = depth  # nesting level of subgraphs, capped so a bad reference cannot recurse forever
        # What templates see as nodes.<id>: {"output": ...} for every finished node; skipped ones by lookup.
        self.node_views = NodeViews()
        # A resumed run's approval steps: the wait each already asked for, with its decision once made.
        self.approvals: Mapping[str, ApprovalWait] = {}

    async def call_llm(self, request: LLMRequest, *, parent: Span, name: str) -> LLMResult:
        ports, recorder = self.ports, self.recorder
        cache_key = await _cache_key(request, ports) if _cacheable(request) else None
        cached = await ports.cache.get(cache_key) if cache_key is not None else None
        if cached is not None and not (isinstance(cached, dict) and isinstance(cached.get("result"), dict)):
            cached = None  # not an entry this version wrote: ask the model
        estimate = 0.0
        if cached is None:
            # Reserve before opening the span: a call the budget refuses never happened. Only a cost cap reads
            # the estimate (the call and time caps do not): without one, no prompt is counted in tokens.
            if self.budget.caps_cost():
                estimate = await ports.llm.estimate_cost(request)
            self.budget.reserve_call(estimate)
        span = recorder.open_span(kind="llm", name=name, node_id=parent.node_id, parent_id=parent.span_id,
                                  input={"messages": request.messages, "params": request.params})
        span.attributes.update({
            "gen_ai.operation.name": "chat",
            "patchbay.model_alias": request.alias,
            **{f"gen_ai.request.{k}": v for k, v in request.params.items() if isinstance(v, (int, float, str))},
        })
        if cached is not None:
            result = LLMResult(**cached["result"])
            self._fill_llm_span(span, result)
            span.attributes.pop("patchbay.attempts", None)  # the original call's; a hit made no attempt
            span.cache_hit = True
            span.cost_usd = 0.0  # a cache hit costs nothing; what the original call cost and took is what it saved
            span.attributes.update({
                "patchbay.cache.hit": True,
                "patchbay.cache.saved_cost_usd": result.cost_usd,
                "patchbay.cache.saved_ms": float(cached.get("duration_ms") or 0.0),
            })
            return self._finish_llm_span(span, result, request)

        remaining = self.budget.remaining_seconds()
        if remaining is not None:
            request.timeout_s = remaining if request.timeout_s is None else min(request.timeout_s, remaining)

        on_delta = None
        if request.stream:
            def on_delta(text: str, *, attempt: int = 1) -> None:
                # attempt > 1: a retry or fallback; text streamed under an earlier attempt is void.
                recorder.emit("node.delta", node_id=parent.node_id, span_id=span.span_id, text=text,
                              attempt=attempt)

        started = ports.clock.monotonic()
        try:
            result = await ports.llm.complete(request, on_delta)
        except LLMError as exc:
            self.budget.settle_call(estimate, 0.0)
            span.model = exc.model
            span.attributes.update(exc.attributes)
            span.attributes["patchbay.attempts"] = exc.attempts
            span.attributes["error.type"] = exc.kind
            recorder.close_span(span, "failed", error=str(exc))
            recorder.emit("span.completed", span=span.to_dict())
            raise NodeFailed(f"model '{request.alias}' failed: {exc}") from exc
        except BaseException:
            self.budget.settle_call(estimate, 0.0)
            recorder.close_span(span, "cancelled", error="cancelled")
            raise

        self._fill_llm_span(span, result)
        try:
            self.budget.settle_call(estimate, result.cost_usd)
        finally:
            # The span is finished and kept even when its cost broke the budget.
            self._finish_llm_span(span, result, request)
        if cache_key is not None and span.status == "succeeded":
            # Kept with the answer: what a later hit saves is this call's cost and time.
            entry = {"result": result.__dict__, "duration_ms": round((ports.clock.monotonic() - started) * 1000, 3)}
            await ports.cache.set(cache_key, entry, request.cache_ttl_s or DEFAULT_CACHE_TTL_S)
        return result

    def _fill_llm_span(self, span: Span, result: LLMResult) -> None:
        span.model = result.model
        span.input_tokens = result.input_tokens
        span.output_tokens = result.output_tokens
        span.cost_usd = result.cost_usd
        span.attributes.update({
            "gen_ai.response.model": result.model,
            "gen_ai.usage.input_tokens": result.input_tokens,
            "gen_ai.usage.output_tokens": result.output_tokens,
            **({"patchbay.attempts": result.attempts} if result.attempts else {}),
            "patchbay.demo_model": result.demo,
            **({"patchbay.fallback_from": result.fallback_from} if result.fallback_from else {}),
            **result.attributes,
        })

    def _finish_llm_span(self, span: Span, result: LLMResult, request: LLMRequest) -> LLMResult:
        status = "succeeded"
        error = None
        if request.response_schema is not None:
            try:
                result.parsed = parse_structured(result.text, request.response_schema)
                span.output = result.parsed
            except NodeFailed as exc:
                status, error = "failed", str(exc)
                span.output = result.text
        else:
            span.output = result.text
        self.recorder.close_span(span, status, error=error)
        self.recorder.emit("span.completed", span=span.to_dict())
        if error:
            raise NodeFailed(error)
        return result


def parse_structured(text: str, schema: Mapping[str, Any]) -> Any:
    """Parse a structured-output answer and hold it to its schema."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NodeFailed(f"the model's answer is not JSON ({exc.msg} at position {exc.pos})") from exc
    except RecursionError:
        raise NodeFailed(f"the model's JSON nests more than {MAX_JSON_DEPTH} levels deep") from None
    if depth_problem(value, "") is not None:  # it could not be stored, nor walked by the schema check
        raise NodeFailed(f"the model's JSON nests more than {MAX_JSON_DEPTH} levels deep")
    try:
        errors = sorted(schema_errors(schema, value), key=lambda e: [str(p) for p in e.path])
    except SchemaUnusable as exc:  # a graph saved before refs were checked at save time
        raise NodeFailed(f"output_schema cannot be used: {exc}") from None
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        raise NodeFailed(f"the model's JSON does not match output_schema at {where}: {first.message}")
    return value


def _cacheable(request: LLMRequest) -> bool:
    # Deterministic steps only: an explicit cache flag, or temperature 0. Streaming does not matter: a miss
    # streams as it is written, a hit has nothing left to stream.
    if request.cache is not None:
        return request.cache
    return request.params.get("temperature") == 0


async def _cache_key(request: LLMRequest, ports: Ports) -> str | None:
    """Everything the answer depends on: the model the alias resolves to now (not its name, so remapping an
    alias misses), the rendered messages, params, output schema, and the step's config and prompt version."""
    try:
        model = await ports.llm.resolved_model(request.alias)
    except LLMError:
        return None  # an unknown alias: the call itself fails, with its own span
    return "llm2:" + canonical_hash({"model": model, "messages": request.messages, "params": request.params,
                                     "schema": request.response_schema, "context": request.cache_context})

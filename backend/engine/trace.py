"""Spans and events: what the engine records about a run as it goes.

Span attribute names follow the OpenTelemetry GenAI conventions where one
exists (gen_ai.request.model, gen_ai.usage.input_tokens, ...), so traces can be
exported to any OTel backend without renaming.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .ports import Clock, Events

# Events that are persisted and numbered; node.delta is live-only.
PERSISTED_EVENTS = (
    "run.started",
    "node.started",
    "node.completed",
    "node.failed",
    "node.skipped",
    "node.cancelled",
    "span.completed",
    "run.completed",
    "approval.requested",  # an approval step asks a person; the run goes on to wait
    "run.waiting",  # the run stopped to wait for a decision (it is not over: no run.completed yet)
    "run.resumed",  # a decision came: the run goes on from where it stopped
)


def new_id() -> str:
    """16 random hex digits (64 bits, an OTLP span id). Made for every span of every run: ``os.urandom``
    directly, not a UUID built and cut down (uuid4 costs ~3× as much and gives 4 fixed bits)."""
    return os.urandom(8).hex()


@dataclass
class Span:
    span_id: str
    trace_id: str
    kind: str  # node | llm | tool
    name: str
    node_id: str | None
    parent_id: str | None = None
    node_type: str | None = None
    status: str = "running"  # running | succeeded | failed | skipped | cancelled | waiting
    started_at: float = 0.0  # epoch seconds
    ended_at: float | None = None
    input: Any = None
    output: Any = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_hit: bool = False
    error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at) * 1000, 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "trace_id": self.trace_id,
            "kind": self.kind,
            "name": self.name,
            "node_id": self.node_id,
            "node_type": self.node_type,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_ms": self.duration_ms,
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "cache_hit": self.cache_hit,
            "error": self.error,
            "attributes": self.attributes,
        }


class Recorder:
    """Numbers events, stamps them, and keeps every span of the run."""

    def __init__(self, events: Events, clock: Clock, run_id: str, trace_id: str):
        self._events = events
        self.clock = clock
        self.run_id = run_id
        self.trace_id = trace_id
        self.seq = 0
        self.spans: list[Span] = []
        # Each span's direct children, kept as spans open: rolling totals up never scans the whole run.
        self.children: dict[str, list[Span]] = {}

    def emit(self, event_type: str, **data: Any) -> None:
        event: dict[str, Any] = {"type": event_type, "run_id": self.run_id, "ts": self.clock.now(), **data}
        if event_type in PERSISTED_EVENTS:
            self.seq += 1
            event["seq"] = self.seq
        else:
            # Live-only events carry the seq they follow, so a client can place them.
            event["seq"] = None
            event["after_seq"] = self.seq
        self._events.emit(event)

    def open_span(self, *, kind: str, name: str, node_id: str | None, parent_id: str | None = None,
                  node_type: str | None = None, input: Any = None) -> Span:
        span = Span(
            span_id=new_id(), trace_id=self.trace_id, kind=kind, name=name, node_id=node_id,
            parent_id=parent_id, node_type=node_type, started_at=self.clock.now(), input=input,
        )
        self.spans.append(span)
        if parent_id is not None:
            self.children.setdefault(parent_id, []).append(span)
        return span

    def close_span(self, span: Span, status: str, *, output: Any = None, error: str | None = None) -> None:
        span.status = status
        span.ended_at = self.clock.now()
        if output is not None:
            span.output = output
        if error is not None:
            span.error = error

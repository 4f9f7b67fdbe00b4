"""Plain values the engine's layers hand each other (like langgraph's ``types.py``).

Imports nothing of the engine, so the node types, steps, the runtime, the
scheduler and validation can all use them without an import circle.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class NodeOutcome:
    """What a node's ``run`` returns."""

    output: Any
    # Which out-port fired; edges on other ports are not taken. None = the default port.
    port: str | None = None
    # Set by a gate that stops the whole run early, with this message as its result.
    exit_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt resolved by the host (``name@label`` or ``name@3``) before the run."""

    ref: str
    template: str
    system: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class ValidationContext:
    """What the host knows: saved prompts and model aliases. None means "don't check"."""

    prompts: Mapping[str, PromptTemplate] | None = None
    model_aliases: Collection[str] | None = None
    # Saved graphs that subgraph steps name ("#12@3" → spec); None means "don't check".
    subgraphs: Mapping[str, Mapping[str, Any]] | None = None
    # The saved graph being validated ("#12", see graph_refs.py), so a reference back to any of its
    # versions is found; None: a reference back is recognised by the document's name.
    graph_key: str | None = None


@dataclass(frozen=True)
class SeededStep:
    """A step a replay does not run: its output and the port it fired, as the original run stored them.

    The scheduler settles it like a step that just succeeded, so what it decided
    (a router's route, a gate's pass or fail) is decided again and the branches
    the original skipped stay skipped.
    """

    output: Any
    port: str | None = None

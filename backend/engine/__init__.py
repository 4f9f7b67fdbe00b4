"""Patchbay's engine: the pure core that validates and runs a graph.

Nothing in this package imports Django, Celery or a network client. The host
hands it a spec, an input and ports (``llm``, ``events``, ``cache``,
``clock``); everything with I/O lives in adapters around it.
"""
from __future__ import annotations

from .approvals import ApprovalWait, Decision, Resume
from .problems import Problem
from .runner import RunResult, execute_graph
from .spec import GraphSpec, parse_graph
from .types import SeededStep
from .validation import ValidationContext, validate_graph

__all__ = [
    "GraphSpec",
    "ApprovalWait",
    "Decision",
    "Problem",
    "Resume",
    "RunResult",
    "SeededStep",
    "ValidationContext",
    "execute_graph",
    "parse_graph",
    "validate_graph",
]

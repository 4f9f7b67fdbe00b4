"""What the engine knows about a person's decision: an approval step waits for one, a resumed run carries it.

The engine never waits on a person itself. An approval step with no decision
raises ``AwaitingDecision``; the scheduler marks the step ``waiting``, lets the
other branches finish, and ends the pass with status ``waiting``. The host
stores the request, and when a decision comes it runs the graph again with
``Resume``: the steps that finished are settled from their stored outputs (no
model call repeated) and the approval step takes the port the person chose.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .types import SeededStep

APPROVE, REJECT = "approve", "reject"
DEFAULT_ACTIONS = (APPROVE, REJECT, "fail")
PORT_FOR = {APPROVE: "approved", REJECT: "rejected"}


@dataclass(frozen=True)
class Decision:
    """What a person (or the deadline) decided: the action, what flows on, the form's fields, who and when."""

    action: str  # approve | reject
    output: Any  # the draft as approved (edited or not), or as rejected
    by: str  # a username, "signed link", or "deadline"
    at: float  # epoch seconds
    via: str = "api"  # canvas | api | link | deadline
    fields: Mapping[str, Any] = field(default_factory=dict)  # the form's answers, e.g. a reason on reject
    edited: bool = False  # approved with a changed draft


@dataclass(frozen=True)
class ApprovalWait:
    """An approval step that already asked: its wait span (kept, so the trace has one span per wait) and the
    decision, once there is one."""

    span_id: str
    requested_at: float
    decision: Decision | None = None


@dataclass(frozen=True)
class Resume:
    """A run resumed after a wait: where it stood, so it goes on rather than starting again."""

    seeded: Mapping[str, SeededStep]  # top-level steps that succeeded before: their stored output and port
    recorded: frozenset[str]  # steps whose spans are stored already (succeeded or skipped): not recorded twice
    approvals: Mapping[str, ApprovalWait]
    totals: Mapping[str, Any] = field(default_factory=dict)  # the run's totals when it stopped to wait
    last_seq: int = 0  # events go on numbering from here


class AwaitingDecision(Exception):  # noqa: N818 - not an error: the step's way of saying "ask a person"
    """Raised by an approval step that has no decision yet; ``request`` is what the person is shown."""

    def __init__(self, request: dict[str, Any]):
        super().__init__("waiting for a decision")
        self.request = request

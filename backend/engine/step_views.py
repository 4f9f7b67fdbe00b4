"""What templates see as ``nodes.<id>``: a step that ran, or one that did not run on this path.

After a router or a gate, a join reads steps that only some paths reach. A step
that ran is ``{"output": ...}`` (``.ran`` is true); a step the run skipped is
still there, with ``.ran`` false and an ``output`` that ``| default('')`` and
``is defined`` see as undefined, and that, printed plainly, fails in words
naming the step and the route taken. ``id in nodes`` stays true only for steps
that ran, so templates that loop over ``nodes`` keep working.
"""
from __future__ import annotations

from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined


class StepView(dict[str, Any]):
    """A step that ran: its ``output`` as a key (so it prints as before), ``ran``/``skipped`` as attributes."""

    ran = True
    skipped = False


class SkippedOutput(ChainableUndefined, StrictUndefined):
    """The output of a step that did not run: ``default`` and ``is defined`` work, and
    ``.field`` chains (``nodes.t.output.text | default('')``); printing or testing it fails with its hint."""

    __slots__ = ()


class SkippedStep:
    """A step that did not run on this path."""

    __slots__ = ("output", "why")
    ran = False
    skipped = True

    def __init__(self, node_id: str, why: str):
        self.why = why  # e.g. "router 'classify' chose 'billing'"
        self.output = SkippedOutput(hint=(
            f"step '{node_id}' did not run on this path ({why}); "
            f"use `| default('')` or test `nodes.{node_id}.ran`"))

    def fail(self) -> Any:
        """Used as a value (printed, or returned whole): fail with the output's words."""
        return self.output._fail_with_undefined_error()

    def __str__(self) -> str:
        return str(self.fail())


class NodeViews(dict[str, StepView]):
    """``nodes`` in a template: the steps that ran, and (by lookup only) those skipped on this path."""

    def __init__(self, ran: dict[str, StepView] | None = None, skipped: dict[str, SkippedStep] | None = None):
        super().__init__(ran or {})
        self.skipped: dict[str, SkippedStep] = dict(skipped or {})

    def __missing__(self, key: str) -> SkippedStep:
        step = self.skipped.get(key)
        if step is None:
            raise KeyError(key)
        return step

    def snapshot(self) -> NodeViews:
        """A copy for one render (it may run in a thread while other steps finish)."""
        return NodeViews(dict(self), self.skipped)


# The fields a template may read on ``nodes.<id>`` (validation refuses others).
STEP_FIELDS = frozenset({"output", "ran", "skipped"})

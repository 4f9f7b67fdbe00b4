"""Hard per-run budgets: cost, wall time and number of model calls.

Checked before each model call (on an estimate, with the call's slot reserved
so concurrent branches cannot overspend together) and after it (on the
actual cost).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ports import Clock
from .spec import Budget


class BudgetExceeded(Exception):
    def __init__(self, reason: str, limit: str):
        super().__init__(reason)
        self.reason = reason
        self.limit = limit  # max_cost_usd | max_seconds | max_llm_calls


class BudgetTracker:
    """One run's budget. A subgraph gets its own tracker whose ``parent`` is the caller's:
    every call counts against both, so a nested graph can never spend past its host."""

    def __init__(self, budget: Budget, clock: Clock, parent: BudgetTracker | None = None):
        self.budget = budget
        self.clock = clock
        self.parent = parent
        self.started = clock.monotonic()
        self.calls = 0
        self.spent_usd = 0.0
        self._reserved_usd = 0.0

    def carry(self, totals: Mapping[str, Any]) -> None:
        """Go on from a run's totals when it stopped to wait: its engine time, calls and spend count.
        (The time it waited is not engine time: a person's deadline, ``max_wait_seconds``, bounds that.)"""
        self.started -= float(totals.get("duration_ms") or 0) / 1000
        self.calls += int(totals.get("llm_calls") or 0)
        self.spent_usd += float(totals.get("cost_usd") or 0)

    def caps_cost(self) -> bool:
        """Whether this run (or a host it runs inside) has a cost cap: only then does a call need its estimate."""
        return self.budget.max_cost_usd is not None or (self.parent is not None and self.parent.caps_cost())

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.started

    def remaining_seconds(self) -> float | None:
        own = None if self.budget.max_seconds is None else max(0.0, self.budget.max_seconds - self.elapsed())
        inherited = self.parent.remaining_seconds() if self.parent else None
        if own is None or inherited is None:
            return own if inherited is None else inherited
        return min(own, inherited)

    def check_time(self) -> None:
        if self.parent:
            self.parent.check_time()
        limit = self.budget.max_seconds
        if limit is not None and self.elapsed() >= limit:
            raise BudgetExceeded(f"the run took longer than max_seconds={limit:g}", "max_seconds")

    def reserve_call(self, estimated_usd: float) -> None:
        """Claim one model call and its estimated cost, or raise if that would pass a limit."""
        if self.parent:
            self.parent.reserve_call(estimated_usd)
        try:
            self._reserve_own(estimated_usd)
        except BudgetExceeded:
            if self.parent:
                self.parent.release_call(estimated_usd)
            raise

    def _reserve_own(self, estimated_usd: float) -> None:
        self.check_time()
        max_calls = self.budget.max_llm_calls
        if max_calls is not None and self.calls >= max_calls:
            raise BudgetExceeded(
                f"a model call would exceed max_llm_calls={max_calls} ({self.calls} made)", "max_llm_calls"
            )
        max_cost = self.budget.max_cost_usd
        committed = self.spent_usd + self._reserved_usd
        if max_cost is not None and committed + estimated_usd > max_cost:
            raise BudgetExceeded(
                f"the next model call (est. ${estimated_usd:.6f}) would exceed max_cost_usd={max_cost:g}"
                f" (${committed:.6f} already committed)",
                "max_cost_usd",
            )
        self.calls += 1
        self._reserved_usd += estimated_usd

    def settle_call(self, estimated_usd: float, actual_usd: float) -> None:
        """Replace a reservation with the real cost, raising if the real cost broke the limit."""
        if self.parent:
            self.parent.settle_call(estimated_usd, actual_usd)
        self._reserved_usd = max(0.0, self._reserved_usd - estimated_usd)
        self.spent_usd += actual_usd
        max_cost = self.budget.max_cost_usd
        if max_cost is not None and self.spent_usd > max_cost:
            raise BudgetExceeded(
                f"spent ${self.spent_usd:.6f}, over max_cost_usd={max_cost:g}", "max_cost_usd"
            )

    def release_call(self, estimated_usd: float) -> None:
        """A reserved call that never reached the provider (cache hit, refusal) costs nothing."""
        if self.parent:
            self.parent.release_call(estimated_usd)
        self._reserved_usd = max(0.0, self._reserved_usd - estimated_usd)
        self.calls -= 1

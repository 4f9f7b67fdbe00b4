"""The eval gate's rule, pure: may a candidate replace the baseline?"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    baseline_pass_rate: float | None
    candidate_pass_rate: float | None
    drop: float | None  # baseline − candidate, in rate units (0.1 = 10 points)
    threshold: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rate(summary: Mapping[str, Any] | None) -> float | None:
    value = ((summary or {}).get("pass_rate") or {}).get("value")
    return float(value) if isinstance(value, int | float) else None


def drop_allowed(baseline: float, candidate: float, threshold: float) -> bool:
    """The gate's one rule: a pass rate may fall below the baseline's by ``threshold`` at most (rate units)."""
    return round(baseline - candidate, 10) <= threshold


def gate_verdict(baseline_summary: Mapping[str, Any] | None, candidate_summary: Mapping[str, Any] | None,
                 threshold: float) -> Verdict:
    """Refuse when the candidate's pass rate is below the baseline's by more than ``threshold``.

    No baseline yet (the first release to production, or one never evaluated) lets it through, eval or not;
    against a baseline with numbers, a candidate with no finished eval does not pass.
    """
    base, cand = _rate(baseline_summary), _rate(candidate_summary)
    if base is None:
        return Verdict(True, None, cand, None, threshold, "no baseline to compare with")
    if cand is None:
        return Verdict(False, base, None, None, threshold, "the candidate has no finished eval on the held-out sets")
    drop = round(base - cand, 10)
    if not drop_allowed(base, cand, threshold):
        return Verdict(False, base, cand, drop, threshold,
                       f"the pass rate drops from {base:.1%} to {cand:.1%}, more than the {threshold:.1%} allowed")
    return Verdict(True, base, cand, drop, threshold, f"pass rate {cand:.1%} against {base:.1%}")

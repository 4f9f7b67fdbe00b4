"""Aggregates of an eval run, with 95 % confidence intervals: pure, no Django.

- a rate (pass rate): the Wilson score interval, right at small n and near 0 or 1 where the normal one is not;
- a mean (a scorer's mean, latency): mean ± t(0.975, n-1) · s / √n, Student's t for the small samples evals have;
- percentiles: linear interpolation between closest ranks (numpy's default), so p50 of [1, 2, 3, 4] is 2.5.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Z_95 = 1.959963984540054
# t(0.975, df) for df 1..30; beyond 30 the Cornish-Fisher expansion below is within 1e-4.
_T_975 = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
          2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
          2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272)


def t_975(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom (two-sided 95 %)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = Z_95
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def wilson(successes: int, n: int, z: float = Z_95) -> dict[str, Any]:
    """The rate and its Wilson score interval; n = 0 gives nulls."""
    if n == 0:
        return {"value": None, "low": None, "high": None, "passed": 0, "n": 0}
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return {"value": p, "low": max(0.0, centre - half), "high": min(1.0, centre + half), "passed": successes, "n": n}


def mean_interval(values: Sequence[float]) -> dict[str, Any]:
    """The mean and its t interval (n = 1: the interval is the value itself, nothing to spread)."""
    n = len(values)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "low": mean, "high": mean, "n": 1}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_975(n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class ItemFigures:
    """One scored item: each scorer's (value, passed), the item's cost (run + judges) and latency."""

    scores: Mapping[str, tuple[float, bool]] = field(default_factory=dict)
    cost_usd: float = 0.0
    latency_ms: float | None = None

    @property
    def passed(self) -> bool:
        return bool(self.scores) and all(ok for _, ok in self.scores.values())


def summarize(items: Iterable[ItemFigures]) -> dict[str, Any]:
    rows = list(items)
    names = sorted({name for row in rows for name in row.scores})
    scorers = {}
    for name in names:
        values = [row.scores[name][0] for row in rows if name in row.scores]
        passes = sum(1 for row in rows if name in row.scores and row.scores[name][1])
        scorers[name] = {**mean_interval(values), "pass_rate": wilson(passes, len(values))}
    latencies = [row.latency_ms for row in rows if row.latency_ms is not None]
    total = sum(row.cost_usd for row in rows)
    return {
        "items": len(rows),
        "pass_rate": wilson(sum(1 for row in rows if row.passed), len(rows)),
        "scorers": scorers,
        "cost_usd": {"total": total, "mean": total / len(rows) if rows else None},
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                       **mean_interval(latencies)},
    }

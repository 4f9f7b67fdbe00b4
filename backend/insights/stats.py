"""Small statistics the metrics share: percentiles and shares that say "no data" instead of dividing by zero."""
from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def share(part: int | float, whole: int | float) -> float | None:
    return None if not whole else part / whole


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None

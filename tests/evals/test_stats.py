"""Aggregates against hand-computed values (Wilson, t interval, interpolated percentiles)."""
from __future__ import annotations

import math

import pytest

from backend.evals.stats import ItemFigures, mean_interval, percentile, summarize, t_975, wilson


def test_wilson_matches_the_formula_worked_by_hand() -> None:
    # 8 of 10: p = .8, z² = 3.8415; centre = (.8 + .19207)/1.38415 = .71674; half = 1.96·√(.016 + .009604)/1.38415
    r = wilson(8, 10)
    assert r["value"] == 0.8
    assert r["low"] == pytest.approx(0.49016, abs=1e-4) and r["high"] == pytest.approx(0.94332, abs=1e-4)


def test_wilson_at_the_edges_stays_inside_zero_and_one() -> None:
    assert wilson(0, 5)["low"] == 0.0 and wilson(0, 5)["high"] == pytest.approx(0.43448, abs=1e-4)
    assert wilson(5, 5)["high"] == 1.0 and wilson(5, 5)["low"] == pytest.approx(0.56552, abs=1e-4)
    assert wilson(0, 0)["value"] is None


def test_mean_interval_uses_students_t() -> None:
    # [1, 2, 3, 4]: mean 2.5, s = √(5/3) = 1.29099, t(3) = 3.18245, half = 3.18245 · 1.29099 / 2 = 2.05426
    r = mean_interval([1, 2, 3, 4])
    assert r["mean"] == 2.5
    assert r["low"] == pytest.approx(0.44574, abs=1e-4) and r["high"] == pytest.approx(4.55426, abs=1e-4)
    assert mean_interval([7])["low"] == 7 and mean_interval([])["mean"] is None


def test_t_quantiles_beyond_the_table_are_close_to_the_true_ones() -> None:
    assert t_975(30) == pytest.approx(2.042272)
    assert t_975(40) == pytest.approx(2.021075, abs=2e-4)
    assert t_975(120) == pytest.approx(1.979930, abs=1e-4)
    assert t_975(10**6) == pytest.approx(1.959964, abs=1e-4)


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)
    assert percentile([], 50) is None


def test_summary_of_three_items() -> None:
    items = [ItemFigures({"exact": (1.0, True), "judge": (0.9, True)}, 0.01, 100.0),
             ItemFigures({"exact": (0.0, False), "judge": (0.4, False)}, 0.02, 200.0),
             ItemFigures({"exact": (1.0, True), "judge": (0.5, True)}, 0.03, 300.0)]
    s = summarize(items)
    assert s["items"] == 3 and s["pass_rate"]["passed"] == 2 and s["pass_rate"]["value"] == pytest.approx(2 / 3)
    assert s["scorers"]["judge"]["mean"] == pytest.approx(0.6)
    sd = math.sqrt(((0.3) ** 2 + (0.2) ** 2 + (0.1) ** 2) / 2)
    assert s["scorers"]["judge"]["high"] == pytest.approx(0.6 + 4.302653 * sd / math.sqrt(3))
    assert s["scorers"]["exact"]["pass_rate"]["passed"] == 2
    assert s["cost_usd"]["total"] == pytest.approx(0.06)
    assert s["latency_ms"]["p50"] == 200.0 and s["latency_ms"]["p95"] == pytest.approx(290.0)

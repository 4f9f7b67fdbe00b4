"""Pattern metrics over a known set of runs equal the values worked out by hand (in the comments)."""
from __future__ import annotations

import pytest

from backend.insights import metrics
from backend.insights.stats import percentile

from .factory import gate, llm, loop, orchestrator, router, run, step, vote

approx = pytest.approx


def test_router_confusion_matrix_precision_recall_and_default_share() -> None:
    chosen_and_true = [("billing", "billing"), ("billing", "technical"), ("technical", "technical"),
                       ("default", "technical"), ("technical", None), ("default", None), ("billing", "billing")]
    runs = [run(router("triage", chosen)) for chosen, _ in chosen_and_true]
    truth = {(r.run_id, "triage"): true for r, (_, true) in zip(runs, chosen_and_true) if true}
    found = metrics.router_confusion(runs, "triage", ["billing", "technical"], truth)

    assert found["runs"] == 7 and found["labelled"] == 5
    assert found["routes"] == ["billing", "technical", "default"]
    rows = {row["true"]: row["counts"] for row in found["matrix"]}
    assert rows["billing"] == {"billing": 2, "technical": 0, "default": 0}
    assert rows["technical"] == {"billing": 1, "technical": 1, "default": 1}
    assert rows["default"] == {"billing": 0, "technical": 0, "default": 0}
    per = {r["route"]: r for r in found["per_route"]}
    assert per["billing"]["precision"] == approx(2 / 3) and per["billing"]["recall"] == 1.0
    assert per["technical"]["precision"] == 1.0 and per["technical"]["recall"] == approx(1 / 3)
    assert per["default"]["precision"] == 0.0 and per["default"]["recall"] is None  # nobody labelled "default"
    assert found["default_share"] == approx(2 / 7)  # every run counts, labelled or not


def test_router_label_outside_the_routes_gets_its_own_row() -> None:
    runs = [run(router("triage", "billing"))]
    found = metrics.router_confusion(runs, "triage", ["billing"], {(runs[0].run_id, "triage"): "refunds"})
    assert "refunds" in found["routes"]
    assert {r["true"]: r["counts"] for r in found["matrix"]}["refunds"]["billing"] == 1


def test_vote_agreement_overall_and_per_day() -> None:
    runs = [run(vote("v", a), day=d) for a, d in [(1.0, 0), (1.0, 0), (0.6667, 0), (1.0, 1), (0.3333, 1)]]
    found = metrics.vote_agreement(runs, "v")
    assert found["runs"] == 5
    assert found["mean_agreement"] == approx(0.8)
    assert found["unanimous_share"] == approx(3 / 5)
    day0, day1 = found["series"]
    assert day0["day"] == "2026-11-01" and day0["mean_agreement"] == approx(2.6667 / 3)
    assert day0["unanimous_share"] == approx(2 / 3)
    assert day1["mean_agreement"] == approx(0.66665) and day1["unanimous_share"] == 0.5


def test_loop_iteration_histogram_first_pass_and_cap() -> None:
    runs = [run(loop("eo", n, ok)) for n, ok in [(1, True), (1, True), (2, True), (3, True), (3, False)]]
    runs.append(run(step("eo", "evaluator_optimizer", status="failed")))  # a failed loop has no count
    found = metrics.loop_iterations(runs, "eo", 3)
    assert found["runs"] == 5
    assert found["histogram"] == [{"iterations": 1, "runs": 2}, {"iterations": 2, "runs": 1},
                                  {"iterations": 3, "runs": 2}]
    assert found["first_pass_share"] == approx(2 / 5)
    assert found["cap_share"] == approx(1 / 5)  # passing on the last round is not running out of rounds
    assert found["mean_iterations"] == 2.0


def test_orchestrator_workers_against_the_cap() -> None:
    runs = [run(orchestrator("plan", w)) for w in (2, 4, 4, 3)]
    found = metrics.orchestrator_workers(runs, "plan", 4)
    assert found["mean_workers"] == 3.25 and found["at_cap_share"] == 0.5
    assert [h["runs"] for h in found["histogram"]] == [0, 0, 1, 1, 2]


def test_gate_exit_rate_and_the_cost_it_saved() -> None:
    runs = [run(gate("check", True), llm("answer", 0.01), llm("polish", 0.005)),
            run(gate("check", True), llm("answer", 0.02), llm("polish", 0.005)),
            run(gate("check", False)), run(gate("check", False)), run(gate("check", False)),
            run(step("check", "gate", status="failed"))]
    found = metrics.gate_exits(runs, "check", {"answer", "polish"})
    assert found["runs"] == 5 and found["exits"] == 3
    assert found["exit_rate"] == approx(3 / 5)
    # Passed runs spent 0.015 and 0.025 after the gate: 0.02 on average; three stops saved 3 × 0.02.
    assert found["mean_downstream_cost_usd"] == approx(0.02)
    assert found["saved_usd"] == approx(0.06)


def test_per_step_latency_percentiles_and_cost_share() -> None:
    runs = [run(llm("a", 0.01, ms)) for ms in (100, 200, 300, 400)]
    runs.append(run(llm("b", 0.06, 50)))
    found = {row["node_id"]: row for row in metrics.node_latency(runs)}
    assert found["a"]["p50_ms"] == 250.0
    assert found["a"]["p95_ms"] == approx(385.0)  # rank 2.85: 300 + 0.85 × 100
    assert found["a"]["cost_share"] == approx(0.4) and found["b"]["cost_share"] == approx(0.6)


def test_cost_per_run_distribution() -> None:
    runs = [run(llm("a", c)) for c in (0.01, 0.02, 0.03, 0.10)]
    found = metrics.cost_per_run(runs, bins=3)
    assert found["mean_usd"] == approx(0.04) and found["p50_usd"] == approx(0.025)
    assert found["p95_usd"] == approx(0.0895)
    assert [h["runs"] for h in found["histogram"]] == [3, 0, 1]
    assert found["histogram"][0]["from_usd"] == approx(0.01) and found["histogram"][2]["to_usd"] == approx(0.10)


def test_fallback_and_cache_hit_rates() -> None:
    runs = [run(llm_calls=4, cache_hits=1, fallbacks=1), run(llm_calls=6, cache_hits=3)]
    found = metrics.call_rates(runs)
    assert found["fallback_rate"] == approx(1 / 10)
    assert found["cache_hit_rate"] == approx(4 / 14)  # hits among all calls asked for (10 made + 4 hits)


def test_no_runs_means_no_data_not_zero() -> None:
    assert metrics.vote_agreement([], "v")["unanimous_share"] is None
    assert metrics.gate_exits([], "g", [])["saved_usd"] is None
    assert metrics.call_rates([])["cache_hit_rate"] is None
    assert percentile([], 50) is None

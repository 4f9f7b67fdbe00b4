"""Each advisor rule fires on a crafted history and stays silent on a healthy one, and on thin data."""
from __future__ import annotations

from typing import Any

import pytest

from backend.insights.advisor import MIN_RUNS, AdvisorInput, RouteEvalEvidence, advise

from .factory import gate, llm, loop, router, run, vote


def spec(*nodes: dict[str, Any], edges: list[tuple[str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {"nodes": [{"id": "input", "type": "input"}, *nodes],
            "edges": [{"from": a, "to": b} for a, b in edges]}


def rules(data: AdvisorInput) -> list[str]:
    return [f.rule for f in advise(data)]


VOTE = spec({"id": "v", "type": "vote", "config": {"samples": 3}})


def test_vote_that_always_agrees() -> None:
    unanimous = [run(vote("v", 1.0)) for _ in range(99)] + [run(vote("v", 0.6667))]
    findings = advise(AdvisorInput(spec=VOTE, runs=unanimous))
    assert [f.rule for f in findings] == ["vote_always_agrees"]
    found = findings[0]
    assert found.node_id == "v" and "99 %" in found.advice
    # The second and third samples cost 0.001 each on 100 runs: 0.2 over the period, 2 per 1,000 runs.
    assert found.usd_at_stake == pytest.approx(0.2) and found.usd_per_1000_runs == pytest.approx(2.0)


def test_vote_that_disagrees_or_has_too_few_runs_is_left_alone() -> None:
    healthy = [run(vote("v", 1.0)) for _ in range(25)] + [run(vote("v", 0.6667)) for _ in range(5)]
    assert rules(AdvisorInput(spec=VOTE, runs=healthy)) == []
    thin = [run(vote("v", 1.0)) for _ in range(MIN_RUNS - 1)]
    assert rules(AdvisorInput(spec=VOTE, runs=thin)) == []


LOOP = spec({"id": "eo", "type": "evaluator_optimizer", "config": {"max_iterations": 3}})


def test_loop_that_passes_on_the_first_round() -> None:
    history = [run(loop("eo", 1, True)) for _ in range(28)] + [run(loop("eo", 2, True)) for _ in range(2)]
    findings = advise(AdvisorInput(spec=LOOP, runs=history))
    assert [f.rule for f in findings] == ["loop_passes_at_once"]
    # The evaluate calls: 28 runs × 0.001 + 2 runs × 2 rounds × 0.001.
    assert findings[0].usd_at_stake == pytest.approx(0.032)


def test_loop_that_runs_out_of_rounds() -> None:
    history = [run(loop("eo", 3, False, ms=900.0)) for _ in range(28)] + [run(loop("eo", 2, True, ms=600.0))
                                                                          for _ in range(2)]
    findings = advise(AdvisorInput(spec=LOOP, runs=history))
    assert [f.rule for f in findings] == ["loop_hits_cap"]
    assert "too strict" in findings[0].advice
    assert findings[0].ms_at_stake == pytest.approx((28 * 900 + 2 * 600) / 30)


def test_loop_that_works_is_left_alone() -> None:
    history = ([run(loop("eo", 1, True)) for _ in range(15)] + [run(loop("eo", 2, True)) for _ in range(10)]
               + [run(loop("eo", 3, False)) for _ in range(5)])
    assert rules(AdvisorInput(spec=LOOP, runs=history)) == []


GATE = spec({"id": "check", "type": "gate", "config": {}})


def test_gate_that_never_fires() -> None:
    history = [run(gate("check", True)) for _ in range(40)]
    assert rules(AdvisorInput(spec=GATE, runs=history)) == ["gate_never_fires"]


def test_gate_that_fires_sometimes_or_has_too_few_runs_is_left_alone() -> None:
    history = [run(gate("check", True)) for _ in range(39)] + [run(gate("check", False))]
    assert rules(AdvisorInput(spec=GATE, runs=history)) == []
    assert rules(AdvisorInput(spec=GATE, runs=history[:10])) == []


def chain(length: int) -> dict[str, Any]:
    ids = [f"s{i}" for i in range(length)]
    return spec(*({"id": i, "type": "llm", "config": {}} for i in ids),
                edges=list(zip(["input", *ids], ids)))


def test_chain_of_more_than_four_model_steps() -> None:
    findings = advise(AdvisorInput(spec=chain(5), runs=[run(*(llm(f"s{i}", 0.001, 200.0) for i in range(5)))]))
    assert [f.rule for f in findings] == ["long_model_chain"]
    assert findings[0].evidence[0] == "s0 → s1 → s2 → s3 → s4"
    assert findings[0].ms_at_stake == 1000.0


def test_four_steps_or_five_side_by_side_are_fine() -> None:
    assert rules(AdvisorInput(spec=chain(4), runs=[])) == []
    fan = spec(*({"id": f"p{i}", "type": "llm", "config": {}} for i in range(5)),
               {"id": "rules", "type": "router", "config": {"mode": "rules", "routes": []}},
               edges=[("input", f"p{i}") for i in range(5)])
    assert rules(AdvisorInput(spec=fan, runs=[])) == []


ROUTER = spec({"id": "triage", "type": "router", "config": {"routes": [{"label": "technical"}]}})


def evidence(**changes: Any) -> RouteEvalEvidence:
    base = {"node_id": "triage", "route": "technical", "alias": "frontier", "cheaper_alias": "fast", "pass_rate": 0.9,
            "cheaper_pass_rate": 0.9, "items": 50, "cost_per_item_usd": 0.01, "cheaper_cost_per_item_usd": 0.001,
            "dataset": "held-out tickets"}
    return RouteEvalEvidence(**{**base, **changes})


def test_route_on_an_expensive_alias_that_a_cheaper_one_answers_as_well() -> None:
    history = [run(router("triage", "technical")) for _ in range(10)] + [run(router("triage", "default"))
                                                                        for _ in range(30)]
    findings = advise(AdvisorInput(spec=ROUTER, runs=history, route_evals=[evidence()]))
    assert [f.rule for f in findings] == ["cheaper_route_alias"]
    # 0.009 saved per technical run; 10 such runs; a quarter of traffic → 2.25 per 1,000 runs.
    assert findings[0].usd_at_stake == pytest.approx(0.09)
    assert findings[0].usd_per_1000_runs == pytest.approx(2.25)


def test_cheaper_alias_that_scores_worse_or_on_a_thin_eval_is_not_advised() -> None:
    history = [run(router("triage", "technical")) for _ in range(10)]
    assert rules(AdvisorInput(spec=ROUTER, runs=history, route_evals=[evidence(cheaper_pass_rate=0.8)])) == []
    assert rules(AdvisorInput(spec=ROUTER, runs=history, route_evals=[evidence(items=10)])) == []
    assert rules(AdvisorInput(spec=ROUTER, runs=history, route_evals=[])) == []


def test_cheaper_alias_within_the_policy_threshold_answers_as_well_and_says_so_in_words() -> None:
    history = [run(router("triage", "technical")) for _ in range(10)] + [run(router("triage", "default"))
                                                                        for _ in range(30)]
    within = evidence(pass_rate=0.9, cheaper_pass_rate=0.86, tolerance=0.05, step_id="fix")
    findings = advise(AdvisorInput(spec=ROUTER, runs=history, route_evals=[within]))
    assert [f.rule for f in findings] == ["cheaper_route_alias"]
    found = findings[0]
    assert found.node_id == "fix" and "Switch step 'fix' to 'fast'" in found.advice
    assert found.evidence[0].startswith("pass rate 86 % with fast against 90 % with frontier, on the 50 held-out")
    assert found.evidence[1] == "step 'fix' costs $1.00 per 1,000 runs with fast, $10.00 with frontier"
    assert "(up to 5 points lower still counts as well)" in found.evidence[0]
    assert found.evidence[2] == "10 of 40 runs took this route in the period"
    beyond = evidence(pass_rate=0.9, cheaper_pass_rate=0.84, tolerance=0.05)
    assert rules(AdvisorInput(spec=ROUTER, runs=history, route_evals=[beyond])) == []


def test_an_alias_that_is_not_cheaper_or_a_route_nobody_takes_is_not_advised() -> None:
    history = [run(router("triage", "technical")) for _ in range(10)]
    dearer = evidence(cheaper_cost_per_item_usd=0.02)
    assert rules(AdvisorInput(spec=ROUTER, runs=history, route_evals=[dearer])) == []
    elsewhere = [run(router("triage", "default")) for _ in range(40)]
    assert rules(AdvisorInput(spec=ROUTER, runs=elsewhere, route_evals=[evidence()])) == []

"""Vote and join aggregators on their own: pure functions, no model."""
from __future__ import annotations

import pytest

from backend.engine.aggregate import BranchOutcome, aggregate_votes, join_branches, join_failure, vote_key


def test_majority_picks_the_most_common_answer_and_reports_agreement() -> None:
    result = aggregate_votes(["safe", "unsafe", "Safe ", "safe", "unsafe"], "majority")
    assert result.decided and result.winner == "safe" and result.agreement == 0.6
    assert result.counts == {"safe": 3, "unsafe": 2}


def test_majority_needs_more_than_half() -> None:
    result = aggregate_votes(["a", "b", "c", "a"], "majority")
    assert not result.decided and result.winner is None and result.agreement == 0.5


def test_unanimous_needs_every_sample() -> None:
    assert aggregate_votes(["x", "x", "x"], "unanimous").decided
    assert not aggregate_votes(["x", "x", "y"], "unanimous").decided


@pytest.mark.parametrize("k, decided", [(2, True), (3, True), (4, False)])
def test_threshold_needs_k_votes(k: int, decided: bool) -> None:
    assert aggregate_votes(["a", "a", "a", "b", "c"], "threshold", k).decided is decided


def test_ties_follow_the_tie_rule() -> None:
    assert aggregate_votes(["b", "a", "a", "b"], "threshold", 2, tie="first").winner == "b"
    tied = aggregate_votes(["b", "a", "a", "b"], "threshold", 2, tie="none")
    assert not tied.decided and tied.reason == "tie"


def test_structured_samples_compare_by_content_not_key_order() -> None:
    assert vote_key({"a": 1, "b": 2}) == vote_key({"b": 2, "a": 1})
    result = aggregate_votes([{"ok": True, "n": 1}, {"n": 1, "ok": True}, {"ok": False}])
    assert result.winner == {"ok": True, "n": 1} and result.decided


def test_no_samples_is_undecided() -> None:
    assert aggregate_votes([]).decided is False


def test_join_keys_by_branch_and_records_errors() -> None:
    joined, failed = join_branches([BranchOutcome("name", True, "Acme"), BranchOutcome("date", False, error="timed out")])
    assert joined == {"name": "Acme", "date": {"error": "timed out"}} and failed == ["date"]
    assert "date failed" in join_failure(failed, 2, "require_all")
    assert join_failure(failed, 2, "best_effort") is None
    assert join_failure(["a", "b"], 2, "best_effort") == "every branch failed"

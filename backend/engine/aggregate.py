"""Pure aggregators for fan-out patterns: vote counting and branch joins. No I/O, no model."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .canonical import canonical_json


def vote_key(value: Any) -> str:
    """What counts as the same answer: trimmed, case-folded text; JSON with sorted keys."""
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    return canonical_json(value)


@dataclass(frozen=True)
class VoteResult:
    winner: Any  # None when no answer met the rule
    decided: bool
    agreement: float  # share of samples equal to the winner (0 when undecided)
    counts: dict[str, int]
    reason: str = ""


def aggregate_votes(samples: Sequence[Any], method: str = "majority", k: int | None = None,
                    tie: str = "first") -> VoteResult:
    """Decide a vote.

    Args:
        samples: the answers, in sample order (failed samples excluded by the caller).
        method: ``majority`` (more than half), ``unanimous`` (all equal) or ``threshold`` (at least ``k``).
        tie: when two answers share the top count: ``first`` (the one seen first wins) or ``none`` (undecided).
    Returns:
        The winner (an original sample value), whether the rule was met, and the agreement rate.
    """
    if not samples:
        return VoteResult(None, False, 0.0, {}, "no samples")
    keys = [vote_key(s) for s in samples]
    counts = Counter(keys)
    first_seen = {key: i for i, key in reversed(list(enumerate(keys)))}
    ranked = sorted(counts, key=lambda key: (-counts[key], first_seen[key]))
    top = ranked[0]
    tied = len(ranked) > 1 and counts[ranked[1]] == counts[top]
    n = len(samples)
    if tied and tie == "none":
        return VoteResult(None, False, 0.0, dict(counts), "tie")
    needed = {"majority": n // 2 + 1, "unanimous": n, "threshold": k or n}[method]
    winner = samples[first_seen[top]]
    share = counts[top] / n
    if counts[top] < needed:
        return VoteResult(None, False, share, dict(counts),
                          f"top answer has {counts[top]} of {n} votes; {method} needs {needed}")
    return VoteResult(winner, True, share, dict(counts))


@dataclass(frozen=True)
class BranchOutcome:
    name: str
    ok: bool
    value: Any = None
    error: str | None = None


def join_branches(outcomes: Sequence[BranchOutcome], policy: str = "require_all") -> tuple[dict[str, Any], list[str]]:
    """One object keyed by branch name; failed branches hold {"error": ...}.

    Returns the joined object and the names of failed branches; the caller fails
    the node when ``policy`` is ``require_all`` and any failed, or when every branch failed.
    """
    joined: dict[str, Any] = {}
    failed: list[str] = []
    for outcome in outcomes:
        if outcome.ok:
            joined[outcome.name] = outcome.value
        else:
            joined[outcome.name] = {"error": outcome.error}
            failed.append(outcome.name)
    return joined, failed


def join_failure(failed: Sequence[str], total: int, policy: str) -> str | None:
    """Why a join fails, or None when its policy accepts the outcome."""
    if not failed:
        return None
    if policy == "require_all":
        return f"branch{'es' if len(failed) > 1 else ''} {', '.join(failed)} failed (join requires all)"
    if len(failed) == total:
        return "every branch failed"
    return None


"""The eval gate before ``production``: the publish / label-move path calls ``gate_check``.

The candidate's numbers are its latest finished evals on the graph's held-out datasets (the policy); the
baseline's are those of ``baseline_for_graph``. Pass rates are pooled over the datasets (passed / items).
A refusal is a 409 with the numbers; an admin may let it through with a written reason, which is audited.

Like with like: only evals scored with the policy's scorers count (the same set, compared after parsing, in
any order). A pass rate under other scorers measures something else, so it is no evidence either way: a
baseline whose evals all used other scorers is "no baseline" (the move passes, and the verdict says why), and a
candidate with no eval under today's scorers has no numbers (refused against a baseline that has them). The
verdict's ``scorers`` says, for each side, whether an eval under other scorers was set aside.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rest_framework import status

from backend.audit.services import audit_record
from backend.config.errors import InvalidRequest
from backend.engine.canonical import canonical_json
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, GraphVersion
from backend.releases.models import Release

from .baseline import baseline_for_graph
from .models import EvalPolicy, EvalRun
from .scorers import parse_scorers
from .stats import wilson
from .verdict import Verdict, gate_verdict


class GateRefused(InvalidRequest):
    status_code = status.HTTP_409_CONFLICT


def scorers_key(scorers: Any) -> str:
    """One string per set of scorers, whatever their order or how their JSON was written (parsed first)."""
    parsed, _ = parse_scorers(scorers)
    return canonical_json(sorted(canonical_json({"type": s.type, "name": s.name, **s.params}) for s in parsed))


@dataclass(frozen=True)
class Pooled:
    summary: dict[str, Any] | None  # None: some policy dataset has no finished eval under the policy's scorers
    set_aside: bool  # a finished eval under other scorers was left out


def pooled_evals(graph: Graph, policy: EvalPolicy, version: GraphVersion,
                 candidate: Mapping[str, Any] | None = None) -> Pooled:
    """The latest finished eval of ``version`` (with ``candidate``) under the policy's scorers on each policy
    dataset, pooled."""
    wanted, set_aside = scorers_key(policy.scorers), False
    passed = total = 0
    for dataset_id in policy.datasets.values_list("pk", flat=True):
        finished = (EvalRun.objects.filter(graph=graph, graph_version=version, dataset_id=dataset_id,
                                           candidate=dict(candidate or {}), status=EvalRun.Status.SUCCEEDED)
                    .order_by("-finished_at").only("scorers", "summary"))
        latest = None
        for eval_run in finished.iterator(chunk_size=50):
            if scorers_key(eval_run.scorers) == wanted:
                latest = eval_run
                break
            set_aside = True
        if latest is None:
            return Pooled(None, set_aside)
        rate = latest.summary.get("pass_rate") or {}
        passed, total = passed + int(rate.get("passed") or 0), total + int(rate.get("n") or 0)
    return Pooled({"pass_rate": wilson(passed, total)} if total else None, set_aside)


def pooled_summary(graph: Graph, version: GraphVersion, candidate: Mapping[str, Any] | None = None
                   ) -> dict[str, Any] | None:
    """The latest finished eval of ``version`` (with ``candidate``) under the policy's scorers on each policy
    dataset, pooled; None if any dataset has none."""
    policy = EvalPolicy.objects.filter(graph=graph).first()
    return pooled_evals(graph, policy, version, candidate).summary if policy is not None else None


def _say_set_aside(verdict: Verdict, base: Pooled, cand: Pooled) -> Verdict:
    """The verdict's reason, saying when a side has no numbers only because its evals used other scorers."""
    if base.summary is None and base.set_aside:
        return replace(verdict, reason=f"{verdict.reason} (the baseline's evals used other scorers than the "
                                       "policy's: not comparable)")
    if cand.summary is None and cand.set_aside and verdict.candidate_pass_rate is None:
        return replace(verdict, reason=f"{verdict.reason} under the policy's scorers (its evals used others; "
                                       "run it again)")
    return verdict


def production_gate(*, user: Any, graph: Graph, release: Release, override_reason: str = "") -> None:
    """The gate as ``release_label_move`` calls it: judged on the release's graph version."""
    gate_check(user=user, graph=graph, version=release.version, override_reason=override_reason)


def gate_check(*, user: Any, graph: Graph, version: GraphVersion, override_reason: str = "") -> Verdict | None:
    """None when the graph has no eval policy; otherwise the verdict, raising 409 on a refusal unless an admin
    gave a reason (then the override is recorded in the audit log, in the caller's transaction)."""
    policy = EvalPolicy.objects.filter(graph=graph).first()
    if policy is None:
        return None
    baseline = baseline_for_graph(graph)
    if baseline is not None and baseline.pk == version.pk:
        return Verdict(True, None, None, 0.0, policy.threshold, "the baseline itself")
    base = pooled_evals(graph, policy, baseline) if baseline else Pooled(None, False)
    cand = pooled_evals(graph, policy, version)
    verdict = _say_set_aside(gate_verdict(base.summary, cand.summary, policy.threshold), base, cand)
    numbers = {k: v for k, v in verdict.to_dict().items() if k not in ("reason", "allowed")}
    numbers["scorers"] = {"baseline_set_aside": base.set_aside, "candidate_set_aside": cand.set_aside}
    if verdict.allowed:
        return verdict
    if not override_reason.strip():
        raise GateRefused(f"The eval gate refused version {version.number}: {verdict.reason}.", [
            {"path": "version", "message": verdict.reason, **numbers}], code="eval_gate")
    require(user, graph.workspace, Action.ENDPOINT_MANAGE)
    audit_record(actor=user, workspace=graph.workspace, action="eval_gate.overridden",
                 target=("graph", graph.pk, graph.name),
                 before={"baseline_version": baseline.number if baseline else None, **verdict.to_dict()},
                 after={"version": version.number, "reason": override_reason.strip()})
    return verdict

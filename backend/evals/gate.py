"""The eval gate before ``production``: the publish / label-move path calls ``gate_check``.

The candidate's numbers are its latest finished evals on the graph's held-out datasets (the policy); the
baseline's are those of ``baseline_for_graph``. Pass rates are pooled over the datasets (passed / items).
A refusal is a 409 with the numbers; an admin may let it through with a written reason, which is audited.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import status

from backend.audit.services import audit_record
from backend.config.errors import InvalidRequest
from backend.graphs.authz import Action, require
from backend.graphs.models import Graph, GraphVersion
from backend.releases.models import Release

from .baseline import baseline_for_graph
from .models import EvalPolicy, EvalRun
from .stats import wilson
from .verdict import Verdict, gate_verdict


class GateRefused(InvalidRequest):
    status_code = status.HTTP_409_CONFLICT


def pooled_summary(graph: Graph, version: GraphVersion, candidate: Mapping[str, Any] | None = None
                   ) -> dict[str, Any] | None:
    """The latest finished eval of ``version`` (with ``candidate``) on each policy dataset, pooled; None if any
    dataset has none."""
    policy = EvalPolicy.objects.filter(graph=graph).first()
    if policy is None:
        return None
    passed = total = 0
    for dataset_id in policy.datasets.values_list("pk", flat=True):
        latest = (EvalRun.objects.filter(graph=graph, graph_version=version, dataset_id=dataset_id,
                                         candidate=dict(candidate or {}), status=EvalRun.Status.SUCCEEDED)
                  .order_by("-finished_at").first())
        if latest is None:
            return None
        rate = latest.summary.get("pass_rate") or {}
        passed, total = passed + int(rate.get("passed") or 0), total + int(rate.get("n") or 0)
    return {"pass_rate": wilson(passed, total)} if total else None


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
    verdict = gate_verdict(pooled_summary(graph, baseline) if baseline else None, pooled_summary(graph, version),
                           policy.threshold)
    if verdict.allowed:
        return verdict
    if not override_reason.strip():
        raise GateRefused(f"The eval gate refused version {version.number}: {verdict.reason}.", [
            {"path": "version", "message": verdict.reason, **{k: v for k, v in verdict.to_dict().items()
                                                              if k not in ("reason", "allowed")}}], code="eval_gate")
    require(user, graph.workspace, Action.ENDPOINT_MANAGE)
    audit_record(actor=user, workspace=graph.workspace, action="eval_gate.overridden",
                 target=("graph", graph.pk, graph.name),
                 before={"baseline_version": baseline.number if baseline else None, **verdict.to_dict()},
                 after={"version": version.number, "reason": override_reason.strip()})
    return verdict

"""What a woken run resumes from: its stored node spans, its approvals' decisions, its totals and last seq.

The same idea as a replay from a node (replay_plan.py): the steps that finished are
seeded from their stored outputs, so no model call is made again; here they are the
run's own steps, so they are not recorded again either (engine ``Resume``).
"""
from __future__ import annotations

from django.db.models import Max

from backend.engine import ApprovalWait, Decision, Resume, SeededStep

from .models import Approval, Run, RunEvent, Span


def decision_of(approval: Approval) -> Decision | None:
    if approval.status not in (Approval.Status.APPROVED, Approval.Status.REJECTED) or approval.decided_at is None:
        return None
    return Decision(action="approve" if approval.status == Approval.Status.APPROVED else "reject",
                    output=approval.output, by=approval.decided_by_label, at=approval.decided_at.timestamp(),
                    via=approval.decided_via, fields=dict(approval.fields or {}), edited=approval.edited)


def resume_plan(run: Run) -> Resume | None:
    """None for a run that never waited; otherwise where it stood when it last stopped."""
    if run.resumed_at is None:  # never woken by a decision (finished.wake_run sets it): nothing to read
        return None
    approvals = list(Approval.objects.filter(run=run))
    if not approvals:
        return None
    spans = list(Span.objects.filter(run=run, kind="node", parent_id=""))
    seeded = {s.node_id: SeededStep(s.output, (s.attributes or {}).get("patchbay.port"))
              for s in spans if s.status == "succeeded"}
    recorded = frozenset(s.node_id for s in spans if s.status in ("succeeded", "skipped"))
    waits = {a.node_id: ApprovalWait(a.span_id, a.requested_at.timestamp(), decision_of(a))
             for a in approvals if a.node_id not in seeded}
    totals = {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens, "cost_usd": run.cost_usd,
              "llm_calls": run.llm_calls, "cache_hits": run.cache_hits, "saved_usd": run.saved_usd,
              "saved_ms": run.saved_ms, "duration_ms": run.latency_ms or 0}
    last_seq = RunEvent.objects.filter(run=run).aggregate(m=Max("seq"))["m"] or 0
    return Resume(seeded=seeded, recorded=recorded, approvals=waits, totals=totals, last_seq=last_seq)

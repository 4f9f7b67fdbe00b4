"""Pruning: apply each workspace's retention policy (backend/graphs/retention.py) to its finished runs.

One function, ``runs_prune``, serves ``manage.py prune`` and the periodic Celery task. For each workspace:

1. Runs that finished more than ``run_days`` ago are deleted with everything they own (events, spans,
   idempotency records, callback deliveries).
2. Runs that finished more than ``event_days`` ago lose their *details*: every event but the final
   ``run.completed`` (kept, and marked ``"details_pruned": true``, so a late websocket or SSE client still
   gets the run's final status, output and totals and knows why there is nothing before it), and the
   input/output bodies of their spans. The run row and its totals stay, and so do the span rows with their
   timings, tokens, cost, model, status and error: the trace still shows where time and money went.
3. Idempotency records past their window and expired sign-in sessions are deleted.

Only finished runs are touched: a queued, running or *waiting* run (stopped at an approval step for a person,
who may take longer than either window) is never pruned, whatever its age: its events, its spans' bodies (a
resume seeds its finished steps from them) and its approvals all stay until it really ends, and its windows
count from that end. This is a whitelist of terminal statuses (``Run.FINISHED``), never a list of statuses
to skip, so a status added later is kept until someone decides otherwise. Every delete
and update works in batches of bounded size, each in its own short transaction, so pruning never holds a
long lock nor loads a large table into memory; an interrupted pass is finished by the next one (each step
selects what is still left to do). ``dry_run`` counts what would go and changes nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from backend.graphs.models import Workspace
from backend.graphs.retention import retention_policy

from .models import Run, RunEvent, Span

log = logging.getLogger(__name__)

RUNS_PER_BATCH = 200
ROWS_PER_BATCH = 5_000
PRUNED_MARK = "details_pruned"  # set on the kept run.completed event of a run whose details were pruned
FINAL_EVENT = "run.completed"


@dataclass
class PruneReport:
    """Rows deleted (or, in a dry run, that would be) per table, and span bodies dropped."""

    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        labels = {
            "runs": "runs (rows, with everything they own)",
            "run_events": "run events",
            "spans": "spans (of deleted runs)",
            "span_payloads": "span input/output bodies (rows kept)",
            "runs_details_pruned": "runs whose details were pruned (rows and totals kept)",
            "idempotency_records": "expired idempotency records",
            "sessions": "expired sessions",
        }
        return [f"{verb} {self.counts.get(key, 0):>9} {label}" for key, label in labels.items()]


def _finished_before(workspace_id: int, cutoff: dt.datetime) -> QuerySet[Run]:
    # created_at is indexed and never after finished_at, so it narrows the scan; the terminal statuses keep
    # queued, running and waiting runs out (tests/runs/test_retention.py).
    return Run.objects.filter(workspace_id=workspace_id, status__in=Run.FINISHED, finished_at__lt=cutoff,
                              created_at__lt=cutoff)


def _events_to_prune() -> QuerySet[RunEvent]:
    return RunEvent.objects.exclude(type=FINAL_EVENT)


def _spans_with_payload() -> QuerySet[Span]:
    return Span.objects.filter(Q(input__isnull=False) | Q(output__isnull=False))


def _with_details(runs: QuerySet[Run]) -> QuerySet[Run]:
    """Runs that still hold details: an event other than the final one, an unmarked final event, a span body."""
    unpruned_events = RunEvent.objects.filter(run=OuterRef("pk")).exclude(
        Q(type=FINAL_EVENT) & Q(**{f"payload__{PRUNED_MARK}": True}))
    return runs.filter(Exists(unpruned_events) | Exists(_spans_with_payload().filter(run=OuterRef("pk"))))


def _delete_in_batches(rows: QuerySet[Any]) -> int:
    """Delete the rows a queryset selects, a bounded batch of primary keys per statement and transaction."""
    total = 0
    while True:
        keys = list(rows.order_by().values_list("pk", flat=True)[:ROWS_PER_BATCH])
        if not keys:
            return total
        total += rows.model.objects.filter(pk__in=keys).delete()[0]


def _strip_span_payloads(run_ids: list[Any]) -> int:
    total = 0
    spans = _spans_with_payload().filter(run_id__in=run_ids)
    while True:
        keys = list(spans.order_by().values_list("pk", flat=True)[:ROWS_PER_BATCH])
        if not keys:
            return total
        total += Span.objects.filter(pk__in=keys).update(input=None, output=None)


def _mark_pruned(run_ids: list[Any]) -> None:
    finals = list(RunEvent.objects.filter(run_id__in=run_ids, type=FINAL_EVENT).only("pk", "payload"))
    for event in finals:
        event.payload = {**event.payload, PRUNED_MARK: True}
    RunEvent.objects.bulk_update(finals, ["payload"])


def _batches(runs: QuerySet[Run]) -> Any:
    """Primary keys of the runs selected, RUNS_PER_BATCH at a time (keyset order: no rescans from the start)."""
    last = None
    while True:
        page = runs.order_by("pk") if last is None else runs.filter(pk__gt=last).order_by("pk")
        keys = list(page.values_list("pk", flat=True)[:RUNS_PER_BATCH])
        if not keys:
            return
        yield keys
        last = keys[-1]


def _delete_runs(runs: QuerySet[Run], report: PruneReport) -> None:
    if report.dry_run:
        report.counts["runs"] += runs.count()
        report.counts["run_events"] += RunEvent.objects.filter(run__in=runs).count()
        report.counts["spans"] += Span.objects.filter(run__in=runs).count()
        return
    for keys in _batches(runs):
        # The big children go first in bounded batches; the run rows then cascade only to small ones.
        report.counts["run_events"] += _delete_in_batches(RunEvent.objects.filter(run_id__in=keys))
        report.counts["spans"] += _delete_in_batches(Span.objects.filter(run_id__in=keys))
        with transaction.atomic():
            report.counts["runs"] += Run.objects.filter(pk__in=keys, status__in=Run.FINISHED).delete()[1].get(
                Run._meta.label, 0)


def _prune_details(runs: QuerySet[Run], report: PruneReport) -> None:
    pending = _with_details(runs)
    if report.dry_run:
        report.counts["runs_details_pruned"] += pending.count()
        report.counts["run_events"] += _events_to_prune().filter(run__in=pending).count()
        report.counts["span_payloads"] += _spans_with_payload().filter(run__in=pending).count()
        return
    for keys in _batches(pending):
        report.counts["run_events"] += _delete_in_batches(_events_to_prune().filter(run_id__in=keys))
        report.counts["span_payloads"] += _strip_span_payloads(keys)
        with transaction.atomic():
            _mark_pruned(keys)
        report.counts["runs_details_pruned"] += len(keys)


# Other apps' short-lived records, pruned with the runs: name -> the rows expired as of a time. The endpoints
# app registers its idempotency records here (its AppConfig.ready), so runs does not import it.
_EXPIRING: dict[str, Callable[[dt.datetime], QuerySet[Any]]] = {}


def register_expiring_records(name: str, expired: Callable[[dt.datetime], QuerySet[Any]]) -> None:
    """``prune`` deletes ``expired(now)`` too, and reports the count under ``name``."""
    _EXPIRING[name] = expired


def _prune_expired_records(now: dt.datetime, report: PruneReport) -> None:
    from django.contrib.sessions.models import Session

    expired = {name: rows_at(now) for name, rows_at in _EXPIRING.items()}
    expired["sessions"] = Session.objects.filter(expire_date__lt=now)
    for name, rows in expired.items():
        report.counts[name] += rows.count() if report.dry_run else _delete_in_batches(rows)


def runs_prune(*, now: dt.datetime, dry_run: bool = False) -> PruneReport:
    """Apply every workspace's retention policy as of ``now``; see the module docstring."""
    report = PruneReport(dry_run=dry_run)
    for workspace in Workspace.objects.order_by("pk").only("pk", "retention_event_days", "retention_run_days"):
        policy = retention_policy(workspace)
        run_cutoff = now - dt.timedelta(days=policy.run_days)
        _delete_runs(_finished_before(workspace.pk, run_cutoff), report)
        # Runs past both windows were just deleted (or, in a dry run, counted as deleted): count them once.
        _prune_details(_finished_before(workspace.pk, now - dt.timedelta(days=policy.event_days))
                       .exclude(finished_at__lt=run_cutoff), report)
    _prune_expired_records(now, report)
    log.info("prune%s: %s", " (dry run)" if dry_run else "", dict(report.counts))
    return report

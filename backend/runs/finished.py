"""The end of a run: one guarded status write, and one run-finished hook fired on commit.

A run that stops at an approval step is not ended: ``wait_run`` moves it running → waiting
(no hook), ``wake_run`` waiting → queued when a decision comes; it ends later through
``finish_run`` like any other (a waiting run cancelled or failed by its deadline ends from
``waiting``).

Every way a run ends goes through ``finish_run``: the engine's own
``run.completed`` (through the sink), a sink that cannot record, a cancel, the
heartbeat sweep's "worker lost", a queue that refused the run. The write is a
filtered UPDATE (``WHERE status = expected``), so of two concurrent finishers
exactly one moves the run; only that one schedules the hook, on commit.

The hook, ``notify_finished``, claims the run's ``finish_notified`` flag with
another filtered UPDATE before calling anyone, so it fires at most once per run
even if called twice. A process that dies between the commit and the hook
leaves the flag unset; the sweep (``notify_missed``) fires it later.

Subscribers (result callbacks, OTLP push, evaluations, alerts) register with
``on_run_finished`` and receive the run id. They run in the finishing process
and should only enqueue work (a Celery task): the hook never blocks a run. One
that raises is logged; the others still run.

A subscriber that must look something up to decide (is there a callback to send? an eval item to score?)
names those lookups as ``facts`` (expressions over the run row, ``OuterRef("pk")`` being the run) and
receives their values: they are read by the same statement that claims the flag (run_finished_claim.py),
so the hook costs one statement and one transaction per run, however many subscribers ask.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Run
from .run_ends import announce_end
from .run_finished_claim import FactsOf, claim_notification
from .trace_writes import update_run

log = logging.getLogger(__name__)

Subscriber = Callable[..., None]  # fn(run_id), or fn(run_id, facts) for one registered with facts
_subscribers: dict[str, Subscriber] = {}
_facts: dict[str, FactsOf] = {}  # name → the lookups its subscriber wants read with the flag's claim

# A finished run whose hook has not fired this long after its end was missed (its process died at commit).
MISSED_AFTER_S = 30
# ...and one older than this is left alone: a hook days late helps nobody (and old rows predate the flag).
MISSED_WITHIN = dt.timedelta(days=1)


def on_run_finished(name: str, *, facts: FactsOf | None = None) -> Callable[[Subscriber], Subscriber]:
    """Register ``fn(run_id)`` under ``name`` (registering a name again replaces it: imports may repeat).

    With ``facts`` (a function returning ``{key: expression over the run}``, called once the apps are
    ready), ``fn(run_id, values)`` gets ``{key: value}`` read by the hook's one statement.
    """

    def register(fn: Subscriber) -> Subscriber:
        _subscribers[name] = fn
        if facts is None:
            _facts.pop(name, None)
        else:
            _facts[name] = facts
        return fn

    return register


def subscribers() -> dict[str, Subscriber]:
    return dict(_subscribers)


def finish_run(run_id: Any, status: str, *, expected: str = Run.Status.RUNNING, error: str | None = "",
               output: Any = None, totals: dict[str, Any] | None = None) -> bool:
    """Move a run to a terminal status, only if it is still ``expected``. Returns whether it moved.

    The one place for run status rules. When it moved, the run-finished hook fires once the
    surrounding transaction commits (at once, outside one).
    """
    fields = end_fields(status, error=error, output=output, totals=totals)
    # A filtered UPDATE re-checks the status under the row lock, so two writers cannot both end the run.
    moved = update_run(run_id, fields, statuses=[expected]) == 1
    if moved:
        ended(run_id, fields)
    return moved


def end_fields(status: str, *, error: str | None = "", output: Any = None,
               totals: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns an end writes. ``finish_run`` writes them with its own UPDATE; the sink writes an engine's
    end in its last batch's statement (trace_writes.store_batch), from ``running`` only, then calls ``ended``."""
    if status not in Run.FINISHED:
        raise ValueError(f"{status!r} is not a terminal run status")
    fields: dict[str, Any] = {"status": status, "error": error or "", "output": output,
                              "finished_at": timezone.now()}
    if totals is not None:
        fields.update(_totals_fields(totals))
    return fields


def ended(run_id: Any, fields: dict[str, Any]) -> None:
    """A guarded write just moved the run to its end (``fields``): announce it and fire the hook on commit."""
    # The waiting sync callers first (run_ends.py: what was written, so they need not read it back).
    transaction.on_commit(lambda: announce_end(run_id, fields), robust=True)
    # robust: a hook that fails after the commit must not look like a failed write to the caller
    transaction.on_commit(lambda: notify_finished(run_id), robust=True)


def _totals_fields(totals: dict[str, Any]) -> dict[str, Any]:
    return dict(input_tokens=totals.get("input_tokens", 0), output_tokens=totals.get("output_tokens", 0),
                cost_usd=totals.get("cost_usd", 0.0), llm_calls=totals.get("llm_calls", 0),
                latency_ms=totals.get("duration_ms"), cache_hits=totals.get("cache_hits", 0),
                saved_usd=totals.get("saved_usd", 0.0), saved_ms=totals.get("saved_ms", 0.0))


def wait_run(run_id: Any, totals: dict[str, Any]) -> bool:
    """Running → waiting (an approval step asks a person), with the totals so far. Not an end: no hook, but a
    sync caller stops waiting (it is answered 202 waiting)."""
    moved = Run.objects.filter(pk=run_id, status=Run.Status.RUNNING).update(
        status=Run.Status.WAITING, **_totals_fields(totals)) == 1
    if moved:
        transaction.on_commit(lambda: announce_end(run_id, {"status": Run.Status.WAITING}), robust=True)
    return moved


def wake_run(run_id: Any) -> bool:
    """Waiting → queued (a decision came); the caller enqueues it on commit. Returns whether it moved."""
    return Run.objects.filter(pk=run_id, status=Run.Status.WAITING).update(
        status=Run.Status.QUEUED, resumed_at=timezone.now()) == 1


def notify_finished(run_id: Any) -> bool:
    """Fire the run-finished hook for a finished run, at most once. Returns whether it fired."""
    # The flag's filtered UPDATE and every subscriber's facts in one statement: of concurrent callers one gets
    # the facts, the others None.
    facts = claim_notification(run_id, dict(_facts))
    if facts is None:
        return False
    for name, fn in list(_subscribers.items()):
        try:
            if name in facts:
                fn(str(run_id), facts[name])
            else:
                fn(str(run_id))
        except Exception:  # one subscriber's failure is its own: the others still hear of the run
            log.exception("run %s: run-finished subscriber %r failed", run_id, name)
    return True


def notify_missed() -> list[str]:
    """Fire the hook for finished runs that missed it (called by the sweep). Returns their ids."""
    now = timezone.now()
    missed = Run.objects.filter(status__in=Run.FINISHED, finish_notified=False,
                                finished_at__lt=now - dt.timedelta(seconds=MISSED_AFTER_S),
                                finished_at__gt=now - MISSED_WITHIN).values_list("pk", flat=True)[:100]
    fired = [str(run_id) for run_id in missed if notify_finished(run_id)]
    if fired:
        log.warning("fired the run-finished hook late for %d runs: %s", len(fired), ", ".join(fired))
    return fired

"""Deliver one run's result to its callback URL: one attempt per call, the outcome stored on the row.

Started by the run-finished hook (runs/finished.py), whichever way the run ended: a run the sweep
failed after its worker died gets its callback too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from backend.runs.finished import on_run_finished

from .callbacks import (
    MAX_ATTEMPTS,
    CallbackRefused,
    backoff_seconds,
    callback_body,
    callback_headers,
    check_callback_url,
    post,
)
from .models import CallbackDelivery
from .results import call_request_id, run_result


def _pending() -> dict[str, Any]:
    """Whether the run has a callback still to deliver: read by the run-finished hook's own statement."""
    return {"pending": Exists(CallbackDelivery.objects.filter(run_id=OuterRef("pk"),
                                                              status=CallbackDelivery.Status.PENDING))}


@on_run_finished("endpoint-callback", facts=_pending)
def deliver_when_finished(run_id: str, facts: dict[str, Any]) -> None:
    """Enqueue the delivery of a finished run's result, if its caller gave a callback URL."""
    from .tasks import deliver_callback  # the task module imports this one

    if facts["pending"]:
        deliver_callback.delay(run_id)


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in_s: int | None = None  # set when another attempt should follow


def deliver(run_id: Any) -> Outcome:
    delivery = CallbackDelivery.objects.select_related("run__graph_version", "run__endpoint_call", "endpoint").filter(run_id=run_id).first()
    if delivery is None or delivery.status != CallbackDelivery.Status.PENDING:
        return Outcome(delivery.status if delivery else "none")
    run = delivery.run
    if not run.is_finished:  # never expected: the task is enqueued by the run-finished hook; try again shortly
        return Outcome(CallbackDelivery.Status.PENDING, retry_in_s=2)
    attempt = delivery.attempts + 1
    CallbackDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        target = check_callback_url(delivery.url)  # again: DNS may have changed since the call
    except CallbackRefused as refused:
        _record(delivery, CallbackDelivery.Status.REFUSED, None, str(refused))
        return Outcome(CallbackDelivery.Status.REFUSED)
    body = callback_body(run_result(run))
    secret = delivery.endpoint.signing_secret if delivery.endpoint else ""  # deleted endpoint: sent unsigned
    result = post(target, body, callback_headers(secret=secret, body=body, run_id=str(run.pk),
                                                 request_id=call_request_id(run) or ""))
    if result.delivered:
        _record(delivery, CallbackDelivery.Status.DELIVERED, result.status_code, "", delivered=True)
        return Outcome(CallbackDelivery.Status.DELIVERED)
    if result.retry and attempt < MAX_ATTEMPTS:
        _record(delivery, CallbackDelivery.Status.PENDING, result.status_code, result.error)
        return Outcome(CallbackDelivery.Status.PENDING, retry_in_s=backoff_seconds(attempt))
    _record(delivery, CallbackDelivery.Status.FAILED, result.status_code, result.error)
    return Outcome(CallbackDelivery.Status.FAILED)


def _record(delivery: CallbackDelivery, status: str, code: int | None, error: str, delivered: bool = False) -> None:
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        status=status, last_status_code=code, last_error=error[:2000],
        delivered_at=timezone.now() if delivered else None)

"""Deliver one run's result to its callback URL: one attempt per call, the outcome stored on the row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone

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
from .results import run_result


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in_s: int | None = None  # set when another attempt should follow


def deliver(run_id: Any) -> Outcome:
    delivery = CallbackDelivery.objects.select_related("run__graph_version", "endpoint").filter(run_id=run_id).first()
    if delivery is None or delivery.status != CallbackDelivery.Status.PENDING:
        return Outcome(delivery.status if delivery else "none")
    run = delivery.run
    if not run.is_finished:  # never expected: the task is linked after execute_run; try again shortly
        return Outcome(CallbackDelivery.Status.PENDING, retry_in_s=2)
    attempt = delivery.attempts + 1
    CallbackDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        target = check_callback_url(delivery.url)  # again: DNS may have changed since the call
    except CallbackRefused as refused:
        _record(delivery, CallbackDelivery.Status.REFUSED, None, str(refused))
        return Outcome(CallbackDelivery.Status.REFUSED)
    body = callback_body(run_result(run))
    secret = delivery.endpoint.signing_secret if delivery.endpoint else ""
    result = post(target, body, callback_headers(secret=secret, body=body, run_id=str(run.pk),
                                                 request_id=run.request_id))
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

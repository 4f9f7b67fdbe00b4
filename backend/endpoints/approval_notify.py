"""Tell an approval step's callback URL that a decision is waiting, with a signed one-time link to decide.

Lives with the endpoints, not in runs (runs knows no callers), and reuses the result callbacks' delivery
(callbacks.py): the same SSRF guard
(checked again at each attempt: DNS may change), the same signed POST, the same backoff.

Signing. The notice is signed (``Patchbay-Signature``) with the signing secret of the endpoint whose call
started the run: the secret its owner already holds and checks result callbacks with, so one verifier serves
both. A run nobody called through an endpoint (the canvas, a replay, an eval) has no such secret, and the step's
config is no place for one (graph versions are immutable, exported and readable by viewers); its notice goes
*unsigned*, with no signature header, rather than signed with an empty key, which anyone can compute and which
would pass a receiver's check. A receiver that must trust such a notice checks its token instead:
``GET /api/approval-links/<token>/`` answers 200 only for a link this server made that still works.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from backend.runs.approval_links import link_path, make_link
from backend.runs.callers import request_id_of
from backend.runs.models import Approval

from .callbacks import CallbackRefused, backoff_seconds, callback_headers, check_callback_url, post
from .models import EndpointCall

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in_s: int | None = None


def waiting_body(approval: Approval, token: str) -> bytes:
    return json.dumps({"type": "approval.requested", "approval_id": approval.pk, "run_id": str(approval.run_id),
                       "node_id": approval.node_id, "title": approval.title, "draft": approval.draft,
                       "deadline_at": approval.deadline_at.isoformat(), "on_deadline": approval.on_deadline,
                       "decide_path": link_path(token), "token": token},
                      separators=(",", ":"), default=str).encode()


def _signing_secret(approval: Approval) -> str:
    """The secret of the endpoint whose call started the run; "" (the notice goes unsigned) for any other run."""
    call = EndpointCall.objects.filter(run_id=approval.run_id).select_related("endpoint").first()
    return call.endpoint.signing_secret if call is not None else ""


def tell_waiting(approval_id: int, attempt: int = 1) -> Outcome:
    approval = Approval.objects.select_related("run").filter(pk=approval_id).first()
    if approval is None or approval.status != Approval.Status.PENDING:
        return Outcome("decided")
    url = (approval.request or {}).get("callback_url")
    try:
        target = check_callback_url(url)
    except CallbackRefused as refused:
        log.warning("approval %s: callback URL refused: %s", approval_id, refused)
        return Outcome("refused")
    body = waiting_body(approval, make_link(approval))
    result = post(target, body, callback_headers(secret=_signing_secret(approval), body=body,
                                                 run_id=str(approval.run_id), request_id=request_id_of(approval.run)))
    if result.delivered:
        return Outcome("delivered")
    if result.retry and attempt < MAX_ATTEMPTS:
        return Outcome("pending", retry_in_s=backoff_seconds(attempt))
    log.warning("approval %s: callback failed: %s", approval_id, result.error)
    return Outcome("failed")

"""Push every finished run's trace to an OTLP/HTTP receiver (a collector, Langfuse, Phoenix...).

A run-finished subscriber enqueues ``runs.push_otlp`` when ``PATCHBAY_OTLP_ENDPOINT`` is set; the task
POSTs the run as protobuf (``application/x-protobuf``) to ``<endpoint>/v1/traces``. Nothing here is on
a run's path: a receiver that is down or slow delays only its own task, which retries with backoff.
"""
from __future__ import annotations

import logging
from typing import Any

import httpx
from django.conf import settings

from .finished import on_run_finished
from .models import Run

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
TRACES_PATH = "/v1/traces"


class PushFailed(Exception):
    """The receiver could not take the trace now (unreachable, 429, 5xx): worth another attempt."""


def traces_url(endpoint: str) -> str:
    """OTLP's rule: a base endpoint gets ``/v1/traces`` appended; one that names the path is used as is."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


@on_run_finished("otlp-push")
def push_when_finished(run_id: str) -> None:
    if settings.PATCHBAY_OTLP_ENDPOINT:
        from .tasks import push_otlp  # tasks imports the run loop; only the hook needs it

        push_otlp.delay(run_id)


def push(run_id: Any) -> str:
    """One attempt to send the run's trace. Returns what happened; raises PushFailed when a retry may help."""
    from .otlp import otlp_protobuf  # protobuf and the OTLP types: only a worker that pushes pays for them

    run = Run.objects.select_related("graph_version").filter(pk=run_id).first()
    if run is None:
        return "gone"
    url = traces_url(settings.PATCHBAY_OTLP_ENDPOINT)
    headers = {**settings.PATCHBAY_OTLP_HEADERS, "Content-Type": "application/x-protobuf"}
    try:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=otlp_protobuf(run), headers=headers)
    except httpx.HTTPError as exc:
        raise PushFailed(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise PushFailed(f"the receiver answered {response.status_code}")
    if response.status_code >= 400:  # refused for good (bad auth, bad body): another attempt would be the same
        log.error("run %s: the OTLP receiver refused its trace (%s)", run_id, response.status_code)
        return "refused"
    return "pushed"

"""Give a run the record of the endpoint call that started it, as ``flow_call_start`` writes it.

The caller's API key and request id live on ``endpoints.EndpointCall``, not on ``Run``; tests that make runs
by hand and need them call this rather than writing the record (and an endpoint for it) each their own way.
"""
from __future__ import annotations

from typing import Any

from backend.endpoints.models import ApiKey, Endpoint, EndpointCall
from backend.runs.models import Run


def record_endpoint_call(run_id: Any, *, request_id: str = "", api_key: ApiKey | None = None) -> EndpointCall:
    """The run's call record (made, with an endpoint of the run's graph if the graph has none)."""
    run = Run.objects.select_related("graph").get(pk=run_id)
    endpoint = Endpoint.objects.filter(graph=run.graph).order_by("pk").first() or Endpoint.objects.create(
        workspace_id=run.workspace_id, graph=run.graph, slug=f"calls-{run.graph_id}", version=run.graph_version,
        enabled=True, signing_secret="s" * 32)
    call, _ = EndpointCall.objects.update_or_create(run=run, defaults={
        "endpoint": endpoint, "request_id": request_id, "api_key": api_key})
    return call

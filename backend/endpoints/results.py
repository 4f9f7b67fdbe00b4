"""What a caller gets back about a run: one shape for sync answers, the status URL, SSE and callbacks."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.runs.models import Run


def status_path(run_id: Any) -> str:
    return f"/api/v1/runs/{run_id}"


def events_path(run_id: Any) -> str:
    return f"/api/v1/runs/{run_id}/events"


def _same(path: str) -> str:
    return path


def call_request_id(run: Run) -> str | None:
    """The X-Request-Id of the endpoint call that started the run (its own record, ``EndpointCall``), or None.

    Loaders select ``endpoint_call`` with the run (``selectors.run_with_version``), so async views never query here.
    """
    call = getattr(run, "endpoint_call", None)  # a run with no call record raises an AttributeError subclass
    return (call.request_id or None) if call is not None else None


def run_links(run: Run, absolute: Callable[[str], str] = _same) -> dict[str, str]:
    return {"status": absolute(status_path(run.pk)), "events": absolute(events_path(run.pk))}


def run_result(run: Run, absolute: Callable[[str], str] = _same) -> dict[str, Any]:
    """The run as a caller sees it: status, output, usage, timing and links (never spans or the key)."""
    return {
        "run_id": str(run.pk),
        "status": run.status,
        "output": run.output,
        "error": run.error or None,
        "usage": {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens,
                  "tokens": run.input_tokens + run.output_tokens, "cost_usd": run.cost_usd,
                  "llm_calls": run.llm_calls},
        "engine_ms": run.engine_ms,
        "total_ms": run.total_ms,
        "latency_ms": run.total_ms,  # alias of total_ms, kept for callers written before the two names
        "version": run.graph_version.number,
        "trace_id": run.trace_id,
        "request_id": call_request_id(run),
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "links": run_links(run, absolute),
    }


def run_accepted(run: Run, absolute: Callable[[str], str] = _same, message: str = "") -> dict[str, Any]:
    """The 202 body: the run is queued or going; where to ask about it."""
    links = run_links(run, absolute)
    return {"run_id": str(run.pk), "status": run.status, "status_url": links["status"],
            "events_url": links["events"], "request_id": call_request_id(run),
            "message": message or "The run was accepted; poll status_url or stream events_url for the result."}

"""The caller's side: run a published flow, read a run, stream a run's events. Async views.

Plain async Django views rather than DRF: a sync call waits on its run and a
stream call holds a Server-Sent Events response open, and neither should hold
a thread while it waits. Each step that touches the database is one call on
the endpoints' pool (asyncdb.db): admitting and starting a call is one
(admission.py, shared with the OpenAI routes); the rest is ordering and shaping answers.
Every answer carries ``X-Request-Id`` (the caller's, or a new one).
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from backend.config.errors import InvalidRequest
from backend.config.params import MAX_INT, parse_int, whole_number

from .admission import Plan, Planner, admit_and_start
from .asyncdb import db
from .auth import authenticate_api_key
from .calls import Call, header_id, new_request_id, parse_call, too_large
from .errors import CallRefused, error_response
from .follow import HEARTBEAT, follow_events, listening, wait_finished
from .results import run_accepted, run_result
from .selectors import run_for_key, run_with_version

STREAM_MAX_S = 3600  # an SSE response never outlives this, whatever the run does
KEEPALIVE_S = 5  # an SSE comment this often while the run is quiet, so proxies and clients keep the line


def tagged(response: HttpResponseBase, request_id: str | None,
            headers: dict[str, str] | None = None) -> HttpResponseBase:
    for name, value in (headers or {}).items():
        response[name] = value
    if request_id:
        response["X-Request-Id"] = request_id
    response.setdefault("Cache-Control", "no-store")
    return response


def only(request: HttpRequest, method: str) -> None:
    if request.method != method:
        raise CallRefused(405, "method_not_allowed", f"Use {method} here.", headers={"Allow": method})


def read_body(request: HttpRequest) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    declared = whole_number(request.META.get("CONTENT_LENGTH") or "")
    if declared is not None and declared > limit:
        raise too_large("request body", declared, limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large("request body", declared or limit + 1, limit) from None
    if len(body) > limit:
        raise too_large("request body", len(body), limit)
    return body


def _frame(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


async def _sse(run_id: Any, after: int, absolute: Callable[[str], str]) -> AsyncIterator[bytes]:
    """Run events as SSE (``id`` = seq, so a client resumes with Last-Event-ID), then ``event: result``."""
    yield f": run {run_id}\n\n".encode()  # a comment: sends the headers at once, ignored by parsers
    async with aclosing(follow_events(run_id, after, max_s=STREAM_MAX_S, heartbeat_s=KEEPALIVE_S)) as events:
        async for event in events:
            if event is HEARTBEAT:
                yield b": keep-alive\n\n"
                continue
            yield _frame(event["type"], event, event.get("seq"))
    try:
        run = await db(run_with_version)(run_id)
    except Exception:
        yield _frame("error", {"error": "unavailable", "message": "The run's result could not be read just now: "
                               "read its status URL.", "run_id": str(run_id)})
        return
    if run.is_finished:
        yield _frame("result", run_result(run, absolute))
    else:
        yield _frame("error", {"error": "timeout", "message": f"The stream ended after {STREAM_MAX_S} s; the run "
                               "is still going: read its status URL.", "run_id": str(run_id)})


def _stream(run_id: Any, after: int, absolute: Callable[[str], str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_sse(run_id, after, absolute), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies: pass each event on as it comes
    return response


def _accepted(run: Any, absolute: Callable[[str], str], message: str = "") -> JsonResponse:
    body = run_accepted(run, absolute, message)
    response = JsonResponse(body, status=202)
    response["Location"] = body["status_url"]
    return response


def _as_is(planned: Plan) -> Planner:
    """A flow call's plan: its request as it is, whatever the endpoint."""
    return lambda endpoint, release: planned


@csrf_exempt  # Bearer keys are never sent by a browser on its own, so there is no cross-site request to forge
async def flow_run(request: HttpRequest, slug: str) -> HttpResponseBase:
    request_id: str | None = None
    try:
        request_id = header_id("X-Request-Id", request.headers.get("X-Request-Id")) or new_request_id()
        only(request, "POST")
        header = request.headers.get("Authorization")
        # Parsed here (no I/O), refused only after the key is checked (admit_and_start): a caller without a valid key
        # learns nothing about its request from the answer.
        call: Call | None = None
        plan: Planner | CallRefused | InvalidRequest
        try:
            call = parse_call(read_body(request), slug=slug, max_input_bytes=settings.PATCHBAY_MAX_INPUT_BYTES,
                              max_timeout_s=settings.PATCHBAY_ENDPOINT_SYNC_TIMEOUT_S)
            plan = _as_is(Plan(call, header_id("Idempotency-Key", request.headers.get("Idempotency-Key"))))
        except (CallRefused, InvalidRequest) as problem:
            plan = problem
        mark = listening() if call is not None and call.mode == "sync" else None  # before the run exists
        admitted = await db(admit_and_start)(header, slug, plan, request_id=request_id)
    except CallRefused as refused:
        return tagged(refused.response(), request_id)
    except InvalidRequest as invalid:
        return tagged(error_response(400, invalid.error_code, str(invalid.detail), invalid.problems), request_id)

    assert call is not None  # admit_and_start raised what parsing did
    limit, started = admitted.limit, admitted.started
    run, absolute = started.run, request.build_absolute_uri
    headers = {**(limit.headers() if limit else {}), "X-Run-Id": str(run.pk)}
    if started.replayed:
        headers["Idempotent-Replayed"] = "true"
    response: HttpResponseBase
    if call.mode == "stream":
        response = _stream(run.pk, 0, absolute)
    elif call.mode == "async":
        response = _accepted(run, absolute)
    else:
        response = await _wait_for_result(run, call.timeout_s or settings.PATCHBAY_ENDPOINT_SYNC_TIMEOUT_S,
                                          absolute, None if started.replayed else mark)
    return tagged(response, request_id, headers)


async def _wait_for_result(run: Any, timeout: float, absolute: Callable[[str], str],
                           since: int | None = None) -> JsonResponse:
    """The result once the run ends; otherwise (still going, or anything failed while waiting) 202 + status_url.

    The end's message carries the columns it wrote (runs/run_ends.py): the answer is built from them on the
    row we hold. Without them (a large output, an end heard from the database) the run is read back."""
    end = await wait_finished(run.pk, timeout, since)  # never raises: a failure while waiting ends the wait early
    if end is not None and end.apply(run):
        return JsonResponse(run_result(run, absolute))
    try:
        current = await db(run_with_version)(run.pk)
    except Exception:  # the database is away: the run row we have still names the status URL
        return _accepted(run, absolute, "The run was accepted but its result cannot be read just now; poll "
                                        "status_url for the result.")
    if current.is_finished:  # also when waiting failed or timed out just as the run ended
        return JsonResponse(run_result(current, absolute))
    if current.status == "waiting":
        return _accepted(current, absolute, "The run is waiting for a person's decision; poll status_url or "
                                            "stream events_url for the result.")
    return _accepted(current, absolute, f"The run is still going after {timeout:g} s; poll status_url or stream "
                                        "events_url for the result.")


async def _reader(request: HttpRequest, run_id: str) -> Any:
    only(request, "GET")

    def read() -> Any:
        return run_for_key(authenticate_api_key(request.headers.get("Authorization")), run_id)

    return await db(read)()


async def run_status(request: HttpRequest, run_id: str) -> HttpResponseBase:
    request_id: str | None = None
    try:
        request_id = header_id("X-Request-Id", request.headers.get("X-Request-Id"))
        run = await _reader(request, run_id)
    except CallRefused as refused:
        return tagged(refused.response(), request_id)
    return tagged(JsonResponse(run_result(run, request.build_absolute_uri)), request_id)


async def run_events(request: HttpRequest, run_id: str) -> HttpResponseBase:
    request_id: str | None = None
    try:
        request_id = header_id("X-Request-Id", request.headers.get("X-Request-Id"))
        run = await _reader(request, run_id)
        field, cursor = ("headers.Last-Event-ID", request.headers.get("Last-Event-ID")) \
            if request.headers.get("Last-Event-ID") else ("after", request.GET.get("after") or "0")
        after = parse_int(cursor, field=field, maximum=MAX_INT)
    except CallRefused as refused:
        return tagged(refused.response(), request_id)
    except InvalidRequest as invalid:
        return tagged(error_response(400, invalid.error_code, str(invalid.detail), invalid.problems), request_id)
    return tagged(_stream(run.pk, after, request.build_absolute_uri), request_id)

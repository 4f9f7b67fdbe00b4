"""The OpenAI-compatible routes: ``POST /v1/chat/completions``, ``POST /v1/responses``, ``GET /v1/models``.

A thin skin over the flow call (flow_views.py): the same API keys, scopes,
rate limits, daily caps, Idempotency-Key and X-Request-Id, the same admission
in one database hop (admission.py, which ends in ``flow_call_start``); only the request and answer shapes are OpenAI's
(openai_mapping.py, openai_answers.py, openai_streaming.py) and every refusal
is in OpenAI's error shape (openai_errors.py). Each call is a run with
source "openai".
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from backend.config import jsonbody
from backend.config.errors import InvalidRequest
from backend.config.sizes import input_size
from backend.config.unavailable import note_outage

from .admission import Admitted, Plan, admit_and_start
from .asyncdb import db
from .auth import authenticate_api_key
from .calls import Call, header_id, new_request_id, too_large
from .errors import CallRefused
from .flow_views import only, read_body, tagged
from .follow import listening, wait_finished
from .models import Endpoint
from .openai_answers import chat_completion, response_object, run_answer
from .openai_catalog import Target, models_for_key, target_for_call
from .openai_errors import OpenAIRefusal, from_call_refused, from_invalid_input, unavailable, unknown_model
from .openai_mapping import Conversation, flow_input, parse_chat, parse_responses
from .openai_streaming import answer_node, chat_stream, responses_stream, sse_response
from .selectors import run_with_version
from .services import Started

if TYPE_CHECKING:
    from backend.releases.models import Release

Answer = Callable[[Any, Conversation, str], dict[str, Any]]


def _json(body: bytes) -> Any:
    try:
        return jsonbody.loads(body)
    except jsonbody.BodyProblem as problem:  # not JSON, not UTF-8, too deep, too large: with its path
        path = problem.problems[0].get("path") if problem.problems else None
        raise OpenAIRefusal(problem.status, problem.message, param=path or None, code=problem.code) from None


def _openai_shape(exc: Exception) -> OpenAIRefusal | None:
    if isinstance(exc, OpenAIRefusal):
        return exc
    if isinstance(exc, CallRefused):
        return from_call_refused(exc)
    if isinstance(exc, InvalidRequest):
        return from_invalid_input(exc)
    if note_outage(exc):  # database, Redis or broker down (also a run the broker refused): 503, not 500
        return unavailable()
    return None


def _admit(header: str | None, read: Conversation | Exception, request_id: str,
           idempotency_header: str | None) -> tuple[Admitted, Target]:
    """``admission.admit_and_start`` for a conversation (or for what reading it raised): its model names the
    endpoint, and the plan picks the version and maps the messages onto that version's input. On a database
    thread: the whole admission is one hop, as for a flow call."""
    if isinstance(read, Exception):
        admit_and_start(header, None, read, request_id=request_id)  # raises: the key's refusal, else ``read``
        raise read
    conversation, picked = read, list[Target]()

    def plan(endpoint: Endpoint, release: Release | None) -> Plan:
        target = target_for_call(endpoint, release, conversation.model)
        flow_in = flow_input(conversation.messages, target.input_schema, endpoint.slug)
        size = input_size(flow_in)
        if size > settings.PATCHBAY_MAX_INPUT_BYTES:
            raise too_large("flow input made from the messages", size, settings.PATCHBAY_MAX_INPUT_BYTES,
                            "messages")
        idempotency_key = header_id("Idempotency-Key", idempotency_header)
        call = Call(input=flow_in, mode="stream" if conversation.stream else "sync", budget=None,
                    callback_url=None, timeout_s=None, request_hash=conversation.request_hash)
        picked.append(target)
        return Plan(call, idempotency_key, None if target.serving else target.version)

    try:
        admitted = admit_and_start(header, conversation.model.slug, plan, request_id=request_id, source="openai")
    except CallRefused as refused:
        if refused.status == 404 and refused.code == "not_found":  # no such endpoint for this key: no such model
            raise unknown_model(conversation.model.name) from None
        raise
    return admitted, picked[0]


async def _start(request: HttpRequest, request_id: str, parse: Callable[[Any], Conversation]
                 ) -> tuple[Conversation, Started, dict[str, str], str | None]:
    only(request, "POST")
    read: Conversation | Exception
    try:  # read here (no I/O), refused only after the key is checked (admission.py)
        read = parse(_json(read_body(request)))
    except (OpenAIRefusal, CallRefused, InvalidRequest) as problem:
        read = problem
    admitted, target = await db(_admit)(request.headers.get("Authorization"), read, request_id,
                                        request.headers.get("Idempotency-Key"))
    assert isinstance(read, Conversation)  # _admit raised what reading it did
    started, limit = admitted.started, admitted.limit
    headers = {**(limit.headers() if limit else {}), "X-Run-Id": str(started.run.pk)}
    if started.replayed:
        headers["Idempotent-Replayed"] = "true"
    return read, started, headers, answer_node(target.version.spec)


async def _call(request: HttpRequest, parse: Callable[[Any], Conversation], answer: Answer,
                stream: Callable[..., Any]) -> HttpResponseBase:
    request_id: str | None = None
    headers: dict[str, str] = {}  # once the run exists, every answer names it (X-Run-Id)
    try:
        request_id = header_id("X-Request-Id", request.headers.get("X-Request-Id")) or new_request_id()
        mark = listening()  # before the run exists: its end cannot be missed
        conversation, started, headers, source = await _start(request, request_id, parse)
        run = started.run
        if conversation.stream:
            return tagged(sse_response(stream(run, conversation, source)), request_id, headers)
        end = await wait_finished(run.pk, settings.PATCHBAY_ENDPOINT_SYNC_TIMEOUT_S,  # never raises
                                  None if started.replayed else mark)
        # The end's message carries what it wrote (runs/run_ends.py); without it, the run is read back.
        finished = run if end is not None and end.apply(run) else await db(run_with_version)(run.pk)
        body = answer(finished, conversation, run_answer(finished, conversation.response_format))
        return tagged(JsonResponse(body), request_id, headers)
    except Exception as exc:
        refusal = _openai_shape(exc)
        if refusal is None:
            raise
        return tagged(refusal.response(), request_id, headers)


def _chat_answer(run: Any, conversation: Conversation, text: str) -> dict[str, Any]:
    return chat_completion(run, conversation.model.name, text)


def _responses_answer(run: Any, conversation: Conversation, text: str) -> dict[str, Any]:
    return response_object(run, conversation.model.name, status="completed", text=text)


@csrf_exempt  # Bearer keys are never sent by a browser on its own, so there is no cross-site request to forge
async def chat_completions(request: HttpRequest) -> HttpResponseBase:
    return await _call(request, parse_chat, _chat_answer, chat_stream)


@csrf_exempt
async def responses(request: HttpRequest) -> HttpResponseBase:
    return await _call(request, parse_responses, _responses_answer, responses_stream)


async def models(request: HttpRequest, model_id: str | None = None) -> HttpResponseBase:
    """``GET /v1/models`` lists the flows the key may call; ``GET /v1/models/<id>`` answers one of them."""
    request_id: str | None = None
    try:
        request_id = header_id("X-Request-Id", request.headers.get("X-Request-Id"))
        only(request, "GET")

        def listing() -> list[dict[str, Any]]:
            return models_for_key(authenticate_api_key(request.headers.get("Authorization")))

        data = await db(listing)()
        if model_id is not None:
            found = next((m for m in data if m["id"] == model_id), None)
            if found is None:
                raise unknown_model(model_id)
            return tagged(JsonResponse(found), request_id)
    except Exception as exc:
        refusal = _openai_shape(exc)
        if refusal is None:
            raise
        return tagged(refusal.response(), request_id)
    return tagged(JsonResponse({"object": "list", "data": data}), request_id)


@csrf_exempt
async def unknown_route(request: HttpRequest, rest: str) -> HttpResponseBase:
    """Any other /v1/ path (embeddings, audio...): an OpenAI-shaped 404 rather than the canvas's page."""
    return OpenAIRefusal(404, f"Patchbay has no /v1/{rest}: published flows answer /v1/chat/completions, "
                              "/v1/responses and /v1/models.", code="unknown_url").response()

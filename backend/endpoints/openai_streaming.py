"""``stream: true`` on the OpenAI-compatible routes: a run's output as chat chunks or Responses events.

The tokens come live from the flow's *answer node*: the ``llm`` node whose
text is the whole output (the output node's value is ``{{ nodes.<id>.output }}``,
the node streams and has no structured output). Whatever the flow, the stream
ends with the run's final text: the part not streamed live is sent then, so
the pieces always add up to the non-streamed answer (a flow with no answer node
sends its whole output as one piece at the end). Deltas are live-only: once some
may have been lost (the channel layer failed, e.g. a Redis restart), no more are
sent live, and the rest of the answer comes at the end. A response format other than
text is checked against the whole output, so those answers are not streamed live.
"""
from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from django.http import StreamingHttpResponse

from .asyncdb import db
from .follow import DELTAS_MISSED, HEARTBEAT, follow_events
from .openai_answers import (
    chat_chunk,
    chat_usage_chunk,
    message_id,
    output_message,
    response_object,
    run_answer,
)
from .openai_errors import OpenAIRefusal, unavailable
from .openai_mapping import Conversation
from .selectors import run_with_version

STREAM_MAX_S = 3600  # as /api/v1/flows streams: never longer, whatever the run does
KEEPALIVE_S = 5
_ANSWER_TEMPLATE = re.compile(r"^\s*\{\{\s*nodes\.([A-Za-z0-9_-]+)\.output\s*\}\}\s*$")


def answer_node(spec: dict[str, Any]) -> str | None:
    """The node whose streamed tokens are the flow's whole output, if the flow has one."""
    nodes = {n.get("id"): n for n in spec.get("nodes") or [] if isinstance(n, dict)}
    output = next((n for n in nodes.values() if n.get("type") == "output"), None)
    value = ((output or {}).get("config") or {}).get("value")
    match = _ANSWER_TEMPLATE.match(value) if isinstance(value, str) else None
    node = nodes.get(match[1]) if match else None
    config = (node or {}).get("config") or {}
    if node is None or node.get("type") != "llm" or not config.get("stream") or config.get("output_schema"):
        return None
    return str(node["id"])


async def output_pieces(run_id: Any, conversation: Conversation, source: str | None
                        ) -> AsyncIterator[tuple[str, Any]]:
    """("heartbeat", None), ("delta", text)..., then ("done", (run, text)) or ("error", OpenAIRefusal)."""
    live = source is not None and conversation.response_format.kind == "text"
    sent, attempt = "", None
    async with aclosing(follow_events(run_id, 0, max_s=STREAM_MAX_S, heartbeat_s=KEEPALIVE_S, gaps=True)) as events:
        async for event in events:
            if event is HEARTBEAT:
                yield "heartbeat", None
            elif event is DELTAS_MISSED:  # pieces heard from now on may not follow those sent: the rest at the end
                live = False
            elif live and event.get("type") == "node.delta" and event.get("node_id") == source:
                attempt = attempt or event.get("attempt", 1)
                if event.get("attempt", 1) != attempt:  # a retry voids what was streamed: the rest comes at the end
                    live = False
                    continue
                sent += event["text"]
                yield "delta", event["text"]
    try:
        run = await db(run_with_version)(run_id)
    except Exception:
        yield "error", unavailable(f"The result of run {run_id} could not be read just now; try again shortly.")
        return
    try:
        text = run_answer(run, conversation.response_format)
    except OpenAIRefusal as refusal:
        yield "error", refusal
        return
    if not text.startswith(sent):  # pieces went missing on the way: an error, never a garbled answer sent as whole
        yield "error", OpenAIRefusal(502, f"Part of run {run_id}'s answer was lost on its way to this stream; the "
                                          f"whole answer is at /api/v1/runs/{run_id}.", code="stream_incomplete")
        return
    if len(text) > len(sent):
        yield "delta", text[len(sent):]
    yield "done", (run, text)


def _data(payload: Any) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


async def chat_stream(run: Any, conversation: Conversation, source: str | None) -> AsyncIterator[bytes]:
    """``chat.completion.chunk`` frames, a usage chunk when asked for, then ``data: [DONE]``."""
    run_id, model = str(run.pk), conversation.model.name
    created = int(run.created_at.timestamp())
    yield f": run {run_id}\n\n".encode()  # a comment: the headers go out at once; parsers ignore it
    yield _data(chat_chunk(run_id, created, model, {"role": "assistant", "content": ""}))
    async for kind, value in output_pieces(run.pk, conversation, source):
        if kind == "heartbeat":
            yield b": keep-alive\n\n"
        elif kind == "delta":
            yield _data(chat_chunk(run_id, created, model, {"content": value}))
        elif kind == "error":
            yield _data(value.body())
        else:
            yield _data(chat_chunk(run_id, created, model, {}, "stop"))
            if conversation.include_usage:
                yield _data(chat_usage_chunk(value[0], created, model))
    yield b"data: [DONE]\n\n"


async def responses_stream(run: Any, conversation: Conversation, source: str | None) -> AsyncIterator[bytes]:
    """Responses streaming events, from ``response.created`` to ``response.completed`` (or ``response.failed``)."""
    run_id, model, numbers = str(run.pk), conversation.model.name, itertools.count()
    item = {"item_id": message_id(run_id), "output_index": 0, "content_index": 0}

    def event(kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": next(numbers), **fields}
        return f"event: {kind}\n".encode() + _data(payload)

    yield event("response.created", response=response_object(run, model, status="in_progress"))
    yield event("response.in_progress", response=response_object(run, model, status="in_progress"))
    yield event("response.output_item.added", output_index=0, item=output_message(run_id, "", "in_progress"))
    yield event("response.content_part.added", **item, part={"type": "output_text", "text": "", "annotations": []})
    async for kind, value in output_pieces(run.pk, conversation, source):
        if kind == "heartbeat":
            yield b": keep-alive\n\n"
        elif kind == "delta":
            yield event("response.output_text.delta", **item, delta=value, logprobs=[])
        elif kind == "error":
            error = {"code": value.code or "run_failed", "message": value.message}
            yield event("response.failed", response=response_object(run, model, status="failed", error=error))
        else:
            finished, text = value
            part = {"type": "output_text", "text": text, "annotations": []}
            yield event("response.output_text.done", **item, text=text, logprobs=[])
            yield event("response.content_part.done", **item, part=part)
            yield event("response.output_item.done", output_index=0, item=output_message(run_id, text))
            yield event("response.completed", response=response_object(finished, model, status="completed",
                                                                         text=text))


def sse_response(frames: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(frames, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies: pass each frame on as it comes
    return response

"""The objects OpenAI clients read: chat completions and their chunks, Responses and their events.

``id`` is the run id throughout, so a caller can find the run (and its trace) from any answer.
"""
from __future__ import annotations

import time
from typing import Any

from .openai_errors import OpenAIRefusal
from .openai_mapping import ResponseFormat, answer_text, chat_usage, responses_usage

# Why a run that ended without an answer answers as it does. The flow already retried its models, so clients
# are told not to retry (x-should-retry: false; a retry would start another run).
ENDED = {"failed": (502, "run_failed"), "cancelled": (502, "run_cancelled"), "budget_exceeded": (422, "budget_exceeded")}


def _created(run: Any) -> int:
    return int(run.created_at.timestamp()) if getattr(run, "created_at", None) else int(time.time())


def run_answer(run: Any, form: ResponseFormat) -> str:
    """The assistant's text for a finished run, or the refusal that says why there is none."""
    if not run.is_finished:
        raise OpenAIRefusal(504, f"Run {run.pk} is still going; its result is at /api/v1/runs/{run.pk}.",
                            code="run_timeout", headers={"x-should-retry": "false"})
    if run.status != "succeeded":
        status, code = ENDED.get(run.status, (502, "run_failed"))
        raise OpenAIRefusal(status, f"Run {run.pk} ended {run.status}: {run.error or 'no answer'}", code=code,
                            headers={"x-should-retry": "false"})
    return answer_text(run.output, form, str(run.pk))


def chat_completion(run: Any, model: str, text: str) -> dict[str, Any]:
    return {"id": str(run.pk), "object": "chat.completion", "created": _created(run), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": chat_usage(run.input_tokens, run.output_tokens), "system_fingerprint": None}


def chat_chunk(run_id: str, created: int, model: str, delta: dict[str, Any],
               finish_reason: str | None = None) -> dict[str, Any]:
    return {"id": run_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}


def chat_usage_chunk(run: Any, created: int, model: str) -> dict[str, Any]:
    return {"id": str(run.pk), "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [], "usage": chat_usage(run.input_tokens, run.output_tokens)}


def message_id(run_id: str) -> str:
    return f"msg_{run_id.replace('-', '')}"


def output_message(run_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"type": "message", "id": message_id(run_id), "status": status, "role": "assistant", "content": content}


def response_object(run: Any, model: str, *, status: str, text: str | None = None,
                    error: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Responses ``response``: in progress (no output yet), completed (one assistant message), or failed."""
    run_id = str(run.pk)
    finished = status in ("completed", "failed")
    return {"id": run_id, "object": "response", "created_at": _created(run), "status": status, "model": model,
            "output": [output_message(run_id, text)] if text is not None else [],
            "error": error, "incomplete_details": None, "instructions": None, "metadata": {},
            "parallel_tool_calls": False, "tool_choice": "none", "tools": [], "temperature": None, "top_p": None,
            "usage": responses_usage(run.input_tokens, run.output_tokens) if finished else None}

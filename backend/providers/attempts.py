"""One attempt at a model call: is the answer whole, and if not, what went wrong and when to try again.

A provider can answer 200 and still not answer: a stream that stops without a
finish_reason, no text and no tool call, a body that is not JSON. Each is named
(``truncated_stream``, ``empty_completion``, ``malformed_response``) and treated
like a 500: retried, then sent to the fallback. Failures litellm wraps are
unwrapped to the status the provider really sent, so a span never says "500"
for a 200 that could not be read. Pure helpers; the gateway owns the loop.
"""
from __future__ import annotations

import email.utils
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from backend.engine.ports import DeltaCallback, LLMError

from .routes import ModelRoute

# Kinds worth another attempt (or the fallback): the provider may answer properly next time.
RETRYABLE_KINDS = frozenset({"provider", "rate_limit", "timeout", "truncated_stream", "empty_completion",
                             "malformed_response"})
MIN_ATTEMPT_S = 0.05  # an attempt with less time than this left is not started
MAX_BACKOFF_S = 8.0
MAX_RETRY_AFTER_S = 30.0  # a provider asking to wait longer than this is skipped for the fallback


class AttemptFailed(Exception):
    """One attempt's failure, classified."""

    def __init__(self, kind: str, text: str, detail: str, retry_after: float | None = None):
        super().__init__(f"{kind}: {text}: {detail}")
        self.kind, self.text, self.detail, self.retry_after = kind, text, detail, retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def without(self, secret: str | None) -> AttemptFailed:
        """This failure with ``secret`` (the route's provider key) cut out of the provider's words.

        Some OpenAI-compatible servers repeat the key they were sent in their error; from here the detail goes
        to spans, run errors, logs and the breaker's record, so the key stops here. The copy has no cause: the
        provider's exception (which still holds the key) is not chained into a traceback.
        """
        if not secret or secret not in self.detail:
            return self
        return AttemptFailed(self.kind, self.text, self.detail.replace(secret, "[provider key]"), self.retry_after)

    def as_llm_error(self, route: ModelRoute, attempts: int, note: str = "") -> LLMError:
        suffix = f" after {attempts} attempts" if attempts > 1 else ""
        note = f" ({note})" if note else ""
        return LLMError(f"{self.text}{suffix}{note}: {self.detail}", kind=self.kind, attempts=attempts,
                        model=route.model)


@dataclass
class AttemptLog:
    """Every attempt of one call, across retries and fallbacks: the span records what happened."""
    count: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Answer:
    text: str
    usage: Any
    finish_reason: str | None
    tool_calls: bool = False
    no_choices: bool = False
    streamed: bool = False
    deltas: int = 0

    def check(self, *, structured: bool) -> None:
        """Refuse an answer that came back 200 but is not a whole answer."""
        if self.no_choices:
            raise AttemptFailed("empty_completion", "the answer was empty", "the provider sent no choices")
        if not self.text.strip() and not self.tool_calls:
            raise AttemptFailed("empty_completion", "the answer was empty",
                                f"no text and no tool call (finish_reason {self.finish_reason or 'none'})")
        if self.streamed and self.finish_reason is None:
            raise AttemptFailed("truncated_stream", "the stream ended early",
                                f"no finish_reason after {self.deltas} deltas; the partial answer was dropped")
        if structured and not self.tool_calls:
            # JSON that does not parse (often cut by max_tokens) or a bare null holds no answer; whether the
            # JSON fits the schema is the engine's check (parse_structured), made once, not retried.
            try:
                value = json.loads(self.text)
            except ValueError:
                raise AttemptFailed("empty_completion", "the structured answer was not JSON",
                                    f"finish_reason {self.finish_reason or 'none'}, {len(self.text)} characters"
                                    ) from None
            if value is None or value == "":
                raise AttemptFailed("empty_completion", "the structured answer was empty", f"JSON {self.text!r}")


def delta_of_attempt(on_delta: DeltaCallback, attempt: int, text: str) -> None:
    on_delta(text, attempt=attempt)


def backoff_s(route: ModelRoute, attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before the next attempt; None when the provider asks for too long a wait."""
    if retry_after is not None:
        return None if retry_after > MAX_RETRY_AFTER_S else retry_after
    delay = min(MAX_BACKOFF_S, route.retry_backoff_s * 2 ** (attempt - 1))
    return delay * random.uniform(0.8, 1.2)  # jitter: callers that failed together don't retry together


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (litellm keeps the original in .original_exception)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = getattr(current, "original_exception", None) or current.__cause__ or current.__context__
    return seen


def _retry_after(chain: list[BaseException]) -> float | None:
    for exc in chain:
        headers = getattr(getattr(exc, "response", None), "headers", None) or getattr(
            exc, "litellm_response_headers", None) or {}
        try:
            if headers.get("retry-after-ms"):
                return float(headers["retry-after-ms"]) / 1000
            value = headers.get("retry-after")
        except (TypeError, ValueError, AttributeError):
            continue
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
                except (TypeError, ValueError):
                    continue
    return None


# litellm stacks wrapper names in front of the provider's message: "litellm.X: X: OpenAIException - ..."
# ("Hosted_vllmException - ..." through its own HTTP handler, gateway.litellm_model).
_WRAPPER_PREFIX = re.compile(r"^(?:litellm\.\w+: |\w+(?:Error|Exception): |\w+Exception - )+")


def _detail(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    if not text:
        return type(exc).__name__
    return _error_message(_WRAPPER_PREFIX.sub("", text.splitlines()[0]))[:300] or type(exc).__name__


def _error_message(text: str) -> str:
    """The message of an OpenAI-shaped error body (``{"error": {"message": ...}}``), as the openai SDK reports
    it; litellm's own HTTP handler hands on the whole body. Any other text as it is."""
    if not text.startswith("{"):
        return text
    try:
        body = json.loads(text)
    except ValueError:
        return text
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else text


def _http_status(chain: list[BaseException]) -> int | None:
    """The status the provider really sent, not one litellm made up for a client-side failure."""
    import httpx
    import openai

    for exc in chain:
        if isinstance(exc, openai.APIStatusError) and type(exc).__module__.startswith("openai"):
            return exc.status_code
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code
    return None


def classify_failure(litellm: Any, exc: Exception, *, in_stream: bool, deltas: int = 0) -> AttemptFailed:
    """Name what went wrong. ``in_stream``: the provider had answered 200 and the stream had begun."""
    import httpx
    import openai
    import pydantic

    chain = _chain(exc)
    detail = _detail(exc)
    status = _http_status(chain)
    if any(isinstance(e, (litellm.Timeout, openai.APITimeoutError, httpx.TimeoutException, TimeoutError))
           for e in chain):
        return AttemptFailed("timeout", "timed out", detail)
    if status is not None:
        if status == 429:
            return AttemptFailed("rate_limit", "rate limited (429)", detail, _retry_after(chain))
        if status == 408:
            return AttemptFailed("timeout", "timed out (408)", detail)
        if 400 <= status < 500:
            return AttemptFailed("bad_request", f"refused the request ({status})", detail)
        return AttemptFailed("provider", f"provider error {status}", detail, _retry_after(chain))
    if any(isinstance(e, (json.JSONDecodeError, pydantic.ValidationError)) for e in chain):
        return AttemptFailed("malformed_response", "the provider's answer was not valid JSON", detail)
    transport = any(isinstance(e, (httpx.TransportError, openai.APIConnectionError, litellm.APIConnectionError,
                                   OSError)) or type(e).__module__.startswith("aiohttp") for e in chain)
    if in_stream:
        if transport:
            return AttemptFailed("truncated_stream", "the stream was cut off",
                                 f"{detail} (after {deltas} deltas; the partial answer was dropped)")
        return AttemptFailed("malformed_response", "the stream could not be read", detail)
    if transport:
        body_cut = any(type(e).__name__ in ("ClientPayloadError", "RemoteProtocolError") for e in chain)
        if body_cut:
            return AttemptFailed("malformed_response", "the response body was cut off", detail)
        return AttemptFailed("provider", "provider unreachable", detail)
    if isinstance(exc, litellm.RateLimitError):
        return AttemptFailed("rate_limit", "rate limited (429)", detail, _retry_after(chain))
    if isinstance(exc, (litellm.BadRequestError, litellm.AuthenticationError, litellm.NotFoundError)):
        return AttemptFailed("bad_request", f"refused the request ({getattr(exc, 'status_code', '?')})", detail)
    if isinstance(exc, litellm.APIError) or any(isinstance(e, litellm.APIError) for e in chain[1:]):
        # litellm could not make a response out of a 200 body (no choices, wrong shapes...).
        return AttemptFailed("malformed_response", "the provider's answer could not be read", detail)
    return AttemptFailed("provider", "provider error", detail)

"""The LLM gateway: the one module that imports litellm.

It implements the engine's ``llm`` port: resolves an alias to a route, honours
the kill switch, retries and walks the fallback chain, and leaves token
counting, pricing, streaming and structured output to litellm. litellm is
imported on first use (it takes seconds), so processes that never call a model
don't pay.

Every answer is checked before it counts: a stream that ends without a
finish_reason (``truncated_stream``), an answer with no text and no tool call
(``empty_completion``) and a 200 whose body cannot be read
(``malformed_response``) fail the attempt like a 500 does. Retries are done
here, not by litellm (``max_retries=0``), so the span records the attempts that
really happened (``patchbay.attempts``, ``patchbay.attempt_errors``), waits
honour Retry-After, and no retry outlives the run's ``max_seconds``.

Streamed deltas go out live, tagged with their attempt number (1, 2, ... across
retries and fallbacks): when a ``node.delta`` arrives with a new attempt, the
text streamed before it is void.
"""
from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import os
import random
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from backend.engine.ports import DeltaCallback, LLMError, LLMRequest, LLMResult

from .demo import demo_answer
from .routes import ModelRoute

# Expected completion length when a call sets no max_tokens, for the budget estimate.
DEFAULT_COMPLETION_ESTIMATE = 256

_lock = threading.Lock()
_litellm: Any = None

Resolver = Callable[[str], Awaitable[ModelRoute]]


def litellm_module() -> Any:
    """Import and configure litellm once per process."""
    global _litellm
    if _litellm is None:
        with _lock:
            if _litellm is None:
                # No network at import: use the price map bundled in the wheel.
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                import litellm

                litellm.suppress_debug_info = True
                litellm.drop_params = True  # a param a provider lacks is dropped, not an error
                litellm.telemetry = False
                litellm.custom_provider_map = [
                    *[p for p in litellm.custom_provider_map if p.get("provider") != "demo"],
                    {"provider": "demo", "custom_handler": _make_demo_handler(litellm)},
                ]
                litellm.utils.custom_llm_setup()
                litellm.token_counter(model="gpt-4o-mini", text="warm up")  # loads the tokenizer now, not mid-run
                _litellm = litellm
    return _litellm


class LiteLLMGateway:
    def __init__(self, resolve: Resolver):
        self._resolve = resolve
        # The route found for a request's estimate is reused for its call: one registry read per call.
        self._estimated: dict[int, ModelRoute] = {}

    async def estimate_cost(self, request: LLMRequest) -> float:
        litellm = litellm_module()
        route = await self._resolve(request.alias)
        self._estimated[id(request)] = route
        prompt_tokens = litellm.token_counter(model=_token_model(route), messages=request.messages)
        completion_tokens = request.params.get("max_tokens") or DEFAULT_COMPLETION_ESTIMATE
        return sum(_price(route, prompt_tokens, completion_tokens))

    async def complete(self, request: LLMRequest, on_delta: DeltaCallback | None = None) -> LLMResult:
        route = self._estimated.pop(id(request), None) or await self._resolve(request.alias)
        litellm_module()  # the first import takes seconds: never inside an attempt's timeout
        # The run's time budget is a deadline for every attempt and every fallback together.
        deadline = None if request.timeout_s is None else time.monotonic() + request.timeout_s
        log = _AttemptLog()
        failures: list[str] = []
        failed_aliases: list[str] = []
        last: LLMError | None = None
        for candidate in (route, *route.fallbacks):
            if not candidate.enabled:
                failures.append(f"{candidate.alias} is switched off")
                failed_aliases.append(candidate.alias)
                continue
            try:
                result = await self._call_with_retries(candidate, request, on_delta, deadline, log)
            except LLMError as exc:
                failures.append(f"{candidate.alias} ({candidate.model}): {exc}")
                failed_aliases.append(candidate.alias)
                last = exc
                continue
            result.fallback_from = failed_aliases
            result.attempts = log.count
            if log.errors:
                result.attributes["patchbay.attempt_errors"] = list(log.errors)
            return result
        if last is None:
            raise LLMError(f"disabled: model alias '{request.alias}' is switched off and has no fallback that is on",
                           kind="disabled", model=route.model)
        # The error text starts with the kind (it is also the span's error.type), then each candidate's story.
        raise LLMError(f"{last.kind}: " + "; then ".join(failures), kind=last.kind, attempts=log.count,
                       model=last.model, attributes={"patchbay.attempt_errors": list(log.errors)})

    async def _call_with_retries(self, route: ModelRoute, request: LLMRequest, on_delta: DeltaCallback | None,
                                 deadline: float | None, log: _AttemptLog) -> LLMResult:
        """Call one route up to 1 + max_retries times; litellm itself never retries (max_retries=0)."""
        tries = route.max_retries + 1
        for n in range(1, tries + 1):
            timeout = route.timeout_s if deadline is None else min(route.timeout_s, deadline - time.monotonic())
            if timeout <= MIN_ATTEMPT_S:
                raise LLMError(f"timed out: the run's time budget ran out before attempt {n}",
                               kind="timeout", attempts=n - 1, model=route.model)
            log.count += 1
            attempt = log.count
            deltas = None if on_delta is None else functools.partial(_delta_of_attempt, on_delta, attempt)
            try:
                try:
                    # A hard bound on the whole attempt: litellm's timeout is per read, and a stream that
                    # trickles forever must not outlive the route's timeout or the run's max_seconds.
                    async with asyncio.timeout(timeout):
                        return await self._call(route, request, deltas, timeout)
                except TimeoutError as exc:
                    raise AttemptFailed("timeout", "timed out", f"no answer within {timeout:.3g} s") from exc
            except AttemptFailed as failure:
                log.errors.append(f"{route.alias} attempt {n}: {failure.kind}: {failure.text}: {failure.detail}")
                if not failure.retryable or n == tries:
                    raise failure.as_llm_error(route, n) from failure
                delay = _backoff(route, n, failure.retry_after)
                if delay is None:
                    raise failure.as_llm_error(route, n, f"asked to wait {failure.retry_after:g} s") from failure
                if deadline is not None and time.monotonic() + delay + MIN_ATTEMPT_S >= deadline:
                    raise failure.as_llm_error(route, n, "no time left to retry") from failure
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _call(self, route: ModelRoute, request: LLMRequest, on_delta: Callable[[str], None] | None,
                    timeout: float) -> LLMResult:
        """One attempt. Raises AttemptFailed with its kind; the answer is checked before it counts."""
        litellm = litellm_module()
        kwargs: dict[str, Any] = {
            "model": route.model,
            "messages": request.messages,
            "max_retries": 0,  # retries are ours (_call_with_retries): counted, classified, within the deadline
            "timeout": timeout,
            **request.params,
        }
        if route.api_base:
            kwargs["api_base"] = route.api_base
        if route.api_key:
            kwargs["api_key"] = route.api_key
        if route.is_demo:
            kwargs["metadata"] = {"demo_latency_ms": route.demo_latency_ms}
        if request.response_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.response_schema},
            }
        started = time.monotonic()
        if request.stream:
            answer = await self._stream(litellm, kwargs, on_delta)
        else:
            answer = await self._plain(litellm, kwargs)
        answer.check(structured=request.response_schema is not None)
        text, usage = answer.text, answer.usage
        prompt_tokens = getattr(usage, "prompt_tokens", None) or litellm.token_counter(
            model=_token_model(route), messages=request.messages)
        completion_tokens = getattr(usage, "completion_tokens", None) or litellm.token_counter(
            model=_token_model(route), text=text)
        input_cost, output_cost = _price(route, prompt_tokens, completion_tokens)
        return LLMResult(
            text=text,
            model=route.model,
            input_tokens=int(prompt_tokens),
            output_tokens=int(completion_tokens),
            cost_usd=input_cost + output_cost,
            demo=route.is_demo,
            attributes={
                "gen_ai.system": route.model.split("/", 1)[0],
                "gen_ai.response.finish_reasons": [answer.finish_reason or "unknown"],
                "patchbay.max_retries": route.max_retries,
                "patchbay.provider_ms": round((time.monotonic() - started) * 1000, 3),
            },
        )

    async def _plain(self, litellm: Any, kwargs: dict[str, Any]) -> _Answer:
        try:
            response = await litellm.acompletion(**kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _classify(litellm, exc, in_stream=False) from exc
        usage = getattr(response, "usage", None)
        if not response.choices:
            return _Answer("", usage, finish_reason=None, no_choices=True)
        choice = response.choices[0]
        return _Answer(choice.message.content or "", usage, finish_reason=choice.finish_reason,
                       tool_calls=bool(getattr(choice.message, "tool_calls", None)))

    async def _stream(self, litellm: Any, kwargs: dict[str, Any], on_delta: Callable[[str], None] | None
                      ) -> _Answer:
        try:
            stream = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _classify(litellm, exc, in_stream=False) from exc
        parts: list[str] = []
        usage = None
        tool_calls = False
        chunks = aiter(stream)
        while True:
            # Only reading the stream is the provider's doing; a failing on_delta is not a provider error.
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise _classify(litellm, exc, in_stream=True, deltas=len(parts)) from exc
            if getattr(chunk, "usage", None):
                usage = chunk.usage
            if chunk.choices:
                delta = chunk.choices[0].delta
                tool_calls = tool_calls or bool(getattr(delta, "tool_calls", None))
                if delta.content:
                    parts.append(delta.content)
                    if on_delta is not None:
                        on_delta(delta.content)
        # litellm makes up finish_reason "stop" for a stream that just stops; what the provider
        # actually sent is on the wrapper. None means the stream never said it was done.
        finish = getattr(stream, "received_finish_reason", None)
        return _Answer("".join(parts), usage, finish_reason=finish, tool_calls=tool_calls,
                       streamed=True, deltas=len(parts))


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

    def as_llm_error(self, route: ModelRoute, attempts: int, note: str = "") -> LLMError:
        suffix = f" after {attempts} attempts" if attempts > 1 else ""
        note = f" ({note})" if note else ""
        return LLMError(f"{self.text}{suffix}{note}: {self.detail}", kind=self.kind, attempts=attempts,
                        model=route.model)


@dataclass
class _AttemptLog:
    """Every attempt of one call, across retries and fallbacks: the span records what happened."""
    count: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Answer:
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


def _delta_of_attempt(on_delta: DeltaCallback, attempt: int, text: str) -> None:
    on_delta(text, attempt=attempt)


def _backoff(route: ModelRoute, attempt: int, retry_after: float | None) -> float | None:
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


# litellm stacks wrapper names in front of the provider's message: "litellm.X: X: OpenAIException - ...".
_WRAPPER_PREFIX = re.compile(r"^(?:litellm\.\w+: |\w+(?:Error|Exception): |OpenAIException - )+")


def _detail(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    if not text:
        return type(exc).__name__
    return _WRAPPER_PREFIX.sub("", text.splitlines()[0])[:300] or type(exc).__name__


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


def _classify(litellm: Any, exc: Exception, *, in_stream: bool, deltas: int = 0) -> AttemptFailed:
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


def _token_model(route: ModelRoute) -> str:
    # Demo and self-hosted models have no tokenizer of their own in litellm: count as gpt-4o-mini.
    return "gpt-4o-mini" if route.is_demo or route.api_base else route.model


def _price(route: ModelRoute, prompt_tokens: int, completion_tokens: int) -> tuple[float, float]:
    litellm = litellm_module()
    if route.input_cost_per_token is not None or route.output_cost_per_token is not None:
        custom = {"input_cost_per_token": route.input_cost_per_token or 0.0,
                  "output_cost_per_token": route.output_cost_per_token or 0.0}
        return litellm.cost_per_token(model=route.model, prompt_tokens=prompt_tokens,
                                      completion_tokens=completion_tokens, custom_cost_per_token=custom)
    try:
        return litellm.cost_per_token(model=route.model, prompt_tokens=prompt_tokens,
                                      completion_tokens=completion_tokens)
    except Exception:
        return 0.0, 0.0  # a model missing from the price map is free as far as budgets can tell


def _make_demo_handler(litellm: Any) -> Any:
    """The demo provider as a litellm custom provider ("demo/<name>")."""
    from litellm import CustomLLM, ModelResponse

    def answer(messages: list, optional_params: dict) -> str:
        response_format = optional_params.get("response_format") or {}
        schema = (response_format.get("json_schema") or {}).get("schema")
        return demo_answer(messages, schema, optional_params.get("seed"))

    def latency_s(litellm_params: dict | None) -> float:
        return (((litellm_params or {}).get("metadata") or {}).get("demo_latency_ms") or 0) / 1000

    async def pause(litellm_params: dict | None) -> None:
        if latency := latency_s(litellm_params):
            await asyncio.sleep(latency)

    def usage_for(messages: list, text: str) -> dict:
        prompt = litellm.token_counter(model="gpt-4o-mini", messages=messages)
        completion = max(1, litellm.token_counter(model="gpt-4o-mini", text=text))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    class DemoLLM(CustomLLM):  # type: ignore[misc]
        async def acompletion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                              model_response: Any, print_verbose: Any, encoding: Any, api_key: Any,
                              logging_obj: Any, optional_params: dict, acompletion: Any = None,
                              litellm_params: dict | None = None, **kwargs: Any) -> Any:
            await pause(litellm_params)
            text = answer(messages, optional_params)
            # Built directly: routing a demo answer through mock_response would pay litellm's cost twice.
            return ModelResponse(
                model=model,
                choices=[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                usage=usage_for(messages, text),
            )

        async def astreaming(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                             model_response: Any, print_verbose: Any, encoding: Any, api_key: Any,
                             logging_obj: Any, optional_params: dict, acompletion: Any = None,
                             litellm_params: dict | None = None, **kwargs: Any) -> AsyncIterator[dict]:
            # Paced like a real model: the first token after a quarter of the latency, the rest spread over
            # the words, so a slow demo alias streams for as long as it takes.
            latency = latency_s(litellm_params)
            text = answer(messages, optional_params)
            words = text.split(" ")
            if latency:
                await asyncio.sleep(latency / 4)
            for i, word in enumerate(words):
                last = i == len(words) - 1
                if latency and i:
                    await asyncio.sleep(latency * 3 / 4 / max(1, len(words) - 1))
                yield {
                    "text": word if last else word + " ",
                    "is_finished": last,
                    "finish_reason": "stop" if last else "",
                    "usage": usage_for(messages, text) if last else None,
                    "index": 0,
                    "tool_use": None,
                }

    return DemoLLM()

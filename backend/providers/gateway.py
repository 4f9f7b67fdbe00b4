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
import dataclasses
import functools
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from backend.engine.ports import DeltaCallback, LLMError, LLMRequest, LLMResult

from .attempts import (
    MIN_ATTEMPT_S,
    Answer,
    AttemptFailed,
    AttemptLog,
    backoff_s,
    classify_failure,
    delta_of_attempt,
)
from .breaker import Gate, RedisBreaker, shared_breaker
from .demo_provider import make_demo_handler
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
                    {"provider": "demo", "custom_handler": make_demo_handler(litellm)},
                ]
                litellm.utils.custom_llm_setup()
                litellm.token_counter(model="gpt-4o-mini", text="warm up")  # loads the tokenizer now, not mid-run
                _litellm = litellm
    return _litellm


class LiteLLMGateway:
    def __init__(self, resolve: Resolver, breaker: RedisBreaker | None = None,
                 stream_when: Callable[[], Awaitable[bool]] | None = None):
        self._resolve = resolve
        self._breaker = breaker or shared_breaker()
        # Asked before a streamed call: is anyone reading the deltas live (runs/live_deltas.py)? If not, the
        # answer is asked for whole, at a third of the CPU. None: always stream what the step asks to stream.
        # One that names its Redis ``keys`` (and decides with ``wanted(values)``) is read in the circuit
        # breaker's round trip before the call instead of one of its own.
        self._stream_when = stream_when
        # The route found for a request's estimate is reused for its call: one registry read per call.
        self._estimated: dict[int, ModelRoute] = {}

    async def resolved_model(self, alias: str) -> dict[str, Any]:
        """The model that would answer: the alias's own, or, switched off, its first fallback switched on (so an
        answer cached before the kill switch is not served in place of the fallback's)."""
        route = await self._resolve(alias)
        answering = next((r for r in (route, *route.fallbacks) if r.enabled), route)
        return {"model": answering.model, "api_base": answering.api_base or None, "enabled": answering.enabled}

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
        log = AttemptLog()
        failures: list[str] = []
        skipped: list[tuple[str, str]] = []  # (alias, why: disabled | circuit_open | error)
        last: LLMError | None = None
        for candidate in (route, *route.fallbacks):
            if not candidate.enabled:
                failures.append(f"{candidate.alias} is switched off")
                skipped.append((candidate.alias, "disabled"))
                continue
            gate = await self._breaker.allow(candidate, peek=self._stream_keys(request))
            if not gate.allowed:
                failures.append(f"{candidate.alias}'s circuit is open{_until(gate.until)}")
                skipped.append((candidate.alias, "circuit_open"))
                continue
            try:
                result = await self._call_with_retries(candidate, request, on_delta, deadline, log, gate)
            except LLMError as exc:
                failures.append(f"{candidate.alias} ({candidate.model}): {exc}")
                skipped.append((candidate.alias, "error"))
                last = exc
                continue
            result.fallback_from = [alias for alias, _ in skipped]
            result.attempts = log.count
            if skipped:
                # Why the requested alias did not answer; with a chain, why each one before the answer did not.
                result.attributes["patchbay.fallback_reason"] = skipped[0][1]
                if len(skipped) > 1:
                    result.attributes["patchbay.fallback_reasons"] = [why for _, why in skipped]
            if log.errors:
                result.attributes["patchbay.attempt_errors"] = list(log.errors)
            return result
        raise _nobody_answered(request.alias, route, skipped, failures, last, log)

    def _stream_keys(self, request: LLMRequest) -> tuple[str, ...]:
        return tuple(getattr(self._stream_when, "keys", ())) if request.stream else ()

    async def _streams(self, request: LLMRequest, peeked: tuple[Any, ...] | None) -> bool:
        """Ask for this attempt's answer as a stream? ``peeked``: the stream_when keys, read with the breaker."""
        if not request.stream or self._stream_when is None:
            return request.stream
        if peeked is not None:
            return bool(getattr(self._stream_when, "wanted", any)(peeked))
        return await self._stream_when()

    async def _call_with_retries(self, route: ModelRoute, request: LLMRequest, on_delta: DeltaCallback | None,
                                 deadline: float | None, log: AttemptLog, gate: Gate) -> LLMResult:
        """Call one route up to 1 + max_retries times; litellm itself never retries (max_retries=0).

        A half-open probe makes one attempt; a failure that opens the circuit ends the retries."""
        tries = 1 if gate.probe else route.max_retries + 1
        for n in range(1, tries + 1):
            timeout = route.timeout_s if deadline is None else min(route.timeout_s, deadline - time.monotonic())
            if timeout <= MIN_ATTEMPT_S:
                raise LLMError(f"timed out: the run's time budget ran out before attempt {n}",
                               kind="timeout", attempts=n - 1, model=route.model)
            log.count += 1
            attempt = log.count
            deltas = None if on_delta is None else functools.partial(delta_of_attempt, on_delta, attempt)
            try:
                try:
                    # A hard bound on the whole attempt: litellm's timeout is per read, and a stream that
                    # trickles forever must not outlive the route's timeout or the run's max_seconds.
                    async with asyncio.timeout(timeout):
                        # The marks read with the breaker hold for the first attempt; a retry asks again.
                        result = await self._call(route, request, deltas, gate.peeked if n == 1 else None)
                except TimeoutError as exc:
                    raise AttemptFailed("timeout", "timed out", f"no answer within {timeout:.3g} s") from exc
            except AttemptFailed as caught:
                failure = caught.without(route.api_key)
                log.errors.append(f"{route.alias} attempt {n}: {failure.kind}: {failure.text}: {failure.detail}")
                # Only the provider's failures count against it; a request it refused (4xx) is the caller's.
                opened = failure.retryable and await self._breaker.failure(
                    route, gate, f"{failure.kind}: {failure.text}: {failure.detail}")
                if opened:
                    raise failure.as_llm_error(route, n, "its circuit is now open") from failure
                gate = dataclasses.replace(gate, clean=gate.clean and not failure.retryable)  # a later success resets
                if not failure.retryable or n == tries:
                    raise failure.as_llm_error(route, n) from failure
                delay = backoff_s(route, n, failure.retry_after)
                if delay is None:
                    raise failure.as_llm_error(route, n, f"asked to wait {failure.retry_after:g} s") from failure
                if deadline is not None and time.monotonic() + delay + MIN_ATTEMPT_S >= deadline:
                    raise failure.as_llm_error(route, n, "no time left to retry") from failure
                await asyncio.sleep(delay)
                continue
            await self._breaker.success(route, gate)
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _call(self, route: ModelRoute, request: LLMRequest, on_delta: Callable[[str], None] | None,
                    peeked: tuple[Any, ...] | None) -> LLMResult:
        """One attempt. Raises AttemptFailed with its kind; the answer is checked before it counts."""
        litellm = litellm_module()
        kwargs: dict[str, Any] = {
            "model": route.model,
            "messages": request.messages,
            "max_retries": 0,  # retries are ours (_call_with_retries): counted, classified, within the deadline
            # The route's own timeout, not the attempt's: litellm keeps one openai client (with its connection
            # pool) per (key, base, timeout, ...) and builds a new one, with a new TCP connection, for every new
            # value. The attempt's shorter bound (the run's deadline) is the asyncio.timeout around this call.
            "timeout": route.timeout_s,
            **request.params,
        }
        if route.api_base:
            kwargs["api_base"] = route.api_base
        if route.api_key:
            kwargs["api_key"] = route.api_key
        if route.is_demo:
            kwargs["metadata"] = {"demo_latency_ms": route.demo_latency_ms,
                                  "demo_tokens_per_s": route.demo_tokens_per_s}
        if request.response_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.response_schema},
            }
        started = time.monotonic()
        if await self._streams(request, peeked):
            answer = await self._stream(litellm, kwargs, on_delta)
        else:
            answer = await self._plain(litellm, {**kwargs, "model": litellm_model(route, streamed=False)})
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

    async def _plain(self, litellm: Any, kwargs: dict[str, Any]) -> Answer:
        try:
            response = await litellm.acompletion(**kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise classify_failure(litellm, exc, in_stream=False) from exc
        usage = getattr(response, "usage", None)
        if not response.choices:
            return Answer("", usage, finish_reason=None, no_choices=True)
        choice = response.choices[0]
        return Answer(choice.message.content or "", usage, finish_reason=choice.finish_reason,
                       tool_calls=bool(getattr(choice.message, "tool_calls", None)))

    async def _stream(self, litellm: Any, kwargs: dict[str, Any], on_delta: Callable[[str], None] | None
                      ) -> Answer:
        try:
            stream = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise classify_failure(litellm, exc, in_stream=False) from exc
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
                raise classify_failure(litellm, exc, in_stream=True, deltas=len(parts)) from exc
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
        return Answer("".join(parts), usage, finish_reason=finish, tool_calls=tool_calls,
                       streamed=True, deltas=len(parts))


# A litellm provider that speaks the OpenAI chat API through litellm's own HTTP handler (BaseLLMHTTPHandler)
# instead of the openai SDK: the same request and response shapes (its config is OpenAIGPTConfig's), the same
# exception mapping (it is one of litellm.openai_compatible_providers), ~25 % less CPU per call
# (bench/model_call_cpu.py).
SELF_HOSTED_OPENAI = "hosted_vllm"


def litellm_model(route: ModelRoute, *, streamed: bool) -> str:
    """The model string handed to litellm for one attempt on ``route``; what the user sees (span, cost, price
    map, error kinds) stays ``route.model``'s.

    A whole (not streamed) answer from an ``openai/`` route with its own api_base and key, i.e. an
    OpenAI-compatible server (the fake model, vLLM, llama.cpp, a gateway), is asked for through litellm's
    ``hosted_vllm`` provider instead of the openai SDK's request building and response parsing. It stays
    ``openai/``: without a key of its own (litellm fills in OPENAI_API_KEY there, ``hosted_vllm`` would not), and
    for a stream (litellm's handler skips a data line that is not JSON where the openai SDK raises, and such a
    stream must fail as ``malformed_response``).
    """
    if not streamed and route.api_base and route.api_key and route.model.startswith("openai/"):
        return f"{SELF_HOSTED_OPENAI}/{route.model.removeprefix('openai/')}"
    return route.model


def _until(epoch_s: float | None) -> str:
    return "" if epoch_s is None else " until " + time.strftime("%H:%M:%S UTC", time.gmtime(epoch_s))


def _nobody_answered(alias: str, route: ModelRoute, skipped: list[tuple[str, str]], failures: list[str],
                     last: LLMError | None, log: AttemptLog) -> LLMError:
    """The error when no candidate answered. Its text starts with the kind (also the span's error.type)."""
    if last is None:
        # Nothing was called: every candidate was switched off or had its circuit open.
        kind = "model_unavailable" if any(why == "circuit_open" for _, why in skipped) else "model_disabled"
        head = (f"model alias '{alias}' is switched off" if skipped[0][1] == "disabled"
                else f"model alias '{alias}' is unavailable (its circuit is open after repeated failures)")
        rest = "; ".join(failures[1:])
        tail = f"; its fallbacks: {rest}" if rest else " and it has no fallback"
        return LLMError(f"{kind}: {head}{tail}", kind=kind, attempts=0, model=route.model,
                        attributes={"patchbay.fallback_reasons": [why for _, why in skipped]})
    return LLMError(f"{last.kind}: " + "; then ".join(failures), kind=last.kind, attempts=log.count,
                    model=last.model, attributes={"patchbay.attempt_errors": list(log.errors)})


def priced_answer(route: ModelRoute, messages: list[dict[str, str]], text: str) -> tuple[int, int, float]:
    """(input tokens, output tokens, USD) of ``text`` answering ``messages`` as ``route`` would bill it: the dry
    runs of a cost projection (insights/projection.py) price their demo answers here, with no provider call."""
    litellm = litellm_module()
    model = _token_model(route)
    prompt_tokens = litellm.token_counter(model=model, messages=messages)
    completion_tokens = max(1, litellm.token_counter(model=model, text=text))
    return prompt_tokens, completion_tokens, sum(_price(route, prompt_tokens, completion_tokens))


def _token_model(route: ModelRoute) -> str:
    # Demo and self-hosted models have no tokenizer of their own in litellm: count as gpt-4o-mini.
    return "gpt-4o-mini" if route.is_demo or route.api_base else route.model


def _price(route: ModelRoute, prompt_tokens: int, completion_tokens: int) -> tuple[float, float]:
    return _price_of(route.model, route.input_cost_per_token, route.output_cost_per_token, int(prompt_tokens),
                     int(completion_tokens))


# litellm prices a call by looking its model up in the price map (~0.5 ms of CPU, twice per call: the estimate
# and the answer); the price map is read-only here (nothing calls litellm.register_model), so the same model,
# prices and token counts always cost the same and are computed once.
@functools.lru_cache(maxsize=4096)
def _price_of(model: str, input_cost_per_token: float | None, output_cost_per_token: float | None,
              prompt_tokens: int, completion_tokens: int) -> tuple[float, float]:
    litellm = litellm_module()
    if input_cost_per_token is not None or output_cost_per_token is not None:
        custom = {"input_cost_per_token": input_cost_per_token or 0.0,
                  "output_cost_per_token": output_cost_per_token or 0.0}
        return litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                      completion_tokens=completion_tokens, custom_cost_per_token=custom)
    try:
        return litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    except Exception:
        return 0.0, 0.0  # a model missing from the price map is free as far as budgets can tell

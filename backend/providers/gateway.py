"""The LLM gateway: the one module that imports litellm.

It implements the engine's ``llm`` port: resolves an alias to a route, honours
the kill switch, walks the fallback chain, and leaves retries, token counting,
pricing, streaming and structured output to litellm. litellm is imported on
first use (it takes seconds), so processes that never call a model don't pay.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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
        failures: list[str] = []
        for candidate in (route, *route.fallbacks):
            if not candidate.enabled:
                failures.append(f"{candidate.alias} is switched off")
                continue
            try:
                result = await self._call(candidate, request, on_delta)
            except LLMError as exc:
                failures.append(f"{candidate.alias} ({candidate.model}): {exc}")
                last = exc
                continue
            result.fallback_from = [f.split(" ", 1)[0] for f in failures]
            return result
        if not failures or all(f.endswith("is switched off") for f in failures):
            raise LLMError(f"model alias '{request.alias}' is switched off and has no fallback that is on",
                           kind="disabled", model=route.model)
        raise LLMError("; then ".join(failures), kind=last.kind, attempts=last.attempts, model=last.model)

    async def _call(self, route: ModelRoute, request: LLMRequest, on_delta: DeltaCallback | None) -> LLMResult:
        litellm = litellm_module()
        kwargs: dict[str, Any] = {
            "model": route.model,
            "messages": request.messages,
            "max_retries": route.max_retries,  # the OpenAI client's retries (see closing note on num_retries)
            "timeout": _timeout(route, request),
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
        try:
            if request.stream:
                text, usage = await self._stream(litellm, kwargs, on_delta)
            else:
                response = await litellm.acompletion(**kwargs)
                text = response.choices[0].message.content or ""
                usage = getattr(response, "usage", None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _as_llm_error(litellm, exc, route) from exc
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
                "patchbay.max_retries": route.max_retries,
                "patchbay.provider_ms": round((time.monotonic() - started) * 1000, 3),
            },
        )

    async def _stream(self, litellm: Any, kwargs: dict[str, Any], on_delta: DeltaCallback | None
                      ) -> tuple[str, Any]:
        stream = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
        parts: list[str] = []
        usage = None
        async for chunk in stream:
            if getattr(chunk, "usage", None):
                usage = chunk.usage
            if chunk.choices:
                delta = chunk.choices[0].delta.content
                if delta:
                    parts.append(delta)
                    if on_delta is not None:
                        on_delta(delta)
        return "".join(parts), usage


def _timeout(route: ModelRoute, request: LLMRequest) -> float:
    if request.timeout_s is None:
        return route.timeout_s
    return max(0.05, min(route.timeout_s, request.timeout_s))


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


def _as_llm_error(litellm: Any, exc: Exception, route: ModelRoute) -> LLMError:
    status = getattr(exc, "status_code", None)
    retryable = isinstance(exc, (litellm.RateLimitError, litellm.Timeout, litellm.InternalServerError,
                                 litellm.ServiceUnavailableError, litellm.APIConnectionError))
    attempts = route.max_retries + 1 if retryable else 1
    if isinstance(exc, litellm.Timeout):
        kind, text = "timeout", "timed out"
    elif isinstance(exc, litellm.RateLimitError):
        kind, text = "rate_limit", "rate limited (429)"
    elif isinstance(exc, (litellm.BadRequestError, litellm.AuthenticationError, litellm.NotFoundError)):
        kind, text = "bad_request", f"refused the request ({status})"
    else:
        kind, text = "provider", f"provider error{f' {status}' if status else ''}"
    detail = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
    suffix = f" after {attempts} attempts" if attempts > 1 else ""
    return LLMError(f"{text}{suffix}: {detail}", kind=kind, attempts=attempts, model=route.model)


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

"""The demo models as a litellm custom provider ("demo/<name>"): offline, deterministic, paced like a model.

The litellm module is passed in (gateway.py is the one module that imports it).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from .demo import demo_answer


def make_demo_handler(litellm: Any) -> Any:
    """The demo provider as a litellm custom provider ("demo/<name>")."""
    CustomLLM, ModelResponse = litellm.CustomLLM, litellm.ModelResponse

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

    class DemoLLM(CustomLLM):  # type: ignore[misc,valid-type]  # litellm is imported lazily, in the function
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

"""The demo models as a litellm custom provider ("demo/<name>"): offline, deterministic, paced like a model.

The litellm module is passed in (gateway.py is the one module that imports it).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .demo import demo_answer


def word_chunks(text: str) -> list[str]:
    """The answer in streamed pieces: one word each, with the space that follows it."""
    words = text.split(" ")
    return [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)]


def approx_tokens(chunk: str) -> int:
    """About four characters a token, as for English text; the pacing needs no tokenizer."""
    return max(1, round(len(chunk) / 4))


@dataclass(frozen=True)
class DemoPace:
    """How fast a demo alias answers: time to the first token, then tokens per second (0: all at once)."""

    first_token_s: float = 0.0
    tokens_per_s: float = 0.0

    def delays(self, chunks: list[str]) -> list[float]:
        """The wait before each streamed chunk."""
        per_token = 1 / self.tokens_per_s if self.tokens_per_s > 0 else 0.0
        return [self.first_token_s if i == 0 else approx_tokens(chunk) * per_token for i, chunk in enumerate(chunks)]

    def total_s(self, text: str) -> float:
        """How long the whole answer takes, for a call that does not stream."""
        return sum(self.delays(word_chunks(text)))


def make_demo_handler(litellm: Any) -> Any:
    """The demo provider as a litellm custom provider ("demo/<name>")."""
    CustomLLM, ModelResponse = litellm.CustomLLM, litellm.ModelResponse

    def answer(messages: list, optional_params: dict) -> str:
        response_format = optional_params.get("response_format") or {}
        schema = (response_format.get("json_schema") or {}).get("schema")
        return demo_answer(messages, schema, optional_params.get("seed"))

    def pace(litellm_params: dict | None) -> DemoPace:
        metadata = (litellm_params or {}).get("metadata") or {}
        return DemoPace(first_token_s=(metadata.get("demo_latency_ms") or 0) / 1000,
                        tokens_per_s=metadata.get("demo_tokens_per_s") or 0)

    def usage_for(messages: list, text: str) -> dict:
        prompt = litellm.token_counter(model="gpt-4o-mini", messages=messages)
        completion = max(1, litellm.token_counter(model="gpt-4o-mini", text=text))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    class DemoLLM(CustomLLM):  # type: ignore[misc,valid-type]  # litellm is imported lazily, in the function
        async def acompletion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                              model_response: Any, print_verbose: Any, encoding: Any, api_key: Any,
                              logging_obj: Any, optional_params: dict, acompletion: Any = None,
                              litellm_params: dict | None = None, **kwargs: Any) -> Any:
            text = answer(messages, optional_params)
            if wait := pace(litellm_params).total_s(text):
                await asyncio.sleep(wait)
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
            # Paced like a real model: the first token after the alias's time to first token, then each
            # word as fast as its tokens per second allow, so a live run shows the answer being written.
            text = answer(messages, optional_params)
            chunks = word_chunks(text)
            for i, (chunk, wait) in enumerate(zip(chunks, pace(litellm_params).delays(chunks), strict=True)):
                if wait:
                    await asyncio.sleep(wait)
                last = i == len(chunks) - 1
                yield {
                    "text": chunk,
                    "is_finished": last,
                    "finish_reason": "stop" if last else "",
                    "usage": usage_for(messages, text) if last else None,
                    "index": 0,
                    "tool_use": None,
                }

    return DemoLLM()

"""llm: one model call — a step of a prompt chain."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema

from ..ports import LLMRequest
from ..problems import Problem
from ..templates import render_text
from .base import NodeFailed, NodeOutcome, NodeType

PROMPT_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*@([A-Za-z][A-Za-z0-9_-]*|[0-9]+)$"

MODEL_PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Model parameters",
    "properties": {
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 200000},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "seed": {"type": "integer"},
        "stop": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
    },
    "additionalProperties": False,
}


class LLMNode(NodeType):
    type_name = "llm"
    title = "LLM step"
    pattern = "chaining"
    description = "Ask a model to do one well-defined step. Chain several to split a hard task into easy ones."
    config_schema = {
        "type": "object",
        "properties": {
            "model": {"type": "string", "title": "Model", "description": "A model alias: fast, frontier, judge..."},
            "prompt": {"type": "string", "title": "Prompt", "format": "template", "maxLength": 100000,
                       "description": "What to ask. Use {{ input.x }} and {{ nodes.<id>.output }}."},
            "system": {"type": "string", "title": "System prompt", "format": "template", "maxLength": 100000},
            "prompt_ref": {"type": "string", "title": "Saved prompt", "pattern": PROMPT_REF_PATTERN,
                           "description": "Use a saved prompt instead: name@production, name@staging or name@3."},
            "params": MODEL_PARAMS_SCHEMA,
            "output_schema": {"type": "object", "title": "Structured output (JSON schema)",
                              "description": "Ask for JSON of this shape; the answer is checked against it."},
            "stream": {"type": "boolean", "title": "Stream tokens", "default": False},
            "cache": {"type": "boolean", "title": "Cache answers",
                      "description": "Default: cache only when temperature is 0."},
        },
        "required": ["model"],
        "additionalProperties": False,
    }

    def templates(self, config: Mapping[str, Any], ctx: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
        for key in ("prompt", "system"):
            if isinstance(config.get(key), str):
                yield (key,), config[key]
        ref = config.get("prompt_ref")
        prompt = (ctx.prompts or {}).get(ref) if isinstance(ref, str) else None
        if prompt is not None:
            yield ("prompt_ref",), prompt.template
            if prompt.system:
                yield ("prompt_ref",), prompt.system

    def check(self, node: Any, spec: Any, ctx: Any) -> Iterable[Problem]:
        base = f"nodes[{node.index}].config"
        config = node.config
        has_prompt, has_ref = "prompt" in config, "prompt_ref" in config
        if has_prompt == has_ref:
            yield Problem(f"{base}.prompt", "write a prompt or pick a saved prompt (prompt_ref), exactly one",
                          node.id)
        ref = config.get("prompt_ref")
        if has_ref and ctx.prompts is not None and ref not in ctx.prompts:
            yield Problem(f"{base}.prompt_ref", f"no saved prompt matches '{ref}'", node.id)
        model = config.get("model")
        if ctx.model_aliases is not None and model not in ctx.model_aliases:
            known = ", ".join(sorted(ctx.model_aliases)) or "none"
            yield Problem(f"{base}.model", f"unknown model alias '{model}' (known: {known})", node.id)
        schema = config.get("output_schema")
        if isinstance(schema, dict):
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as exc:
                yield Problem(f"{base}.output_schema", f"not a valid JSON schema: {exc.message}", node.id)

    async def run(self, node: Any, ctx: Any) -> NodeOutcome:
        config = node.config
        variables = ctx.template_context
        if "prompt_ref" in config:
            prompt = ctx.prompts.get(config["prompt_ref"])
            if prompt is None:
                raise NodeFailed(f"no saved prompt matches '{config['prompt_ref']}'")
            user, system = prompt.template, prompt.system
            ctx.span.attributes["patchbay.prompt.ref"] = prompt.ref
            if prompt.version_id:
                ctx.span.attributes["patchbay.prompt.version_id"] = prompt.version_id
        else:
            user, system = config["prompt"], config.get("system")
        messages = []
        if system:
            messages.append({"role": "system", "content": render_text(system, variables)})
        messages.append({"role": "user", "content": render_text(user, variables)})
        request = LLMRequest(
            alias=config["model"],
            messages=messages,
            params=dict(config.get("params") or {}),
            response_schema=config.get("output_schema"),
            stream=bool(config.get("stream", False)),
            cache=config.get("cache"),
        )
        result = await ctx.call_llm(request)
        return NodeOutcome(output=result.parsed if request.response_schema is not None else result.text)

"""llm: one model call — a step of a prompt chain."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..problems import Problem
from ..steps import LLM_STEP_PROPERTIES, check_step, run_step, step_templates
from .base import NodeOutcome, NodeType


class LLMNode(NodeType):
    type_name = "llm"
    title = "LLM step"
    pattern = "chaining"
    description = "Ask a model to do one well-defined step. Chain several to split a hard task into easy ones."
    config_schema = {
        "type": "object",
        "properties": {
            **LLM_STEP_PROPERTIES,
            "stream": {"type": "boolean", "title": "Stream tokens", "default": False},
        },
        "required": ["model"],
        "additionalProperties": False,
    }

    def templates(self, config: Mapping[str, Any], ctx: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
        return step_templates(config, (), ctx.prompts)

    def check(self, node: Any, spec: Any, ctx: Any) -> Iterable[Problem]:
        return check_step(node.config, f"nodes[{node.index}].config", node.id, ctx)

    async def run(self, node: Any, ctx: Any) -> NodeOutcome:
        output = await run_step(ctx, node.config, stream=bool(node.config.get("stream", False)))
        return NodeOutcome(output=output)

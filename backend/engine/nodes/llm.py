"""llm: one model call — a step of a prompt chain."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..problems import Problem
from ..steps import LLM_STEP_PROPERTIES, check_step, run_step, step_templates
from .base import NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext


@dataclass(frozen=True)
class LLMConfig:
    stream: bool  # the rest of the config is the step itself, handed to run_step as written


class LLMNode(NodeType):
    type_name = "llm"
    title = "LLM step"
    pattern = "chaining"
    description = "Ask a model to do one well-defined step. Chain several to split a hard task into easy ones."
    config_schema = {
        "type": "object",
        "properties": {
            **LLM_STEP_PROPERTIES,
            "stream": {"type": "boolean", "title": "Stream tokens", "default": True},
        },
        "required": ["model"],
        "additionalProperties": False,
    }

    def parse(self, config: Mapping[str, Any]) -> LLMConfig:
        return parse_config(LLMConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple[tuple[str | int, ...], str]]:
        return step_templates(config, (), ctx.prompts)

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        return check_step(node.config, f"nodes[{node.index}].config", node.id, ctx)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        output = await run_step(ctx, node.config, stream=bool(self.parse(node.config).stream))
        return NodeOutcome(output=output)
